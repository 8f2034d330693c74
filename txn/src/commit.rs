//! Committing a transaction that touched several shards.
//!
//! Written participants decide the protocol: none or one → every participant ends in one
//! phase (read-only ones first, so the one commit that matters comes last); several →
//! two-phase commit. Writers are prepared in shard order, the first (lowest shard, the
//! decider) with the decision row inserted in its own transaction; its `COMMIT PREPARED`
//! is the commit point;
//! then the others are committed. A failure before the commit point rolls everything back
//! and the client gets the original error; a lost connection at the commit point is an
//! unknown outcome, reported as such; failures after it are left to recovery, which finds
//! the decision row.

use std::future::Future;

use futures_util::future::{join, join_all};
use futures_util::stream::{FuturesOrdered, StreamExt};

use crate::gid::{Gid, TxnId};

/// PostgreSQL's `undefined_object`: `COMMIT PREPARED` of a transaction that is not
/// prepared (any more).
pub const UNDEFINED_OBJECT: &str = "42704";

/// Why a participant's operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server refused: its error, as the client should see it (SQLSTATE, message).
    Refused {
        /// SQLSTATE.
        code: String,
        /// Message.
        message: String,
    },
    /// The connection failed: whether the operation happened is unknown.
    Lost(String),
}

/// For logs: a refusal shows its code only, since server messages may quote row values.
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused { code, .. } => write!(f, "refused with error {code}"),
            Failure::Lost(reason) => write!(f, "connection lost: {reason}"),
        }
    }
}

/// One shard's side of a transaction, as the coordinator drives it.
pub trait Participant {
    /// The shard.
    fn shard(&self) -> u32;
    /// Whether the transaction wrote there (or may have: unknown counts as written).
    fn wrote(&self) -> bool;
    /// Prepares the transaction under `gid`; with `decision`, first inserts the decision
    /// row for `txn` (listing the writer shards) inside it.
    fn prepare(
        &mut self,
        gid: &Gid,
        decision: Option<(&TxnId, &[u32])>,
    ) -> impl Future<Output = Result<(), Failure>>;
    /// `COMMIT PREPARED`.
    fn commit_prepared(&mut self, gid: &Gid) -> impl Future<Output = Result<(), Failure>>;
    /// `ROLLBACK PREPARED`.
    fn rollback_prepared(&mut self, gid: &Gid) -> impl Future<Output = Result<(), Failure>>;
    /// One-phase `COMMIT`.
    fn commit(&mut self) -> impl Future<Output = Result<(), Failure>>;
    /// `ROLLBACK`.
    fn rollback(&mut self) -> impl Future<Output = Result<(), Failure>>;
}

/// Points where a test build may stop the coordinator dead (crash matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Some participants prepared, not all.
    PreparedSome,
    /// Every participant prepared, before the commit point.
    PreparedAll,
    /// Right after the commit point.
    Decided,
    /// After committing the first non-decision participant.
    CommittingRest,
}

/// How a commit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed on every written shard (some perhaps left to recovery).
    Committed {
        /// Whether two-phase commit was used.
        two_phase: bool,
    },
    /// Nothing was committed; the failure to report.
    RolledBack(Failure),
    /// The commit point's outcome is unknown (connection lost there).
    Unknown {
        /// The decision participant's GID, for the client to look up.
        gid: String,
        /// What happened.
        failure: Failure,
    },
}

/// Commits `participants` (each shard at most once) as transaction `txn`. `at` is called
/// at each [`Point`] (a failpoint hook; a no-op outside tests).
///
/// Round trips for two written shards: the decider's prepare, the others' prepares (at
/// once), the commit point, the other commits (at once).
pub async fn commit<P: Participant>(
    txn: TxnId,
    participants: &mut [P],
    at: impl FnMut(Point),
) -> Outcome {
    commit_deciding(txn, participants, None, at).await
}

/// [`commit`] with the decision shard fixed in advance: XA names every branch at
/// `XA START`, before anyone knows which shards will write, so the MySQL frontend fixes
/// the decider (its first enlisted shard) when the transaction begins. With two or more
/// writers the fixed decider takes part in phase one even if it only read: the decision
/// row is its write. `None` picks the lowest written shard.
pub async fn commit_deciding<P: Participant>(
    txn: TxnId,
    participants: &mut [P],
    decider: Option<u32>,
    mut at: impl FnMut(Point),
) -> Outcome {
    let writer_count = participants.iter().filter(|p| p.wrote()).count();
    if writer_count <= 1 {
        let writer = participants.iter().position(|p| p.wrote());
        return one_phase(participants, writer).await;
    }
    let is_decider = |p: &P| Some(p.shard()) == decider;
    let (mut writers, mut readers): (Vec<&mut P>, Vec<&mut P>) = participants
        .iter_mut()
        .partition(|p| p.wrote() || is_decider(p));
    // The decider is prepared first, so recovery, which rolls a decider back before its
    // other participants, never strands a decided transaction. Without a fixed one it
    // is the lowest shard.
    writers.sort_by_key(|p| (!is_decider(p), p.shard()));
    let decision_shard = writers[0].shard();
    let shards: Vec<u32> = writers.iter().map(|p| p.shard()).collect();
    let gid_of = |shard: u32| Gid {
        txn,
        participant: shard,
        decision: decision_shard,
    };
    // Phase one. The decider first, alone: recovery rolls back a participant past the
    // grace period when its decider is not prepared, which is only safe if no decider
    // is ever prepared after another participant. Read-only participants end meanwhile.
    let (first, rest) = writers.split_at_mut(1);
    let decider_gid = gid_of(decision_shard);
    let decider_prepare = first[0].prepare(&decider_gid, Some((&txn, shards.as_slice())));
    let ending = join_all(readers.iter_mut().map(|p| p.rollback()));
    let (decider_result, _) = join(decider_prepare, ending).await;
    let mut results = Vec::with_capacity(shards.len());
    let decider_ok = decider_result.is_ok();
    results.push(decider_result);
    if decider_ok {
        at(Point::PreparedSome);
        // Then the others, at once.
        let others = join_all(rest.iter_mut().map(|p| {
            let gid = gid_of(p.shard());
            async move { p.prepare(&gid, None).await }
        }))
        .await;
        results.extend(others);
    } else {
        // Not prepared: they only need their transactions ended.
        results.extend(rest.iter().map(|_| Err(Failure::Lost(String::new()))));
    }
    if let Some(failure) = results.iter().find_map(|r| r.clone().err()) {
        tracing::info!(
            gid = %decider_gid,
            shards = ?shards,
            reason = %failure,
            "2PC decision: rollback (a participant did not prepare)"
        );
        let undo = writers.iter_mut().zip(&results).map(|(p, r)| {
            let gid = gid_of(p.shard());
            let prepared = r.is_ok();
            async move {
                let _ = if prepared {
                    p.rollback_prepared(&gid).await
                } else {
                    p.rollback().await
                };
            }
        });
        join_all(undo).await;
        return Outcome::RolledBack(failure);
    }
    at(Point::PreparedAll);
    // The commit point.
    let (decider, others) = writers.split_at_mut(1);
    if let Err(failure) = decider[0].commit_prepared(&decider_gid).await {
        return match failure {
            // "Prepared transaction does not exist": rolled back by someone (recovery past
            // the grace period), so the decision row never became visible: abort the rest.
            Failure::Refused { ref code, .. } if code == UNDEFINED_OBJECT => {
                join_all(others.iter_mut().map(|p| {
                    let gid = gid_of(p.shard());
                    async move { p.rollback_prepared(&gid).await }
                }))
                .await;
                Outcome::RolledBack(failure)
            }
            // Anything else (a lost connection, an error whose cause is unclear): the
            // decision may or may not have been made; recovery will finish either way.
            failure => {
                tracing::warn!(
                    gid = %decider_gid,
                    shards = ?shards,
                    reason = %failure,
                    "2PC decision unknown: the decider was lost at the commit point; recovery finishes it"
                );
                Outcome::Unknown {
                    gid: decider_gid.to_string(),
                    failure,
                }
            }
        };
    }
    tracing::info!(gid = %decider_gid, shards = ?shards, "2PC decision: commit");
    at(Point::Decided);
    // A failure from here on is recovery's to finish: the decision is durable.
    let mut commits: FuturesOrdered<_> = others
        .iter_mut()
        .map(|p| {
            let gid = gid_of(p.shard());
            async move { (p.commit_prepared(&gid).await, gid) }
        })
        .collect();
    let mut committed = 0;
    while let Some((result, gid)) = commits.next().await {
        if let Err(failure) = result {
            tracing::warn!(%gid, reason = %failure, "2PC: committing a participant failed; recovery commits it");
        }
        committed += 1;
        if committed == 1 {
            at(Point::CommittingRest);
        }
    }
    Outcome::Committed { two_phase: true }
}

/// Ends every participant in one phase: the read-only ones, then the one writer.
async fn one_phase<P: Participant>(participants: &mut [P], writer: Option<usize>) -> Outcome {
    for (i, p) in participants.iter_mut().enumerate() {
        if Some(i) != writer {
            let _ = p.commit().await;
        }
    }
    let Some(w) = writer else {
        return Outcome::Committed { two_phase: false };
    };
    match participants[w].commit().await {
        Ok(()) => Outcome::Committed { two_phase: false },
        Err(Failure::Lost(reason)) => Outcome::Unknown {
            gid: String::new(),
            failure: Failure::Lost(reason),
        },
        Err(failure) => Outcome::RolledBack(failure),
    }
}

/// Rolls every participant back.
pub async fn rollback<P: Participant>(participants: &mut [P]) {
    for p in participants.iter_mut() {
        let _ = p.rollback().await;
    }
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
