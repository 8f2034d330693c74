//! One client's session: the main loop over its frames, transaction-pooled binding of
//! server connections, and the simple-query path.
//!
//! A server connection is bound from the first statement that needs one until a
//! ReadyForQuery says the server is idle again; then it goes back to the pool. A client's
//! `BEGIN` is answered by the proxy and sent to the server together with the first
//! statement, once that statement has told us which shard the transaction belongs to.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::BytesMut;
use shardwire_router::{SetCommand, StatementKind, StatementPlan, TxnCommand};
use tokio::io::AsyncWriteExt;

use super::params::SessionParams;
use super::pump::{self, ClientIo, Entry, PumpEnd, Until};
use super::settings::ShardwireSettings;
use super::statements::Statement;
use crate::backend::pool::{self, CheckoutError, PooledConn};
use crate::cancel::{CancelSlot, ServerKey};
use crate::cluster::{DatabaseRuntime, UserRuntime};
use crate::consistency::{Lsn, SessionToken};
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::frame::{Frame, FrameError};
use crate::protocol::pg::read;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{frontend, txn_status};

/// Most extended-protocol messages buffered before a Sync.
const MAX_BATCH: usize = 100_000;

/// A server connection bound to this session.
#[derive(Debug)]
pub(super) struct Bound {
    pub(super) conn: PooledConn,
    pub(super) shard: u32,
    /// Bound to a replica (a failed read there may be retried on the primary).
    pub(super) replica: bool,
}

/// Asks a primary for a position at least the end of every commit so far.
pub(super) const PRIMARY_POSITION_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text";
/// Asks a replica how far it has replayed (at least what the read just saw).
pub(super) const REPLICA_POSITION_SQL: &str = "SELECT pg_last_wal_replay_lsn()::text";

/// Why the session loop stops.
#[derive(Debug)]
pub(super) enum End {
    /// The client left or must be disconnected; nothing more to send.
    Close,
}

/// A client session after authentication.
#[derive(Debug)]
pub struct Session {
    pub(super) io: ClientIo,
    pub(super) db: Arc<DatabaseRuntime>,
    pub(super) user: Arc<UserRuntime>,
    pub(super) params: SessionParams,
    /// Settings before the first SET of the current transaction, restored on rollback.
    pub(super) params_at_txn_start: Option<SessionParams>,
    pub(super) settings: ShardwireSettings,
    /// Per shard, the position this session has written or read up to.
    pub(super) positions: SessionToken,
    pub(super) bound: Option<Bound>,
    /// A BEGIN the proxy answered but has not sent yet.
    pub(super) deferred_begin: Option<String>,
    /// The deferred BEGIN was `READ ONLY`: its transaction may run on a replica.
    pub(super) deferred_read_only: bool,
    /// The proxy refused a statement inside a transaction: everything but the end of the
    /// transaction is refused until then, as PostgreSQL does.
    pub(super) failed: bool,
    /// A batch ended with Flush: the server connection stays bound until the Sync.
    pub(super) awaiting_sync: bool,
    pub(super) statements: HashMap<String, Arc<Statement>>,
    pub(super) unnamed: Option<Arc<Statement>>,
    pub(super) batch: Vec<Frame>,
    pub(super) cancel: Arc<CancelSlot>,
    /// Reused for what goes to the server, so a query costs no buffer allocation.
    server_out: BytesMut,
    /// Reused expected-response queue.
    queue: VecDeque<Entry>,
    /// Hold the client's ReadyForQuery of the next exchange (write concern).
    pub(super) hold_ready: bool,
}

impl Session {
    /// A session for an authenticated client.
    pub(super) fn new(
        io: ClientIo,
        db: Arc<DatabaseRuntime>,
        user: Arc<UserRuntime>,
        params: SessionParams,
        settings: ShardwireSettings,
        cancel: Arc<CancelSlot>,
    ) -> Session {
        Session {
            io,
            db,
            user,
            params,
            params_at_txn_start: None,
            settings,
            positions: SessionToken::default(),
            bound: None,
            deferred_begin: None,
            deferred_read_only: false,
            failed: false,
            awaiting_sync: false,
            statements: HashMap::new(),
            unnamed: None,
            batch: Vec::new(),
            cancel,
            server_out: BytesMut::with_capacity(4096),
            queue: VecDeque::with_capacity(16),
            hold_ready: false,
        }
    }

    /// Serves the client until it leaves.
    pub async fn run(mut self) {
        loop {
            let frame = match self.io.reader.next_frame().await {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(FrameError::Io(_)) | Err(FrameError::Truncated) => break,
                Err(e) => {
                    self.fatal(sqlstate::PROTOCOL_VIOLATION, &format!("invalid frame: {e}"))
                        .await;
                    break;
                }
            };
            let step = match frame.tag() {
                frontend::QUERY => self.simple_query(frame).await,
                frontend::PARSE
                | frontend::BIND
                | frontend::DESCRIBE
                | frontend::EXECUTE
                | frontend::CLOSE => {
                    if self.batch.len() >= MAX_BATCH {
                        self.fatal(
                            sqlstate::PROTOCOL_VIOLATION,
                            "too many extended-protocol messages without Sync",
                        )
                        .await;
                        break;
                    }
                    self.batch.push(frame);
                    Ok(())
                }
                frontend::SYNC | frontend::FLUSH => {
                    self.batch.push(frame);
                    self.run_batch().await
                }
                frontend::TERMINATE => break,
                // Leftovers of a COPY the server already ended; PostgreSQL ignores them too.
                frontend::COPY_DATA | frontend::COPY_DONE | frontend::COPY_FAIL => Ok(()),
                frontend::FUNCTION_CALL => {
                    self.error(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "shardwire does not support the function call protocol message",
                    );
                    self.ready();
                    self.flush().await
                }
                other => {
                    self.fatal(
                        sqlstate::PROTOCOL_VIOLATION,
                        &format!("invalid frontend message type {}", other),
                    )
                    .await;
                    break;
                }
            };
            if step.is_err() {
                break;
            }
        }
        self.finish();
    }

    /// Returns or discards the bound server connection as the session ends.
    fn finish(&mut self) {
        tracing::debug!(user = %self.user.name, db = %self.db.config.name, "session ended");
        self.cancel.set(None);
        if let Some(bound) = self.bound.take() {
            if bound.conn.status == txn_status::IDLE && !bound.conn.broken {
                drop(bound);
            } else {
                // Inside a transaction: never hand it to another client.
                pool::discard(bound.conn);
            }
        }
    }

    /// Appends an ErrorResponse; inside a transaction, marks it failed.
    pub(super) fn error(&mut self, code: &str, message: &str) {
        build::error_response(&mut self.io.out, Severity::Error, code, message);
        if self.in_transaction() {
            self.failed = true;
        }
    }

    /// Sends a FATAL error and flushes; the caller then closes the session.
    pub(super) async fn fatal(&mut self, code: &str, message: &str) {
        build::error_response(&mut self.io.out, Severity::Fatal, code, message);
        let _ = self.io.flush().await;
    }

    /// True inside a transaction block (deferred, bound or failed).
    pub(super) fn in_transaction(&self) -> bool {
        self.deferred_begin.is_some()
            || self.failed
            || self.awaiting_sync
            || self
                .bound
                .as_ref()
                .is_some_and(|b| b.conn.status != txn_status::IDLE)
    }

    /// The status byte a proxy-made ReadyForQuery carries.
    fn status(&self) -> u8 {
        if self.failed {
            txn_status::FAILED
        } else if let Some(b) = &self.bound {
            b.conn.status
        } else if self.deferred_begin.is_some() {
            txn_status::IN_TRANSACTION
        } else {
            txn_status::IDLE
        }
    }

    /// Appends a ReadyForQuery with the session's status.
    pub(super) fn ready(&mut self) {
        let status = self.status();
        build::ready_for_query(&mut self.io.out, status);
    }

    /// Writes pending output to the client.
    pub(super) async fn flush(&mut self) -> Result<(), End> {
        self.io.flush().await.map_err(|_| End::Close)
    }

    async fn simple_query(&mut self, frame: Frame) -> Result<(), End> {
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
        if self.failed {
            let ends_txn = kinds.iter().any(|k| {
                matches!(
                    k.kind,
                    StatementKind::Transaction(
                        TxnCommand::Commit { .. } | TxnCommand::Rollback { .. }
                    )
                )
            });
            if !ends_txn {
                self.error(
                    sqlstate::IN_FAILED_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of transaction block",
                );
                self.ready();
                return self.flush().await;
            }
        }
        let shard = match routed.single_shard() {
            Ok(s) => s,
            Err(e) => {
                self.error(e.sqlstate, &e.message);
                self.ready();
                return self.flush().await;
            }
        };
        let Some(shard) = self.pick_shard(shard) else {
            self.ready();
            return self.flush().await;
        };
        let was_in_txn = self.in_transaction();
        let mut replica = None;
        let single_read =
            kinds.len() == 1 && matches!(kinds[0].kind, StatementKind::Read) && !was_in_txn;
        if self.bound.is_none()
            && (single_read || self.read_only_txn_pending())
            && !forces_primary(sql)
        {
            replica = self.choose_replica(shard).await;
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
            self.queue_position_capture(replica.is_some(), writes, &mut out, &mut queue);
            self.hold_ready = writes && replica.is_none() && self.write_concern_applies();
            let end = self.exchange(out, queue).await?;
            self.hold_ready = false;
            match end {
                // The replica died before answering: the primary serves the read.
                PumpEnd::Retry => replica = None,
                end => break end,
            }
        };
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
        if on_replica {
            check_monotonic(required, captured.as_deref());
        }
        self.observe_position(shard, captured.clone());
        if let Some(status) = held_ready {
            self.await_write_concern(shard, captured, error_seen, status)
                .await?;
        }
        Ok(error_seen)
    }

    /// Decides the shard for a statement given the bound one; None after reporting an error.
    pub(super) fn pick_shard(&mut self, wanted: Option<u32>) -> Option<u32> {
        let bound = self.bound.as_ref().map(|b| b.shard);
        match (wanted, bound) {
            (Some(s), Some(b)) if s != b => {
                self.error(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    &format!(
                        "shardwire: this transaction runs on shard {b} but the statement needs shard {s}; \
                         transactions across shards are not supported yet"
                    ),
                );
                None
            }
            (Some(s), _) => Some(s),
            (None, Some(b)) => Some(b),
            (None, None) => Some(0),
        }
    }

    /// A `BEGIN READ ONLY` waits for its first statement: the whole transaction may then
    /// run on one replica chosen by the session's policy.
    pub(super) fn read_only_txn_pending(&self) -> bool {
        self.deferred_begin.is_some() && self.deferred_read_only && !self.failed
    }

    /// Pipelines a position query after the client's statement: on a replica, how far it
    /// has replayed (monotonic reads); on a primary after a write or commit, the WAL insert
    /// position (read-your-writes).
    pub(super) fn queue_position_capture(
        &self,
        on_replica: bool,
        writes: bool,
        out: &mut BytesMut,
        queue: &mut VecDeque<Entry>,
    ) {
        let sql = if on_replica {
            // Only `session` promises monotonic reads; the others skip the extra statement.
            if self.settings.read_consistency != shardwire_conf::ReadConsistency::Session {
                return;
            }
            REPLICA_POSITION_SQL
        } else if writes {
            PRIMARY_POSITION_SQL
        } else {
            return;
        };
        build::query(out, sql);
        queue.push_back(Entry::capture());
    }

    /// Records a captured position for `shard`.
    pub(super) fn observe_position(&mut self, shard: u32, captured: Option<String>) {
        let Some(lsn) = captured.and_then(|t| t.parse::<Lsn>().ok()) else {
            return;
        };
        self.positions.observe(shard, lsn);
    }

    /// Makes sure a server connection for `shard` (its primary, or replica `replica`) is
    /// bound; on a fresh one, queues the replay of the session's settings. False after
    /// reporting an error.
    pub(super) async fn bind_to(
        &mut self,
        shard: u32,
        replica: Option<usize>,
        out: &mut BytesMut,
        queue: &mut VecDeque<Entry>,
    ) -> bool {
        if self.bound.is_some() {
            return true;
        }
        let Some(shard_rt) = self.db.shard(shard) else {
            self.error(
                sqlstate::INTERNAL_ERROR,
                &format!("shardwire: shard {shard} is not configured"),
            );
            return false;
        };
        let pool = match replica.and_then(|r| shard_rt.replicas.get(r)) {
            Some(pool) => pool,
            None => &shard_rt.primary,
        };
        let (got, replica) = match pool.get().await {
            Err(e) if replica.is_some() => {
                tracing::warn!(node = %pool.node().name, error = %e, "replica unavailable; reading from the primary");
                (shard_rt.primary.get().await, None)
            }
            other => (other, replica),
        };
        let conn = match got {
            Ok(conn) => conn,
            Err(e) => {
                let code = match e {
                    CheckoutError::Exhausted { .. } => sqlstate::TOO_MANY_CONNECTIONS,
                    _ => sqlstate::CONNECTION_FAILURE,
                };
                self.error(code, &format!("shardwire: {e}"));
                return false;
            }
        };
        self.cancel.set(Some(ServerKey {
            node: conn.node.clone(),
            pid: conn.cancel_key.0,
            secret: conn.cancel_key.1,
        }));
        let mut bound = Bound {
            conn,
            shard,
            replica: replica.is_some(),
        };
        if let Some(sql) = self.params.sync_sql(&bound.conn.applied) {
            build::query(out, &sql);
            queue.push_back(Entry::swallow(Until::Ready));
            bound.conn.applied = self.params.pairs().to_vec();
        }
        self.bound = Some(bound);
        true
    }

    /// The reusable server-output buffer and response queue, emptied.
    pub(super) fn take_buffers(&mut self) -> (BytesMut, VecDeque<Entry>) {
        let mut out = std::mem::take(&mut self.server_out);
        out.clear();
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        (out, queue)
    }

    /// Sends `out` to the bound server and streams the answers to the client.
    pub(super) async fn exchange(
        &mut self,
        out: BytesMut,
        mut queue: VecDeque<Entry>,
    ) -> Result<PumpEnd, End> {
        let result = self.exchange_inner(&out, &mut queue).await;
        self.server_out = out;
        self.queue = queue;
        result
    }

    async fn exchange_inner(
        &mut self,
        out: &BytesMut,
        queue: &mut VecDeque<Entry>,
    ) -> Result<PumpEnd, End> {
        let Some(bound) = self.bound.as_mut() else {
            return Ok(PumpEnd::Done {
                error_seen: false,
                captured: None,
                held_ready: None,
            });
        };
        let (sent_before, out_before) = (self.io.sent, self.io.out.len());
        let retryable =
            |s: &Session| s.bound.as_ref().is_some_and(|b| b.replica) && s.io.sent == sent_before;
        if let Err(e) = bound.conn.writer.write_all(out).await {
            if retryable(self) {
                return Ok(self.drop_for_retry(out_before, &e.to_string()));
            }
            return self.server_lost(e.to_string()).await;
        }
        let hold = self.hold_ready;
        match pump::pump(&mut bound.conn, &mut self.io, queue, hold).await {
            PumpEnd::ClientGone => {
                if let Some(b) = self.bound.take() {
                    pool::discard(b.conn);
                }
                Err(End::Close)
            }
            PumpEnd::ServerLost(reason) if retryable(self) => {
                Ok(self.drop_for_retry(out_before, &reason))
            }
            PumpEnd::ServerLost(reason) => self.server_lost(reason).await,
            done => Ok(done),
        }
    }

    /// A replica failed before the client saw anything: forget what it produced, drop the
    /// connection, and let the caller run the request on the primary.
    fn drop_for_retry(&mut self, out_before: usize, reason: &str) -> PumpEnd {
        self.io.out.truncate(out_before);
        if let Some(b) = self.bound.take() {
            tracing::warn!(node = %b.conn.node.name, %reason, "replica failed; retrying the read on the primary");
            let mut conn = b.conn;
            conn.broken = true;
            pool::discard(conn);
        }
        self.cancel.set(None);
        PumpEnd::Retry
    }

    /// The bound server failed: tell the client, drop the connection. Inside a transaction
    /// the client's connection ends too — its transaction is gone and it must know.
    async fn server_lost(&mut self, reason: String) -> Result<PumpEnd, End> {
        let was_in_txn = self.in_transaction();
        let node = match self.bound.take() {
            Some(b) => {
                let name = b.conn.node.name.clone();
                let mut conn = b.conn;
                conn.broken = true;
                pool::discard(conn);
                name
            }
            None => "server".to_string(),
        };
        self.cancel.set(None);
        let message = format!("shardwire: server connection to {node} lost: {reason}");
        if was_in_txn {
            self.fatal(sqlstate::CONNECTION_FAILURE, &message).await;
            return Err(End::Close);
        }
        self.deferred_begin = None;
        self.failed = false;
        build::error_response(
            &mut self.io.out,
            Severity::Error,
            sqlstate::CONNECTION_FAILURE,
            &message,
        );
        self.ready();
        self.flush().await?;
        Ok(PumpEnd::Done {
            error_seen: true,
            captured: None,
            held_ready: None,
        })
    }

    /// After a server answered: release an idle connection to the pool, and settle the
    /// settings snapshot when a transaction ended.
    pub(super) fn after_exchange(&mut self, kinds: &[StatementPlan]) {
        let Some(bound) = &mut self.bound else {
            return;
        };
        if bound.conn.status != txn_status::IDLE || self.awaiting_sync {
            return;
        }
        let rolled_back = kinds.iter().any(|k| {
            matches!(
                k.kind,
                StatementKind::Transaction(TxnCommand::Rollback { .. })
            )
        });
        if let Some(before) = self.params_at_txn_start.take() {
            if rolled_back {
                self.params = before;
                // What the server holds is unknown now: force a full replay next time.
                bound.conn.applied = vec![(String::new(), String::new())];
            }
        }
        self.cancel.set(None);
        self.bound = None;
    }

    /// Records successful SET/RESET statements as session settings.
    pub(super) fn track_settings(&mut self, kinds: &[StatementPlan]) {
        for kind in kinds {
            let StatementKind::Set(cmd) = &kind.kind else {
                continue;
            };
            if cmd.is_shardwire() {
                continue;
            }
            if self.in_transaction() && self.params_at_txn_start.is_none() {
                self.params_at_txn_start = Some(self.params.clone());
            }
            match cmd {
                SetCommand::Assign {
                    name,
                    value,
                    local: false,
                } => self.params.set(name, value),
                SetCommand::Reset { name, local: false } => self.params.reset(name),
                SetCommand::ResetAll => self.params.reset_all(),
                // SET LOCAL ends with the transaction; other forms (SET TRANSACTION, SET
                // CONSTRAINTS) are transaction-scoped too.
                _ => {}
            }
        }
        if let Some(bound) = &mut self.bound {
            bound.conn.applied = self.params.pairs().to_vec();
        }
    }
}

/// The self-check behind `consistency_violations_total`: a replica that, right after
/// serving a read, has replayed less than the session required was below it during the
/// read too.
pub(super) fn check_monotonic(required: Option<Lsn>, captured: Option<&str>) {
    let after = captured.and_then(|c| c.parse::<Lsn>().ok());
    if let (Some(required), Some(after)) = (required, after) {
        if after < required {
            metrics::counter!(crate::metrics::CONSISTENCY_VIOLATIONS).increment(1);
            tracing::error!(%required, served_at = %after, "read served below the session's position");
        }
    }
}

/// The `/* shardwire:primary */` hint: this read must see the primary.
pub(super) fn forces_primary(sql: &str) -> bool {
    sql.contains("shardwire:primary")
}
