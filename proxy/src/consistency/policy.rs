//! Where a read goes, given the session's consistency level and a snapshot of the shard
//! (DESIGN §6). The rules are a pure function of their inputs so that every level can be
//! checked against tables of simulated positions and staleness, without a network.
//!
//! Among eligible replicas the least busy wins; ties go to the most advanced replica (the
//! one least likely to make a later session read wait), then to the lowest index, so the
//! answer is deterministic.

use std::cmp::Reverse;
use std::fmt;
use std::time::Duration;

use shardwire_conf::ReadConsistency;

use super::lsn::Lsn;
use super::view::{NodeState, ShardView};

/// The policy's answer for one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Serve the read on this replica (an index into [`ShardView::replicas`]).
    Replica(usize),
    /// Serve the read on the primary, for this reason.
    Primary(FallbackReason),
    /// `session` only: no replica has replayed far enough yet but some healthy one may soon.
    /// Wait (up to `shardwire.max_wait`) for a newer view and ask again; once the wait is
    /// over, ask [`choose_after_wait`].
    Wait,
}

impl Choice {
    /// Turns [`Choice::Wait`] into `Primary(reason)` and leaves other answers alone: for a
    /// read that will not wait (`BehindSession`, when `max_wait` is 0) or waited already
    /// (`WaitExpired`, see [`choose_after_wait`]).
    pub fn resolve_wait(self, reason: FallbackReason) -> Choice {
        match self {
            Choice::Wait => Choice::Primary(reason),
            other => other,
        }
    }

    /// The `served_by` label of `consistency_reads_total`: `replica` or `primary`; `None`
    /// for [`Choice::Wait`], which serves nothing yet.
    pub fn served_by(self) -> Option<&'static str> {
        match self {
            Choice::Replica(_) => Some("replica"),
            Choice::Primary(_) => Some("primary"),
            Choice::Wait => None,
        }
    }
}

/// Why a read is served by the primary; the `reason` label of
/// `consistency_fallbacks_total` (except [`Strong`](Self::Strong), which is not a fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackReason {
    /// The session asked for `strong`: reads always go to the primary.
    Strong,
    /// No replica of the shard is healthy.
    NoHealthyReplica,
    /// `bounded`: every healthy replica is staler than `max_staleness` (or of unknown
    /// staleness).
    TooStale,
    /// `session`: no healthy replica has replayed the session's required position and the
    /// session does not wait (`shardwire.max_wait = 0`): see [`Choice::resolve_wait`].
    BehindSession,
    /// `session`: the wait for a replica to catch up ran out.
    WaitExpired,
}

impl FallbackReason {
    /// Every reason, in declaration order.
    pub const ALL: [FallbackReason; 5] = [
        FallbackReason::Strong,
        FallbackReason::NoHealthyReplica,
        FallbackReason::TooStale,
        FallbackReason::BehindSession,
        FallbackReason::WaitExpired,
    ];

    /// The metric label for this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackReason::Strong => "strong",
            FallbackReason::NoHealthyReplica => "no_healthy_replica",
            FallbackReason::TooStale => "too_stale",
            FallbackReason::BehindSession => "behind_session",
            FallbackReason::WaitExpired => "wait_expired",
        }
    }
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Chooses the node that serves a read on one shard.
///
/// - `strong`: the primary.
/// - `eventual`: the least busy healthy replica; the primary if none is healthy.
/// - `bounded`: the least busy healthy replica whose staleness is known and
///   ≤ `max_staleness`; otherwise the primary ([`FallbackReason::TooStale`], or
///   [`FallbackReason::NoHealthyReplica`] if none is healthy).
/// - `session`: the least busy healthy replica whose position is known and ≥ `required`
///   (with `required = None`, any healthy replica); otherwise [`Choice::Wait`] if some
///   replica is healthy, else the primary ([`FallbackReason::NoHealthyReplica`]).
///
/// `required` is used only by `session`, `max_staleness` only by `bounded`. The primary's
/// own health is not consulted: when a read must go to the primary, it goes there.
pub fn choose(
    level: ReadConsistency,
    required: Option<Lsn>,
    max_staleness: Duration,
    view: &ShardView,
) -> Choice {
    let no_healthy = || Choice::Primary(FallbackReason::NoHealthyReplica);
    match level {
        ReadConsistency::Strong => Choice::Primary(FallbackReason::Strong),
        ReadConsistency::Eventual => {
            least_busy(view, |_| true).map_or_else(no_healthy, Choice::Replica)
        }
        ReadConsistency::Bounded => {
            let fresh = |n: &NodeState| n.staleness.is_some_and(|s| s <= max_staleness);
            match least_busy(view, fresh) {
                Some(i) => Choice::Replica(i),
                None if view.has_healthy_replica() => Choice::Primary(FallbackReason::TooStale),
                None => no_healthy(),
            }
        }
        ReadConsistency::Session => {
            let caught_up = |n: &NodeState| match required {
                None => true,
                Some(req) => n.position.is_some_and(|p| p >= req),
            };
            match least_busy(view, caught_up) {
                Some(i) => Choice::Replica(i),
                None if view.has_healthy_replica() => Choice::Wait,
                None => no_healthy(),
            }
        }
    }
}

/// [`choose`] for a read that already waited its `shardwire.max_wait`: asks again with the
/// latest view, and where `choose` would still say [`Choice::Wait`], answers
/// `Primary(WaitExpired)`. Any other answer (a replica that caught up in the meantime, or
/// a primary fallback) is returned as is; it never answers `Wait`.
pub fn choose_after_wait(
    level: ReadConsistency,
    required: Option<Lsn>,
    max_staleness: Duration,
    view: &ShardView,
) -> Choice {
    choose(level, required, max_staleness, view).resolve_wait(FallbackReason::WaitExpired)
}

/// The index of the least busy healthy replica accepted by `eligible`; ties go to the most
/// advanced position (unknown counts as least advanced), then to the lowest index.
fn least_busy(view: &ShardView, eligible: impl Fn(&NodeState) -> bool) -> Option<usize> {
    view.replicas
        .iter()
        .enumerate()
        .filter(|(_, n)| n.healthy && eligible(n))
        .min_by_key(|&(i, n)| (n.in_flight, Reverse(n.position), i))
        .map(|(i, _)| i)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
