//! Where a read goes: the session's consistency level (DESIGN §6) applied to what the
//! replica monitor last saw, through the pure policy in [`crate::consistency`]. A
//! `session` read waits up to `shardwire.max_wait` for a replica to replay past the
//! session's position on that shard, then falls back to the primary.

use std::time::{Duration, Instant};

use super::session::Session;
use crate::consistency::{choose, choose_after_wait, Choice, FallbackReason};
use crate::metrics::{CONSISTENCY_FALLBACKS, CONSISTENCY_READS, CONSISTENCY_WAIT};

/// How often a waiting `session` read looks at the monitor's view again.
const RECHECK: Duration = Duration::from_millis(2);

impl Session {
    /// The replica to serve a read on `shard`, or None for the primary.
    pub(super) async fn choose_replica(&mut self, shard: u32) -> Option<usize> {
        let level = self.settings.read_consistency;
        let began = Instant::now();
        let choice = self.decide(shard).await;
        let served_by = if choice.is_some() {
            "replica"
        } else {
            "primary"
        };
        metrics::counter!(CONSISTENCY_READS, "level" => level.as_str(), "served_by" => served_by)
            .increment(1);
        if level == shardwire_conf::ReadConsistency::Session {
            metrics::histogram!(CONSISTENCY_WAIT).record(began.elapsed().as_secs_f64());
        }
        choice
    }

    async fn decide(&mut self, shard: u32) -> Option<usize> {
        let level = self.settings.read_consistency;
        let shard_rt = self.db.shard(shard)?;
        if shard_rt.replicas.is_empty() {
            if level != shardwire_conf::ReadConsistency::Strong {
                fallback(level, FallbackReason::NoHealthyReplica);
            }
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
                    if reason != FallbackReason::Strong {
                        fallback(level, reason);
                    }
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

fn fallback(level: shardwire_conf::ReadConsistency, reason: FallbackReason) {
    metrics::counter!(CONSISTENCY_FALLBACKS, "level" => level.as_str(), "reason" => reason.as_str())
        .increment(1);
}
