//! Where a read goes: the session's consistency level (DESIGN §6) applied to what the
//! replica monitor last saw, through the pure policy in [`crate::consistency`]. A
//! `session` read waits up to `shardwire.max_wait` for a replica to replay past the
//! session's position on that shard, then falls back to the primary.

use std::time::{Duration, Instant};

use super::session::Session;
use crate::consistency::{choose, choose_after_wait, Choice, FallbackReason};
use shardwire_conf::ReadConsistency;

use crate::metrics::CONSISTENCY_FALLBACKS;

/// How often a waiting `session` read looks at the monitor's view again.
const RECHECK: Duration = Duration::from_millis(2);

impl Session {
    /// The replica to serve a read on `shard`, or None for the primary. `hinted` says
    /// whether the statement carries `/* shardwire:primary */`; it is only looked at when
    /// a replica is possible at all, so `strong` reads cost no text scan.
    pub(super) async fn choose_replica(
        &mut self,
        shard: u32,
        hinted: impl FnOnce() -> bool,
    ) -> Option<usize> {
        let level = self.settings.read_consistency;
        let counters = crate::metrics::consistency_counters();
        if level == ReadConsistency::Strong || hinted() {
            counters.read(level, false);
            return None;
        }
        let began = Instant::now();
        let choice = self.decide(shard).await;
        counters.read(level, choice.is_some());
        if level == ReadConsistency::Session {
            counters.wait.record(began.elapsed().as_secs_f64());
        }
        choice
    }

    async fn decide(&mut self, shard: u32) -> Option<usize> {
        let level = self.settings.read_consistency;
        let shard_rt = self.db.shard(shard)?;
        if shard_rt.replicas.is_empty() {
            fallback(level, FallbackReason::NoHealthyReplica);
            return None;
        }
        let required = self.positions.required(shard);
        let deadline = Instant::now() + self.settings.max_wait;
        let mut waited = false;
        loop {
            let mut view = (*shard_rt.monitor.view()).clone();
            for (state, pool) in view.replicas.iter_mut().zip(&shard_rt.replicas) {
                let status = pool.status();
                state.in_flight = status.size.saturating_sub(status.available) as u32;
            }
            let max_staleness = self.settings.max_staleness;
            let choice = if waited {
                choose_after_wait(level, required, max_staleness, &view)
            } else {
                choose(level, required, max_staleness, &view)
            };
            match choice {
                Choice::Replica(i) => return Some(i),
                Choice::Primary(reason) => {
                    fallback(level, reason);
                    return None;
                }
                Choice::Wait => {
                    if Instant::now() >= deadline {
                        waited = true;
                    } else {
                        tokio::time::sleep(RECHECK).await;
                    }
                }
            }
        }
    }
}

/// Fallbacks are the rare path; their labelled lookup is not worth caching.
fn fallback(level: ReadConsistency, reason: FallbackReason) {
    metrics::counter!(CONSISTENCY_FALLBACKS, "level" => level.as_str(), "reason" => reason.as_str())
        .increment(1);
}
