//! Where a read goes, for both frontends: the session's consistency level (DESIGN §6)
//! applied to what the replica monitor last saw, through the pure policy in
//! [`crate::consistency`]. A `session` read waits up to `shardwire.max_wait` for a replica
//! to replay past the session's position on that shard, then falls back to the primary.

use std::time::{Duration, Instant};

use shardwire_conf::ReadConsistency;

use crate::backend::pool::{NodePool, ServerConnection};
use crate::cluster::ShardRuntime;
use crate::consistency::{choose, choose_after_wait, Choice, FallbackReason, Lsn};
use crate::frontend::pg::settings::ShardwireSettings;
use crate::metrics::CONSISTENCY_FALLBACKS;
use crate::monitor::ShardMonitor;

/// How often a waiting `session` read looks at the monitor's view again.
const RECHECK: Duration = Duration::from_millis(2);

/// The replica that serves a read, or `None` for the primary, counting the decision in
/// the consistency metrics. `hinted`: the statement asks for the primary
/// (`/* shardwire:primary */`); only looked at when a replica is possible at all.
/// `shard` gives the monitor and the replicas' pools (how busy they are is read
/// only when a replica is possible at all: `strong` reads cost nothing here).
pub async fn choose_replica<C: ServerConnection>(
    settings: &ShardwireSettings,
    required: Option<Lsn>,
    shard: Option<&ShardRuntime<C>>,
    hinted: impl FnOnce() -> bool,
) -> Option<usize> {
    let level = settings.read_consistency;
    let counters = crate::metrics::consistency_counters();
    if level == ReadConsistency::Strong || hinted() {
        counters.read(level, false);
        return None;
    }
    let began = Instant::now();
    let choice = match shard {
        Some(shard) if !shard.replicas.is_empty() => {
            decide(settings, required, &shard.monitor, &shard.replicas).await
        }
        _ => {
            fallback(level, FallbackReason::NoHealthyReplica);
            None
        }
    };
    counters.read(level, choice.is_some());
    if level == ReadConsistency::Session {
        counters.wait.record(began.elapsed().as_secs_f64());
    }
    choice
}

async fn decide<C: ServerConnection>(
    settings: &ShardwireSettings,
    required: Option<Lsn>,
    monitor: &ShardMonitor,
    pools: &[NodePool<C>],
) -> Option<usize> {
    let level = settings.read_consistency;
    let deadline = Instant::now() + settings.max_wait;
    let mut waited = false;
    loop {
        let mut view = (*monitor.view()).clone();
        for (state, pool) in view.replicas.iter_mut().zip(pools) {
            state.in_flight = pool.in_use();
        }
        let max_staleness = settings.max_staleness;
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

/// The `/* shardwire:primary */` hint: this read must see the primary.
pub fn forces_primary(sql: &str) -> bool {
    sql.contains("shardwire:primary")
}

/// Fallbacks are the rare path; their labelled lookup is not worth caching.
fn fallback(level: ReadConsistency, reason: FallbackReason) {
    metrics::counter!(CONSISTENCY_FALLBACKS, "level" => level.as_str(), "reason" => reason.as_str())
        .increment(1);
}
