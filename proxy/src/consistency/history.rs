//! A short history of a primary's WAL position over time, which answers "how old is the
//! data on this replica?" (DESIGN §6: staleness = now − the moment the primary was at the
//! replica's replay position). Byte lag alone cannot answer that: 1 MB behind is
//! milliseconds on a busy primary and hours on an idle one.
//!
//! The monitor records one sample per poll; time is always passed in, never read here, so
//! the arithmetic is deterministic under test. Memory is bounded by a fixed capacity.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::lsn::Lsn;

/// Samples kept by [`PositionHistory::default`]: at the default 50 ms monitor interval,
/// over 3 minutes of a busy primary (idle periods cost nothing, see [`PositionHistory::record`]).
pub const DEFAULT_CAPACITY: usize = 4096;

/// A bounded ring of `(time, primary WAL position)` samples, oldest first, with strictly
/// increasing positions and non-decreasing times.
#[derive(Debug, Clone)]
pub struct PositionHistory {
    samples: VecDeque<(Instant, Lsn)>,
    capacity: usize,
}

impl Default for PositionHistory {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl PositionHistory {
    /// An empty history that keeps at most `capacity` samples (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            samples: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Records that the primary was at `lsn` at time `at`.
    ///
    /// - A sample at the same position as the latest one is dropped: the latest sample
    ///   already says when the primary first reached that position, which is what
    ///   [`staleness`](Self::staleness) needs, and an idle primary does not use up history.
    /// - A position lower than the latest one means the primary was replaced or rewound;
    ///   the old history says nothing about the new timeline, so it is cleared.
    /// - A time earlier than the latest sample's is taken as the latest sample's time, so
    ///   times never go backwards.
    /// - When full, the oldest sample is dropped.
    pub fn record(&mut self, at: Instant, lsn: Lsn) {
        let mut at = at;
        if let Some(&(last_at, last_lsn)) = self.samples.back() {
            if lsn == last_lsn {
                return;
            }
            if lsn < last_lsn {
                self.samples.clear();
            } else {
                at = at.max(last_at);
            }
        }
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back((at, lsn));
    }

    /// How stale a replica that has replayed up to `replica_replay` is at `now`: now − the
    /// moment the primary was at that position. `None` if there are no samples yet.
    ///
    /// - Replayed at least to the latest sample: `0` (as far as the monitor knows, the
    ///   replica has everything).
    /// - Otherwise: now − the time of the earliest sample beyond `replica_replay`; the
    ///   replica lacks everything the primary wrote since then. Between samples the
    ///   primary's progress is unknown, so the true staleness may exceed this by up to one
    ///   sampling interval.
    /// - If even the oldest sample is beyond `replica_replay`, the history no longer reaches
    ///   back far enough: the answer is now − the oldest sample's time, a lower bound.
    ///
    /// A `now` earlier than the sample counts as no time elapsed.
    pub fn staleness(&self, replica_replay: Lsn, now: Instant) -> Option<Duration> {
        let &(_, latest) = self.samples.back()?;
        if replica_replay >= latest {
            return Some(Duration::ZERO);
        }
        // Positions are strictly increasing, so the samples beyond `replica_replay` are a
        // suffix; its first element is the earliest one (or the oldest sample, if the
        // suffix is everything: the truncated case).
        let first_beyond = self
            .samples
            .partition_point(|&(_, lsn)| lsn <= replica_replay);
        let (since, _) = self.samples.get(first_beyond)?;
        Some(now.saturating_duration_since(*since))
    }

    /// The latest sample, if any: the primary's position as last seen.
    pub fn latest(&self) -> Option<(Instant, Lsn)> {
        self.samples.back().copied()
    }

    /// How many samples are kept.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no sample was recorded (or the history was cleared by a rewind).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The most samples this history keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A history where the primary was at `100 * i` at `t0 + 100ms * i`, i = 1..=5.
    fn steady(t0: Instant) -> PositionHistory {
        let mut h = PositionHistory::new(16);
        for i in 1..=5 {
            h.record(t0 + ms(100 * i), Lsn(100 * i));
        }
        h
    }

    #[test]
    fn no_samples_means_unknown_staleness() {
        let h = PositionHistory::default();
        assert!(h.is_empty());
        assert_eq!(h.capacity(), DEFAULT_CAPACITY);
        assert_eq!(h.staleness(Lsn(0), Instant::now()), None);
        assert_eq!(h.latest(), None);
    }

    #[test]
    fn staleness_cases() {
        let t0 = Instant::now();
        let h = steady(t0);
        let now = t0 + ms(1000);
        // (replica replay position, expected staleness at t0 + 1s)
        let cases = [
            (Lsn(500), 0),   // caught up with the latest sample
            (Lsn(900), 0),   // ahead of the latest sample (monitor polled it later)
            (Lsn(499), 500), // lacks what was written by t0+500ms
            (Lsn(400), 500), // exactly at a sample: lacks only the next one
            (Lsn(350), 600), // between samples: lacks everything from t0+400ms on
            (Lsn(100), 800), // at the oldest sample
            (Lsn(99), 900),  // before the oldest sample: history truncated, lower bound
            (Lsn(0), 900),
        ];
        for (replay, expected) in cases {
            assert_eq!(h.staleness(replay, now), Some(ms(expected)), "{replay}");
        }
    }

    #[test]
    fn staleness_never_negative() {
        let t0 = Instant::now();
        let h = steady(t0);
        assert_eq!(h.staleness(Lsn(0), t0), Some(Duration::ZERO));
    }

    #[test]
    fn idle_primary_keeps_first_time_at_a_position() {
        let t0 = Instant::now();
        let mut h = PositionHistory::new(4);
        h.record(t0, Lsn(10));
        for i in 1..100 {
            h.record(t0 + ms(50 * i), Lsn(20));
        }
        assert_eq!(h.len(), 2);
        let now = t0 + ms(10_000);
        // The primary reached 20 at t0+50ms and stayed: a replica at 10 is ~9.95s stale.
        assert_eq!(h.staleness(Lsn(10), now), Some(ms(9_950)));
        assert_eq!(h.staleness(Lsn(20), now), Some(Duration::ZERO));
    }

    #[test]
    fn memory_is_bounded_and_oldest_dropped() {
        let t0 = Instant::now();
        let mut h = PositionHistory::new(3);
        for i in 1..=10 {
            h.record(t0 + ms(i), Lsn(i));
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.latest(), Some((t0 + ms(10), Lsn(10))));
        // Samples 8, 9, 10 remain: a replica at 2 gets the lower bound now − t(8).
        assert_eq!(h.staleness(Lsn(2), t0 + ms(20)), Some(ms(12)));
        assert_eq!(PositionHistory::new(0).capacity(), 1);
    }

    #[test]
    fn rewind_clears_history() {
        let t0 = Instant::now();
        let mut h = steady(t0);
        h.record(t0 + ms(600), Lsn(50));
        assert_eq!(h.len(), 1);
        assert_eq!(h.latest(), Some((t0 + ms(600), Lsn(50))));
        assert_eq!(h.staleness(Lsn(10), t0 + ms(700)), Some(ms(100)));
    }

    #[test]
    fn time_going_backwards_is_clamped() {
        let t0 = Instant::now();
        let mut h = PositionHistory::new(4);
        h.record(t0 + ms(100), Lsn(1));
        h.record(t0, Lsn(2));
        assert_eq!(h.latest(), Some((t0 + ms(100), Lsn(2))));
    }
}
