//! Transactions that span shards (DESIGN §7). A shard joins the client's transaction when
//! a statement first needs it (its BEGIN pipelined with that statement); the session keeps
//! one bound connection (the shard of the current statement) and parks the others. COMMIT
//! with several participants goes to the coordinator in `shardwire_txn::commit` (one phase
//! for one written shard, two-phase commit otherwise); ROLLBACK ends them all.

mod copy;
mod failpoint;
mod participant;
mod spread;
mod spread_batch;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use shardwire_txn::commit::{self, Failure, Outcome};
use shardwire_txn::TxnId;

use super::session::{Bound, Session};
use crate::backend::pool;
use crate::protocol::pg::build;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::txn_status;

pub(crate) use failpoint::failpoint;
use participant::PgParticipant;
pub use participant::DECISION_TABLE;
pub(super) use spread_batch::spreads_in_extended;

/// This process's coordinator id (48 random bits) and next transaction number.
pub(crate) fn next_txn() -> TxnId {
    static INSTANCE: OnceLock<u64> = OnceLock::new();
    static SEQUENCE: AtomicU64 = AtomicU64::new(1);
    TxnId {
        instance: *INSTANCE.get_or_init(|| rand::random::<u64>() & 0xffff_ffff_ffff),
        sequence: SEQUENCE.fetch_add(1, Ordering::Relaxed),
    }
}

impl Session {
    /// Whether the transaction has more than one participant.
    pub(super) fn is_distributed(&self) -> bool {
        !self.parked.is_empty()
    }

    /// Inside an explicit transaction block bound to another shard: makes `shard` the
    /// bound one, parking the current connection. A shard not yet in the transaction gets
    /// the transaction's BEGIN before its first statement. False (error queued) when the
    /// transaction cannot move: it already failed on the server.
    pub(super) fn switch_shard(&mut self, shard: u32) -> bool {
        let Some(current) = self.bound.take() else {
            return true;
        };
        if current.conn.status == txn_status::FAILED {
            self.bound = Some(current);
            self.error(
                sqlstate::IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            return false;
        }
        let joins = !self.parked.iter().any(|b| b.shard == shard);
        if joins && self.txn_savepoint {
            self.bound = Some(current);
            self.error(
                sqlstate::FEATURE_NOT_SUPPORTED,
                &format!(
                    "shardwire: shard {shard} cannot join a transaction that has used SAVEPOINT \
                     (the savepoint would not exist there); start the transaction on all its shards \
                     before the savepoint, or do without it"
                ),
            );
            return false;
        }
        let mut current = current;
        if self.parked.is_empty() && self.txn_begin.is_none() && self.wants_lock_timeout() {
            // The client sent BEGIN itself (extended protocol, or with other statements):
            // the first shard has no lock_timeout yet; the transaction now spans shards.
            current.lock_timeout_pending = true;
        }
        self.parked.push(current);
        match self.parked.iter().position(|b| b.shard == shard) {
            Some(i) => {
                let bound = self.parked.swap_remove(i);
                self.cancel.set(Some(crate::cancel::ServerKey {
                    node: bound.conn.node.clone(),
                    pid: bound.conn.cancel_key.0,
                    secret: bound.conn.cancel_key.1,
                }));
                self.bound = Some(bound);
            }
            None => {
                let begin = self
                    .txn_begin
                    .clone()
                    .unwrap_or_else(|| self.begin_text("BEGIN"));
                self.deferred_begin = Some(begin);
            }
        }
        true
    }

    /// Ends a transaction with several participants: COMMIT through the coordinator,
    /// ROLLBACK (or COMMIT of a failed transaction) on all. Queues the client's answer
    /// (CommandComplete or the error); the caller adds ReadyForQuery.
    pub(super) async fn end_distributed(&mut self, commit_wanted: bool) {
        self.finish_distributed(commit_wanted, "COMMIT", Some("ROLLBACK"))
            .await;
    }

    /// [`Session::end_distributed`] with the tags to answer: `committed` after a commit,
    /// `rollback_tag` (if any) after a rollback the client asked for. True when the
    /// transaction committed.
    pub(super) async fn finish_distributed(
        &mut self,
        commit_wanted: bool,
        committed: &str,
        rollback_tag: Option<&str>,
    ) -> bool {
        let mut all: Vec<Bound> = std::mem::take(&mut self.parked);
        all.extend(self.bound.take());
        all.sort_by_key(|b| b.shard);
        let failed = self.failed || all.iter().any(|b| b.conn.status == txn_status::FAILED);
        if commit_wanted && !failed && all.len() > 1 {
            // A "read" may have written (a function, a CTE): ask each supposed reader
            // whether its transaction has an id, i.e. wrote something.
            for b in all.iter_mut().filter(|b| !b.wrote) {
                b.wrote = match crate::backend::control::run(
                    &mut b.conn,
                    &["SELECT pg_current_xact_id_if_assigned() IS NOT NULL"],
                )
                .await
                {
                    Ok(answer) => answer.first_value() != Some("f"),
                    Err(_) => true,
                };
            }
        }
        let db = self.db.clone();
        let has_replicas = |shard: u32| db.shard(shard).is_some_and(|s| !s.replicas.is_empty());
        let mut participants: Vec<PgParticipant<'_>> = all
            .iter_mut()
            .map(|b| PgParticipant {
                shard: b.shard,
                wrote: b.wrote,
                // Statements inside the transaction captured positions before the commit
                // record; a replica between those and the commit would miss the rows.
                capture: b.wrote && !b.replica && has_replicas(b.shard),
                position: None,
                conn: &mut b.conn,
            })
            .collect();
        let outcome = if commit_wanted && !failed {
            failpoint("begun");
            let txn = next_txn();
            Some(commit::commit(txn, &mut participants, |p| failpoint(point_name(p))).await)
        } else {
            commit::rollback(&mut participants).await;
            None
        };
        // Read-your-writes for `session` reads on replicas: the commit's positions.
        let positions: Vec<(u32, Option<String>)> = participants
            .iter_mut()
            .map(|p| (p.shard, p.position.take()))
            .collect();
        drop(participants);
        let mut concern_errors = Vec::new();
        if matches!(outcome, Some(Outcome::Committed { .. })) {
            for (shard, position) in positions {
                let lsn = position.and_then(|text| text.parse::<crate::consistency::Lsn>().ok());
                self.observe_position(shard, lsn);
                // The write concern holds for every written shard.
                if let (Some(lsn), true) = (lsn, self.write_concern_applies()) {
                    if let Some(message) = self.wait_for_concern(shard, lsn).await {
                        concern_errors.push(message);
                    }
                }
            }
        }
        let done = matches!(outcome, Some(Outcome::Committed { .. }));
        for mut bound in all {
            if !done {
                // Rolled back: SETs made in the transaction are undone on the server, so
                // what the connection holds is unknown; force a full replay next time.
                bound.conn.applied = vec![(String::new(), String::new())];
            }
            let healthy = bound.conn.status == txn_status::IDLE && !bound.conn.broken;
            if !healthy {
                pool::discard(bound.conn);
            }
        }
        self.txn_savepoint = false;
        self.deferred_read_only = false;
        self.cancel.set(None);
        self.txn_begin = None;
        self.deferred_begin = None;
        self.failed = false;
        if let Some(before) = self.params_at_txn_start.take() {
            if !done {
                self.params = before;
            }
        }
        let kind = |two_phase: bool| if two_phase { "2pc" } else { "single" };
        match outcome {
            None => {
                crate::metrics::transaction("rollback", "2pc");
                if let Some(tag) = rollback_tag {
                    build::command_complete(&mut self.io.out, tag);
                }
            }
            Some(Outcome::Committed { two_phase }) => {
                crate::metrics::transaction("commit", kind(two_phase));
                build::command_complete(&mut self.io.out, committed);
                for message in concern_errors {
                    build::error_response(
                        &mut self.io.out,
                        build::Severity::Error,
                        sqlstate::WRITE_CONCERN_TIMEOUT,
                        &message,
                    );
                }
            }
            Some(Outcome::RolledBack(failure)) => {
                crate::metrics::transaction("rollback", "2pc");
                let (code, message) = match failure {
                    Failure::Refused { code, message } => (code, message),
                    Failure::Lost(reason) => (
                        sqlstate::CONNECTION_FAILURE.to_string(),
                        format!("shardwire: a shard was lost before the commit; the transaction was rolled back: {reason}"),
                    ),
                };
                build::error_response(&mut self.io.out, build::Severity::Error, &code, &message);
            }
            Some(Outcome::Unknown { gid, failure }) => {
                crate::metrics::transaction("unknown", "2pc");
                let reason = match failure {
                    Failure::Refused { message, .. } | Failure::Lost(message) => message,
                };
                build::error_response(
                    &mut self.io.out,
                    build::Severity::Error,
                    sqlstate::TRANSACTION_RESOLUTION_UNKNOWN,
                    &format!(
                        "shardwire: transaction resolution unknown: the connection to the shard holding \
                         the decision was lost at the commit point ({reason}); recovery will finish it \
                         either way; look for prepared transaction {gid} or its decision row \
                         in {DECISION_TABLE}"
                    ),
                );
            }
        }
        done
    }
}

fn point_name(point: commit::Point) -> &'static str {
    match point {
        commit::Point::PreparedSome => "prepared_some",
        commit::Point::PreparedAll => "prepared_all",
        commit::Point::Decided => "decided",
        commit::Point::CommittingRest => "committing_rest",
    }
}
