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

    /// How many of client `client`'s transactions from its `first`-th on are due before
    /// `horizon` (from the start of the phase): the schedule it did not get to issue
    /// when the phase ended there.
    pub fn due_before(&self, client: usize, first: u64, horizon: Duration) -> u64 {
        // Slots due before the horizon: 0 .. ceil(horizon * rate).
        let slots = (horizon.as_secs_f64() * self.rate).ceil() as u64;
        let client = client as u64;
        if slots <= client {
            return 0;
        }
        let own = (slots - client).div_ceil(self.clients);
        own.saturating_sub(first)
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
    fn the_unissued_rest_of_a_schedule_is_counted_up_to_the_horizon() {
        let s = Schedule::new(1000.0, 4);
        // 100 slots are due in the first 100 ms; client 1 owns 1, 5, …, 97: 25 of them.
        assert_eq!(s.due_before(1, 0, Duration::from_millis(100)), 25);
        assert_eq!(s.due_before(1, 20, Duration::from_millis(100)), 5);
        assert_eq!(s.due_before(1, 30, Duration::from_millis(100)), 0);
        assert_eq!(s.due_before(3, 0, Duration::from_millis(1)), 0);
        // Cross-check against the slots themselves.
        let horizon = Duration::from_millis(37);
        for client in 0..4 {
            let by_hand = (0..100)
                .filter(|&i| s.due(s.slot(client, i)) < horizon)
                .count() as u64;
            assert_eq!(s.due_before(client, 0, horizon), by_hand, "client {client}");
        }
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
