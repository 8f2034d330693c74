//! Throughput and latency second by second, for the charts and `timeline` in the JSON.
//!
//! Clients keep the second they are in and hand it over when they move on, so the
//! shared map is touched once per client per second, never per transaction.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::{ms, MAX_LATENCY_US};

/// Two significant digits are plenty for a per-second p50/p99 and keep a second's
/// histogram to a few kilobytes.
const SECOND_SIGFIG: u8 = 2;

/// What completed during one second of the measured run.
#[derive(Clone, Debug)]
pub struct Second {
    /// Successful transactions.
    pub count: u64,
    /// Failed transactions.
    pub errors: u64,
    /// Latencies of the successful ones, µs.
    pub latency: Histogram<u32>,
}

impl Second {
    /// An empty second.
    pub fn new() -> Second {
        Second {
            count: 0,
            errors: 0,
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, SECOND_SIGFIG)
                .expect("constant histogram bounds are valid"),
        }
    }

    fn add(&mut self, other: &Second) {
        self.count += other.count;
        self.errors += other.errors;
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }
}

impl Default for Second {
    fn default() -> Self {
        Second::new()
    }
}

/// One point of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelinePoint {
    /// Seconds since the measured run began (the start of this interval).
    pub t: u64,
    /// Successful transactions per second in this interval.
    pub tps: f64,
    /// Median latency, ms (0 without transactions).
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Failed transactions in this interval.
    pub errors: u64,
}

/// Seconds of a run, merged from every client.
#[derive(Debug, Default)]
pub struct Timeline {
    seconds: BTreeMap<u64, Second>,
}

impl Timeline {
    /// Adds a client's second `index` (0 = the first second of measurement).
    pub fn merge(&mut self, index: u64, second: &Second) {
        self.seconds.entry(index).or_default().add(second);
    }

    /// One point per second of `elapsed`. Transactions that end after the last whole
    /// second (those in flight at the deadline) join the last point, which so covers
    /// at least half a second: a few stragglers over a few milliseconds would
    /// otherwise show as a spike.
    pub fn points(&self, elapsed: Duration) -> Vec<TimelinePoint> {
        let secs = elapsed.as_secs_f64();
        let n = (secs.round() as u64).max(1);
        let mut merged: Vec<Second> = (0..n).map(|_| Second::new()).collect();
        for (&index, second) in &self.seconds {
            let slot = index.min(n - 1) as usize;
            merged[slot].add(second);
        }
        merged
            .iter()
            .enumerate()
            .map(|(i, second)| {
                let start = i as f64;
                let span = if i as u64 == n - 1 {
                    (secs - start).max(f64::EPSILON)
                } else {
                    1.0
                };
                let quantile = |q| {
                    if second.latency.is_empty() {
                        0.0
                    } else {
                        ms(second.latency.value_at_quantile(q))
                    }
                };
                TimelinePoint {
                    t: i as u64,
                    tps: second.count as f64 / span,
                    p50_ms: quantile(0.5),
                    p99_ms: quantile(0.99),
                    errors: second.errors,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(count: u64, latency_us: u64, errors: u64) -> Second {
        let mut s = Second::new();
        s.count = count;
        s.errors = errors;
        for _ in 0..count {
            s.latency.saturating_record(latency_us);
        }
        s
    }

    #[test]
    fn seconds_from_clients_add_up_and_gaps_are_zero() {
        let mut timeline = Timeline::default();
        timeline.merge(0, &second(10, 1000, 0));
        timeline.merge(0, &second(30, 3000, 1));
        timeline.merge(2, &second(5, 2000, 0));
        let points = timeline.points(Duration::from_secs(3));
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].tps, 40.0);
        assert_eq!(points[0].errors, 1);
        assert!((points[0].p50_ms - 3.0).abs() < 0.05, "{:?}", points[0]);
        assert!((points[0].p99_ms - 3.0).abs() < 0.05);
        assert_eq!((points[1].tps, points[1].p50_ms), (0.0, 0.0));
        assert_eq!(points[2].tps, 5.0);
    }

    #[test]
    fn stragglers_after_the_deadline_join_the_last_second() {
        let mut timeline = Timeline::default();
        timeline.merge(1, &second(100, 1000, 0));
        timeline.merge(2, &second(4, 1000, 0));
        let points = timeline.points(Duration::from_millis(2004));
        assert_eq!(points.len(), 2);
        assert!((points[1].tps - 104.0 / 1.004).abs() < 1e-9);
    }

    #[test]
    fn a_short_run_has_one_point_over_its_length() {
        let mut timeline = Timeline::default();
        timeline.merge(0, &second(50, 1000, 0));
        let points = timeline.points(Duration::from_millis(250));
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].tps, 200.0);
    }
}
