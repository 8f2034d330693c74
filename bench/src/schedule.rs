//! The fixed schedule of an open-loop run (`--rate`).
//!
//! Transaction `j` of the whole run is due `j / rate` seconds after the start, and
//! client `k` of `C` takes `j = k, k + C, k + 2C, …`, so the clients together keep the
//! requested rate with their starts spread evenly. Latency is measured from the due
//! time, not from when a busy client got round to it: a stalled server then shows as
//! high latency instead of quietly lowering the load (coordinated omission).

use std::time::Duration;

/// Due times for `clients` clients sharing `rate` transactions per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    rate: f64,
    clients: u64,
}

impl Schedule {
    /// A schedule; `rate` must be positive and `clients` at least 1 (the CLI checks).
    pub fn new(rate: f64, clients: usize) -> Schedule {
        Schedule {
            rate,
            clients: clients.max(1) as u64,
        }
    }

    /// The run-wide number of client `client`'s `i`-th transaction.
    pub fn slot(&self, client: usize, i: u64) -> u64 {
        client as u64 + i * self.clients
    }

    /// When slot `slot` is due, from the start of the phase.
    pub fn due(&self, slot: u64) -> Duration {
        Duration::from_secs_f64(slot as f64 / self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_together_cover_every_slot_once() {
        let s = Schedule::new(1000.0, 4);
        let mut slots: Vec<u64> = (0..4)
            .flat_map(|k| (0..25).map(move |i| s.slot(k, i)))
            .collect();
        slots.sort_unstable();
        assert_eq!(slots, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn due_times_follow_the_rate() {
        let s = Schedule::new(2000.0, 16);
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(2000), Duration::from_secs(1));
        // Each client's own interval is clients / rate: 16 / 2000 s = 8 ms.
        let gap = s.due(s.slot(3, 1)) - s.due(s.slot(3, 0));
        assert_eq!(gap, Duration::from_millis(8));
        // Consecutive clients start half a millisecond apart.
        assert_eq!(
            s.due(s.slot(1, 0)) - s.due(s.slot(0, 0)),
            Duration::from_micros(500)
        );
    }

    #[test]
    fn one_second_holds_rate_due_times() {
        let s = Schedule::new(250.0, 3);
        let in_first_second = (0..3)
            .flat_map(|k| (0..200).map(move |i| s.slot(k, i)))
            .filter(|&j| s.due(j) < Duration::from_secs(1))
            .count();
        assert_eq!(in_first_second, 250);
    }
}
