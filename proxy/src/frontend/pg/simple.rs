//! The simple-query path: route the query string, answer what the proxy answers itself,
//! pick the shard and (for reads) the replica, bind, send the statement with the proxy's
//! pipelined extras, and settle positions and the write concern afterwards.

use shardwire_router::{StatementKind, TxnCommand};

use super::exchange::check_monotonic;
use super::pump::{Entry, PumpEnd, Until};
use super::session::{End, Session};
use crate::consistency::Lsn;
use crate::metrics::QueryKind;
use crate::protocol::pg::build;
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read;
use crate::protocol::pg::sqlstate;

impl Session {
    /// Runs one simple-protocol Query message.
    pub(super) async fn simple_query(&mut self, frame: Frame) -> Result<(), End> {
        if !self.batch.is_empty() {
            self.fatal(
                sqlstate::PROTOCOL_VIOLATION,
                "simple Query received in the middle of an extended-protocol batch",
            )
            .await;
            return Err(End::Close);
        }
        let Ok(sql) = read::query_text(frame.body()) else {
            self.fatal(sqlstate::PROTOCOL_VIOLATION, "malformed Query message")
                .await;
            return Err(End::Close);
        };
        let routed = match self.db.router.route_simple(sql) {
            Ok(r) => r,
            Err(e) => {
                self.error(e.sqlstate, &e.message);
                self.ready();
                return self.flush().await;
            }
        };
        let plan = routed.plan.clone();
        let kinds = &plan.statements;
        if kinds.len() == 1 && crate::admin::is_reload(&kinds[0].kind) {
            match Box::pin(crate::admin::reload(&self.shared.live, self.user.admin)).await {
                Ok(outcome) => {
                    for note in &outcome.notes {
                        build::notice(&mut self.io.out, "01000", note);
                    }
                    build::command_complete(&mut self.io.out, "RELOAD");
                }
                Err(refused) => {
                    let code = match refused {
                        crate::admin::ReloadRefused::NotAdmin => "42501",
                        crate::admin::ReloadRefused::Invalid(_) => "F0000",
                    };
                    self.error(code, &refused.message());
                }
            }
            self.ready();
            return self.flush().await;
        }
        if kinds.len() == 1 && self.answer_locally(&kinds[0].kind, sql) {
            self.ready();
            return self.flush().await;
        }
        if kinds.len() > 1
            && kinds
                .iter()
                .any(|k| super::local::is_proxy_setting(&k.kind))
        {
            // Never let PostgreSQL see them: it would accept any dotted name silently.
            if kinds
                .iter()
                .all(|k| super::local::is_proxy_setting(&k.kind))
            {
                for k in kinds {
                    self.answer_locally(&k.kind, sql);
                }
            } else {
                self.error(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    "shardwire: shardwire.* settings must be sent on their own, not mixed with other statements",
                );
            }
            self.ready();
            return self.flush().await;
        }
        let ends = transaction_end(kinds);
        if self.failed && ends.is_none() {
            self.error(
                sqlstate::IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            self.ready();
            return self.flush().await;
        }
        if self.is_distributed() {
            match ends {
                Some((commit, false)) if kinds.len() == 1 => {
                    Box::pin(self.end_distributed(commit)).await;
                    self.ready();
                    return self.flush().await;
                }
                Some(_) => {
                    self.error(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "shardwire: a transaction that spans shards must end with COMMIT or ROLLBACK \
                         sent on its own (no AND CHAIN, no other statements in the same query string)",
                    );
                    self.ready();
                    return self.flush().await;
                }
                None => {}
            }
        }
        if !self.check_savepoints(kinds.iter()) {
            self.ready();
            return self.flush().await;
        }
        if let Some(spread) = routed.spread {
            return Box::pin(self.spread_simple(sql, spread)).await;
        }
        if let Some(scattered) = routed.scatter {
            return Box::pin(self.scatter_simple(sql, scattered)).await;
        }
        let shard = match routed.single_shard() {
            Ok(s) => s,
            Err(e) => {
                self.error(e.sqlstate, &e.message);
                self.ready();
                return self.flush().await;
            }
        };
        let moves = match (&self.bound, shard) {
            (Some(b), Some(s)) => b.shard != s,
            _ => false,
        };
        if ends.is_some() && kinds.len() > 1 && moves {
            self.error(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "shardwire: this query string ends the transaction on another shard than the one \
                 it runs on; send COMMIT or ROLLBACK on its own",
            );
            self.ready();
            return self.flush().await;
        }
        let Some(shard) = self.pick_shard(shard) else {
            self.ready();
            return self.flush().await;
        };
        let was_in_txn = self.in_transaction();
        let mid_transaction = was_in_txn && ends.is_none();
        let mut replica = None;
        let single_read =
            kinds.len() == 1 && matches!(kinds[0].kind, StatementKind::Read) && !was_in_txn;
        if self.bound.is_none() && (single_read || self.read_only_txn_pending()) {
            replica = self.choose_replica(shard, || forces_primary(sql)).await;
        }
        let writes = kinds.iter().any(|k| {
            matches!(
                k.kind,
                StatementKind::Write | StatementKind::Ddl | StatementKind::Utility
            ) || matches!(
                k.kind,
                StatementKind::Transaction(TxnCommand::Commit { .. })
            )
        });
        let begin = self.deferred_begin.take();
        let required = self.positions.required(shard);
        let end = loop {
            let (mut out, mut queue) = self.take_buffers();
            if !self.bind_to(shard, replica, &mut out, &mut queue).await {
                self.ready();
                return self.flush().await;
            }
            if let Some(begin) = &begin {
                build::query(&mut out, begin);
                queue.push_back(Entry::swallow(Until::Ready));
            }
            if self.failed {
                // The server's transaction is fine but the client's is not: end it by rolling back.
                build::query(&mut out, "ROLLBACK");
                self.failed = false;
            } else {
                out.extend_from_slice(frame.raw());
            }
            queue.push_back(Entry::pass(Until::Ready));
            self.queue_position_capture(
                replica.is_some(),
                writes,
                mid_transaction,
                &mut out,
                &mut queue,
            );
            self.hold_ready = writes && replica.is_none() && self.write_concern_applies();
            if let Some(bound) = &self.bound {
                for k in kinds {
                    bound.conn.node.queries.count(QueryKind::of(&k.kind));
                }
            }
            let end = self.exchange(out, queue).await?;
            self.hold_ready = false;
            match end {
                // The replica died before answering: the primary serves the read.
                PumpEnd::Retry => replica = None,
                end => break end,
            }
        };
        if writes {
            if let Some(bound) = self.bound.as_mut() {
                bound.wrote = true;
            }
        }
        let error_seen = self.settle(shard, required, replica.is_some(), end).await?;
        if !error_seen {
            self.track_settings(kinds);
        }
        self.after_exchange(kinds);
        Ok(())
    }

    /// After an exchange: the monotonic-reads self-check, the session's new position on the
    /// shard, and the write concern. Returns whether the server reported an error.
    pub(super) async fn settle(
        &mut self,
        shard: u32,
        required: Option<Lsn>,
        on_replica: bool,
        end: PumpEnd,
    ) -> Result<bool, End> {
        let PumpEnd::Done {
            error_seen,
            captured,
            held_ready,
        } = end
        else {
            return Ok(true);
        };
        // Parsed once here for the self-check, the session's positions and the write concern.
        let captured = captured.and_then(|text| text.parse::<Lsn>().ok());
        if on_replica {
            check_monotonic(required, captured);
        }
        self.observe_position(shard, captured);
        if let Some(status) = held_ready {
            Box::pin(self.await_write_concern(shard, captured, error_seen, status)).await?;
        }
        Ok(error_seen)
    }

    /// Refuses savepoints in a transaction that spans shards (they would exist on one shard
    /// only) and remembers them otherwise, so that no shard joins later. False after
    /// queuing the error.
    pub(super) fn check_savepoints<'p>(
        &mut self,
        mut kinds: impl Iterator<Item = &'p shardwire_router::StatementPlan>,
    ) -> bool {
        let savepoint = kinds.any(|k| {
            matches!(
                k.kind,
                StatementKind::Transaction(
                    TxnCommand::Savepoint(_) | TxnCommand::Release(_) | TxnCommand::RollbackTo(_)
                )
            )
        });
        if !savepoint {
            return true;
        }
        if self.is_distributed() {
            self.error(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "shardwire: SAVEPOINT, RELEASE and ROLLBACK TO are not supported in a transaction \
                 that spans shards",
            );
            return false;
        }
        if self.in_transaction() {
            self.txn_savepoint = true;
        }
        true
    }

    /// Whether the bound connection is inside the client's explicit transaction block, so
    /// that another shard may join it (not in the middle of an extended-protocol pipeline,
    /// whose implicit transaction is one server's).
    fn can_switch_shard(&self) -> bool {
        !self.awaiting_sync
            && self
                .bound
                .as_ref()
                .is_some_and(|b| b.conn.status != crate::protocol::pg::tag::txn_status::IDLE)
    }

    /// Decides the shard for a statement given the bound one; None after reporting an error.
    pub(super) fn pick_shard(&mut self, wanted: Option<u32>) -> Option<u32> {
        let bound = self.bound.as_ref().map(|b| b.shard);
        match (wanted, bound) {
            (Some(s), Some(b)) if s != b && self.can_switch_shard() => {
                if self.switch_shard(s) {
                    Some(s)
                } else {
                    None
                }
            }
            (Some(s), Some(b)) if s != b => {
                self.error(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    &format!(
                        "shardwire: this pipeline runs on shard {b} but the statement needs shard {s}; \
                         send a Sync first, or open a transaction with BEGIN"
                    ),
                );
                None
            }
            (Some(s), _) => Some(s),
            (None, Some(b)) => Some(b),
            (None, None) => Some(crate::cluster::any_shard(&self.db.shards)),
        }
    }
}

/// The first statement of `kinds` that ends a transaction: `(commit, and_chain)` for
/// COMMIT/END and ROLLBACK.
pub(super) fn transaction_end(kinds: &[shardwire_router::StatementPlan]) -> Option<(bool, bool)> {
    kinds.iter().find_map(|k| match k.kind {
        StatementKind::Transaction(TxnCommand::Commit { chain }) => Some((true, chain)),
        StatementKind::Transaction(TxnCommand::Rollback { chain }) => Some((false, chain)),
        _ => None,
    })
}

pub(super) use crate::frontend::replica_choice::forces_primary;
