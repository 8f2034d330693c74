//! Measurements: each client records into its own HdrHistogram (µs, 3 significant
//! digits) and error tally, so the hot path takes no lock; the runner merges them when
//! the run ends.

pub mod errors;
pub mod timeline;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::client::DbError;
use errors::ErrorTally;
use timeline::{Second, Timeline};

/// Latencies above an hour are recorded as an hour.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Significant digits of the run's latency histogram.
const SIGFIG: u8 = 3;

/// µs to ms.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// An empty latency histogram (µs).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG)
        .expect("constant histogram bounds are valid")
}

/// The latency figures of a report, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest recorded.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// Percentiles of a histogram in µs (all zero when it is empty).
    pub fn of(histogram: &Histogram<u64>) -> Latency {
        if histogram.is_empty() {
            return Latency::default();
        }
        let q = |quantile| ms(histogram.value_at_quantile(quantile));
        Latency {
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1000.0,
        }
    }
}

/// One client's measurements while it runs.
pub struct Recorder {
    latency: Histogram<u64>,
    errors: ErrorTally,
    transactions: u64,
    late: u64,
    unissued: u64,
    current: Option<(u64, Second)>,
    timeline: Arc<Mutex<Timeline>>,
}

impl Recorder {
    /// A recorder that hands finished seconds to `timeline`.
    pub fn new(timeline: Arc<Mutex<Timeline>>) -> Recorder {
        Recorder {
            latency: latency_histogram(),
            errors: ErrorTally::default(),
            transactions: 0,
            late: 0,
            unissued: 0,
            current: None,
            timeline,
        }
    }

    /// A transaction succeeded after `latency`; it ended `at` into the measured run.
    pub fn success(&mut self, latency: Duration, at: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, MAX_LATENCY_US);
        self.latency.saturating_record(us);
        self.transactions += 1;
        let second = self.second(at);
        second.count += 1;
        second.latency.saturating_record(us);
    }

    /// A transaction failed; it ended `at` into the measured run.
    pub fn failure(&mut self, error: &DbError, at: Duration) {
        self.errors.add(error);
        self.second(at).errors += 1;
    }

    /// A transaction started after its scheduled time (open loop).
    pub fn late(&mut self) {
        self.late += 1;
    }

    /// Open-loop transactions that were due before the end but never started (the
    /// client was still busy, or lost, when the measurement ended).
    pub fn unissued(&mut self, n: u64) {
        self.unissued += n;
    }

    fn second(&mut self, at: Duration) -> &mut Second {
        let index = at.as_secs();
        if self.current.as_ref().is_some_and(|(i, _)| *i != index) {
            self.flush();
        }
        &mut self.current.get_or_insert_with(|| (index, Second::new())).1
    }

    fn flush(&mut self) {
        if let Some((index, second)) = self.current.take() {
            let mut timeline = self.timeline.lock().unwrap_or_else(PoisonError::into_inner);
            timeline.merge(index, &second);
        }
    }

    /// Ends recording: the current second goes to the timeline, the rest is returned.
    pub fn finish(mut self) -> ClientTotals {
        self.flush();
        ClientTotals {
            latency: self.latency,
            errors: self.errors,
            transactions: self.transactions,
            late: self.late,
            unissued: self.unissued,
        }
    }
}

/// What one client measured.
pub struct ClientTotals {
    latency: Histogram<u64>,
    errors: ErrorTally,
    transactions: u64,
    late: u64,
    unissued: u64,
}

/// A run's measurements, all clients merged.
#[derive(Debug)]
pub struct RunStats {
    /// Successful transactions.
    pub transactions: u64,
    /// Failures by code.
    pub errors: ErrorTally,
    /// Latencies of successful transactions, µs.
    pub latency: Histogram<u64>,
    /// Open-loop transactions that started after their scheduled time.
    pub late: u64,
    /// Open-loop transactions due before the end that never started.
    pub unissued: u64,
    /// From the start of measurement to the end of the last transaction.
    pub elapsed: Duration,
    /// Per-second view.
    pub timeline: Vec<timeline::TimelinePoint>,
    /// Clients whose connection was lost and could not be made again (the runner
    /// fills it in).
    pub clients_lost: u64,
}

impl RunStats {
    /// Merges every client's totals and the shared timeline.
    pub fn merge(clients: Vec<ClientTotals>, timeline: &Timeline, elapsed: Duration) -> RunStats {
        let mut merged = RunStats {
            transactions: 0,
            errors: ErrorTally::default(),
            latency: latency_histogram(),
            late: 0,
            unissued: 0,
            elapsed,
            timeline: timeline.points(elapsed),
            clients_lost: 0,
        };
        for client in clients {
            merged.transactions += client.transactions;
            merged.late += client.late;
            merged.unissued += client.unissued;
            merged.errors.merge(&client.errors);
            // Same bounds everywhere: adding cannot fail.
            let _ = merged.latency.add(&client.latency);
        }
        merged
    }

    /// Successful transactions per second of measurement.
    pub fn tps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.transactions as f64 / secs
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> (Recorder, Arc<Mutex<Timeline>>) {
        let timeline = Arc::new(Mutex::new(Timeline::default()));
        (Recorder::new(timeline.clone()), timeline)
    }

    #[test]
    fn percentiles_are_ordered_and_in_milliseconds() {
        let mut h = latency_histogram();
        for us in 1..=10_000 {
            h.saturating_record(us);
        }
        let l = Latency::of(&h);
        assert!((l.p50 - 5.0).abs() < 0.01, "{l:?}");
        assert!((l.p99 - 9.9).abs() < 0.01, "{l:?}");
        assert!((l.max - 10.0).abs() < 0.01, "{l:?}");
        assert!((l.mean - 5.0).abs() < 0.01, "{l:?}");
        assert!(0.0 < l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99);
        assert!(l.p99 <= l.p999 && l.p999 <= l.max);
        assert_eq!(Latency::of(&latency_histogram()), Latency::default());
    }

    #[test]
    fn clients_merge_into_one_run() {
        let (mut a, timeline) = recorder();
        let mut b = Recorder::new(timeline.clone());
        a.success(Duration::from_millis(2), Duration::from_millis(100));
        a.success(Duration::from_millis(4), Duration::from_millis(1500));
        b.success(Duration::from_nanos(10), Duration::from_millis(200));
        b.failure(&DbError::client("boom"), Duration::from_millis(300));
        b.late();
        let totals = vec![a.finish(), b.finish()];
        let timeline = timeline.lock().unwrap_or_else(PoisonError::into_inner);
        let run = RunStats::merge(totals, &timeline, Duration::from_secs(2));
        assert_eq!((run.transactions, run.errors.total(), run.late), (3, 1, 1));
        assert_eq!(run.tps(), 1.5);
        // Sub-microsecond latencies count as 1 µs, so p50 is never zero.
        assert_eq!(run.latency.min(), 1);
        assert_eq!(run.timeline.len(), 2);
        assert_eq!((run.timeline[0].tps, run.timeline[0].errors), (2.0, 1));
        assert_eq!(run.timeline[1].tps, 1.0);
    }
}
