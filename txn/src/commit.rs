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

use crate::gid::{Gid, TxnId};

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
pub async fn commit<P: Participant>(
    txn: TxnId,
    participants: &mut [P],
    mut at: impl FnMut(Point),
) -> Outcome {
    // By shard: the decider (lowest shard) is prepared first, so recovery never finds a
    // prepared participant older than the grace period while the decider is not yet
    // prepared by a live coordinator.
    let mut writers: Vec<usize> = (0..participants.len())
        .filter(|&i| participants[i].wrote())
        .collect();
    writers.sort_by_key(|&i| participants[i].shard());
    if writers.len() <= 1 {
        return one_phase(participants, writers.first().copied()).await;
    }
    let Some(&decider) = writers.iter().min_by_key(|&&i| participants[i].shard()) else {
        return one_phase(participants, None).await;
    };
    let decision_shard = participants[decider].shard();
    let shards: Vec<u32> = writers.iter().map(|&i| participants[i].shard()).collect();
    let gid_of = |shard: u32| Gid {
        txn,
        participant: shard,
        decision: decision_shard,
    };
    // Read-only participants end now; their outcome does not matter.
    for p in participants.iter_mut().filter(|p| !p.wrote()) {
        let _ = p.rollback().await;
    }
    // Phase one: every writer prepared (the decider with its decision row).
    let mut prepared = vec![false; participants.len()];
    let mut first_failure = None;
    for &i in &writers {
        let gid = gid_of(participants[i].shard());
        let decision = (i == decider).then_some((&txn, shards.as_slice()));
        match participants[i].prepare(&gid, decision).await {
            Ok(()) => prepared[i] = true,
            Err(f) => {
                first_failure = Some(f);
                break;
            }
        }
        if writers.iter().any(|&j| !prepared[j]) {
            at(Point::PreparedSome);
        }
    }
    if let Some(failure) = first_failure {
        for &i in &writers {
            let gid = gid_of(participants[i].shard());
            let _ = if prepared[i] {
                participants[i].rollback_prepared(&gid).await
            } else {
                participants[i].rollback().await
            };
        }
        return Outcome::RolledBack(failure);
    }
    at(Point::PreparedAll);
    // The commit point.
    let decider_gid = gid_of(decision_shard);
    if let Err(failure) = participants[decider].commit_prepared(&decider_gid).await {
        return match failure {
            Failure::Lost(_) => Outcome::Unknown {
                gid: decider_gid.to_string(),
                failure,
            },
            // Refused: the prepared transaction is gone (rolled back by someone), so the
            // decision row never became visible: abort the rest.
            Failure::Refused { .. } => {
                for &i in writers.iter().filter(|&&i| i != decider) {
                    let _ = participants[i]
                        .rollback_prepared(&gid_of(participants[i].shard()))
                        .await;
                }
                Outcome::RolledBack(failure)
            }
        };
    }
    at(Point::Decided);
    let mut committed = 0;
    for &i in writers.iter().filter(|&&i| i != decider) {
        // A failure here is recovery's to finish: the decision is durable.
        let _ = participants[i]
            .commit_prepared(&gid_of(participants[i].shard()))
            .await;
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
