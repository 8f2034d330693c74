//! The snapshot of one shard that the replica monitor publishes and the read policy
//! consumes. It is plain data, so the monitor (I/O, timers) and the policy (pure rules)
//! meet only here, and policy tests build views by hand.

use std::time::Duration;

use super::lsn::Lsn;

/// What is known about one node of a shard at the time of the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeState {
    /// Passed its last health check and is not banned (e.g. for exceeding `max_replica_lag`).
    pub healthy: bool,
    /// Replay position for a replica, current WAL position for the primary; `None` until
    /// the monitor has read one.
    pub position: Option<Lsn>,
    /// How old the node's data is (see [`PositionHistory::staleness`]); `None` if unknown.
    /// The primary's is zero.
    ///
    /// [`PositionHistory::staleness`]: super::history::PositionHistory::staleness
    pub staleness: Option<Duration>,
    /// Reads this proxy is serving on the node right now, for "least busy".
    pub in_flight: u32,
}

impl NodeState {
    /// A healthy node at `position` with known `staleness` and no reads in flight — a
    /// shorthand for the monitor's first snapshot and for tests.
    pub fn healthy_at(position: Lsn, staleness: Duration) -> Self {
        Self {
            healthy: true,
            position: Some(position),
            staleness: Some(staleness),
            in_flight: 0,
        }
    }
}

/// One shard: its primary and its replicas, indexed as in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardView {
    /// The shard's primary.
    pub primary: NodeState,
    /// The shard's replicas; [`Choice::Replica`](super::policy::Choice::Replica) indexes
    /// this list.
    pub replicas: Vec<NodeState>,
}

impl ShardView {
    /// Whether at least one replica is healthy.
    pub fn has_healthy_replica(&self) -> bool {
        self.replicas.iter().any(|r| r.healthy)
    }
}
