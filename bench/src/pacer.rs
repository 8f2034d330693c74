//! Wakes open-loop clients at their scheduled times.
//!
//! tokio's timer has millisecond ticks: a client sleeping until its due time wakes up to
//! a millisecond or more late, and since latency counts from the due time, that lag
//! would be measured as the server's. A thread of our own sleeps with the OS timer
//! (tens of µs) and hands out one permit per slot on the client's semaphore when the
//! slot is due; the client waits on the semaphore. A client that is behind finds its
//! permits already there and starts at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::schedule::Schedule;

/// One phase of the schedule (warmup or measurement).
#[derive(Clone, Debug)]
pub struct PacedPhase {
    /// When slot 0 is due.
    pub from: Instant,
    /// No slot due at or after this.
    pub until: Option<Instant>,
    /// No slot numbered this or above.
    pub limit: Option<u64>,
    /// One gate per client, in client order.
    pub gates: Vec<Arc<Semaphore>>,
}

impl PacedPhase {
    /// A phase with a fresh, closed gate for each of `clients` clients.
    pub fn new(from: Instant, until: Option<Instant>, limit: Option<u64>, clients: usize) -> Self {
        PacedPhase {
            from,
            until,
            limit,
            gates: (0..clients).map(|_| Arc::new(Semaphore::new(0))).collect(),
        }
    }
}

/// The pacing thread; dropping the handle stops it at its next wake-up.
pub struct Pacer {
    stop: Arc<AtomicBool>,
}

impl Pacer {
    /// Starts pacing `phases` one after the other on `schedule`.
    pub fn start(schedule: Schedule, phases: Vec<PacedPhase>) -> Pacer {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for phase in &phases {
                pace(schedule, phase, &stopped);
            }
        });
        Pacer { stop }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pace(schedule: Schedule, phase: &PacedPhase, stop: &AtomicBool) {
    let clients = phase.gates.len().max(1) as u64;
    for slot in 0.. {
        if stop.load(Ordering::Relaxed) || phase.limit.is_some_and(|n| slot >= n) {
            return;
        }
        let due = phase.from + schedule.due(slot);
        if phase.until.is_some_and(|end| due >= end) {
            return;
        }
        let wait = due.saturating_duration_since(Instant::now());
        if wait > Duration::ZERO {
            std::thread::sleep(wait);
        }
        if let Some(gate) = phase.gates.get((slot % clients) as usize) {
            gate.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn permits_arrive_at_their_due_times() {
        let schedule = Schedule::new(1000.0, 2);
        let from = Instant::now() + Duration::from_millis(5);
        let phase = PacedPhase::new(from, None, Some(20), 2);
        let gates = phase.gates.clone();
        let _pacer = Pacer::start(schedule, vec![phase]);
        for i in 0..10_u64 {
            for (client, gate) in gates.iter().enumerate() {
                gate.acquire().await.unwrap().forget();
                let due = from + schedule.due(schedule.slot(client, i));
                let now = Instant::now();
                assert!(now >= due, "slot {i} of client {client} came early");
            }
        }
        // Exactly the limit: no 21st permit.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            gates.iter().map(|g| g.available_permits()).sum::<usize>(),
            0
        );
    }

    #[test]
    fn a_phase_ends_at_its_deadline() {
        let schedule = Schedule::new(100.0, 1);
        let from = Instant::now();
        let phase = PacedPhase::new(from, Some(from + Duration::from_millis(50)), None, 1);
        let stop = AtomicBool::new(false);
        pace(schedule, &phase, &stop);
        // Slots 0..4 are due before 50 ms (0, 10, 20, 30, 40 ms).
        assert_eq!(phase.gates[0].available_permits(), 5);
    }
}
