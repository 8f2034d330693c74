//! One client's session: its state, the main loop over its frames, and transaction-pooled
//! release of server connections (the simple-query path is in `simple`, binding and
//! exchanging with a server in `exchange`).
//!
//! A server connection is bound from the first statement that needs one until a
//! ReadyForQuery says the server is idle again; then it goes back to the pool. A client's
//! `BEGIN` is answered by the proxy and sent to the server together with the first
//! statement, once that statement has told us which shard the transaction belongs to.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::BytesMut;
use shardwire_router::{SetCommand, StatementKind, StatementPlan, TxnCommand};

use super::params::SessionParams;
use super::pump::{ClientIo, Entry};
use super::settings::ShardwireSettings;
use super::statements::Statement;
use crate::backend::pool::{self, PooledConn};
use crate::cancel::CancelSlot;
use crate::clients::{ClientEntry, ClientState};
use crate::cluster::{DatabaseRuntime, UserRuntime};
use crate::consistency::SessionToken;
use crate::frontend::limits::{with_query_timeout, BoxedCancel};
use crate::live::LiveCluster;
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::frame::{Frame, FrameError};
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
    /// The client's transaction wrote on this shard (decides 1PC vs 2PC at COMMIT).
    pub(super) wrote: bool,
    /// The transaction's BEGIN reached this server without the proxy's `lock_timeout`
    /// (sent by the client itself) and another shard has joined: set it before the next
    /// statement here.
    pub(super) lock_timeout_pending: bool,
}

/// Why the session loop stops.
#[derive(Debug)]
pub(super) enum End {
    /// The client left or must be disconnected; nothing more to send.
    Close,
}

/// What a session shares with the rest of the proxy.
#[derive(Debug)]
pub struct Shared {
    /// The running configuration.
    pub live: Arc<LiveCluster>,
    /// The generation `db` comes from.
    pub generation: u64,
    /// This client's entry in `SHOW shardwire.clients`.
    pub client: Arc<ClientEntry>,
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
    /// The other shards' connections of a transaction that spans shards.
    pub(super) parked: Vec<Bound>,
    /// The client's BEGIN, sent again to each shard that joins its transaction.
    pub(super) txn_begin: Option<String>,
    /// The transaction used a savepoint: no other shard may join it (the savepoint would
    /// not exist there).
    pub(super) txn_savepoint: bool,
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
    /// The statement of the batch's last Bind, for the slow-query log.
    pub(super) last_bound: Option<Arc<Statement>>,
    pub(super) batch: Vec<Frame>,
    pub(super) cancel: Arc<CancelSlot>,
    /// Reused for what goes to the server, so a query costs no buffer allocation.
    pub(super) server_out: BytesMut,
    /// Reused expected-response queue.
    pub(super) queue: VecDeque<Entry>,
    /// Hold the client's ReadyForQuery of the next exchange (write concern).
    pub(super) hold_ready: bool,
    pub(super) shared: Shared,
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
        shared: Shared,
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
            parked: Vec::new(),
            txn_begin: None,
            txn_savepoint: false,
            deferred_begin: None,
            deferred_read_only: false,
            failed: false,
            awaiting_sync: false,
            statements: HashMap::new(),
            unnamed: None,
            last_bound: None,
            batch: Vec::new(),
            cancel,
            // Allocated by the first statement that needs a server, then reused.
            server_out: BytesMut::new(),
            queue: VecDeque::new(),
            hold_ready: false,
            shared,
        }
    }

    /// Serves the client until it leaves.
    pub async fn run(mut self) {
        loop {
            let limit = self.db.idle_limits.applying(self.in_transaction());
            let next = crate::frontend::limits::next_request(limit, self.io.reader.next_frame());
            let Ok(next) = next.await else {
                if let Some(limit) = limit {
                    self.idle_timeout(limit).await;
                }
                break;
            };
            let frame = match next {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(FrameError::Io(_)) | Err(FrameError::Truncated) => break,
                Err(e) => {
                    self.fatal(sqlstate::PROTOCOL_VIOLATION, &format!("invalid frame: {e}"))
                        .await;
                    break;
                }
            };
            self.follow_reload();
            let step = match frame.tag() {
                frontend::QUERY => {
                    let started = self.request_started();
                    // Kept (a reference-counted copy) only for the slow-query log.
                    let query = self.db.requests.logs_slow_requests().then(|| frame.clone());
                    let watch = self.query_watch();
                    let step = with_query_timeout(watch, self.simple_query(frame)).await;
                    self.request_done(started, || {
                        let query = query?;
                        let body = query.body();
                        let sql = body.strip_suffix(b"\0").unwrap_or(body);
                        Some(String::from_utf8_lossy(sql).into_owned())
                    });
                    step
                }
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
                    let started = self.request_started();
                    let watch = self.query_watch();
                    let step = with_query_timeout(watch, self.run_batch()).await;
                    let last = self.last_bound.take();
                    self.request_done(started, || last.map(|s| s.sql.to_string()));
                    step
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

    /// With `query_timeout` set: the limit, and what runs when a request outlives it —
    /// a cancel to every server running the client's statement (one, or each shard of a
    /// scattered read). Nothing is cloned when no limit is set.
    fn query_watch(&self) -> Option<(std::time::Duration, impl FnOnce() -> BoxedCancel)> {
        let limit = self.db.idle_limits.query?;
        let slot = self.cancel.clone();
        let user = self.user.clone();
        Some((limit, move || -> BoxedCancel {
            Box::pin(async move {
                tracing::warn!(user = %user.name, ?limit, "query_timeout: canceling a request on its servers");
                slot.cancel_running().await;
            })
        }))
    }

    /// The client sat idle past `limit`: tell it why the connection ends, as PostgreSQL
    /// does at its own idle timeouts. Leaving the loop then rolls back an open
    /// transaction (its server connections are closed, never pooled mid-transaction).
    async fn idle_timeout(&mut self, limit: crate::frontend::limits::IdleLimit) {
        use crate::frontend::limits::{spelled, IdleLimit};
        let (code, what) = match limit {
            IdleLimit::Idle(_) => (sqlstate::IDLE_SESSION_TIMEOUT, "idle-session"),
            IdleLimit::InTransaction(_) => {
                (sqlstate::IDLE_IN_TRANSACTION_TIMEOUT, "idle-in-transaction")
            }
        };
        let message = format!(
            "terminating connection due to {what} timeout (shardwire {} = {})",
            limit.key(),
            spelled(limit.duration())
        );
        tracing::info!(user = %self.user.name, limit = limit.key(), "client idle past its limit; disconnecting");
        self.fatal(code, &message).await;
    }

    /// Between transactions, moves to the cluster of the latest reload (if the database is
    /// still configured; a removed one stays with its connected clients).
    fn follow_reload(&mut self) {
        let generation = self.shared.live.generation();
        if generation == self.shared.generation || !self.between_transactions() {
            return;
        }
        self.shared.generation = generation;
        let cluster = self.shared.live.load();
        self.user = UserRuntime::after_reload(&self.user, &cluster);
        let Some(db) = cluster.database(&self.db.config.name) else {
            return;
        };
        let replan = !crate::cluster::same_layout(&self.db.config, &db.config);
        self.db = db.clone();
        if replan {
            self.replan_statements();
        }
    }

    /// The table layout changed: plan the session's prepared statements again with the
    /// new router, so none keeps routing by the old layout. A statement the new layout
    /// refuses keeps its old plan; its next Bind reports what the server says.
    fn replan_statements(&mut self) {
        let replan = |db: &DatabaseRuntime, stmt: &Arc<Statement>, named: bool| {
            let plan = db.router.prepare(&stmt.sql, &stmt.param_types).ok()?;
            Some(if named {
                db.statements
                    .get_or_insert(&stmt.sql, &stmt.param_types, plan)
            } else {
                super::statements::unnamed(&stmt.sql, &stmt.param_types, plan)
            })
        };
        for stmt in self.statements.values_mut() {
            if let Some(fresh) = replan(&self.db, stmt, true) {
                *stmt = fresh;
            }
        }
        if let Some(unnamed) = self.unnamed.as_mut() {
            if let Some(fresh) = replan(&self.db, unnamed, false) {
                *unnamed = fresh;
            }
        }
    }

    /// Nothing of a transaction or an unfinished exchange is held.
    fn between_transactions(&self) -> bool {
        self.bound.is_none()
            && self.parked.is_empty()
            && self.batch.is_empty()
            && !self.awaiting_sync
            && self.deferred_begin.is_none()
            && !self.in_transaction()
    }

    fn request_started(&self) -> std::time::Instant {
        self.shared.client.request_started();
        std::time::Instant::now()
    }

    /// Records a request's duration (histogram, slow-query log) and the client's state.
    fn request_done(&self, started: std::time::Instant, sql: impl FnOnce() -> Option<String>) {
        self.db.requests.finished(
            started,
            crate::frontend::slow_query::Requester {
                protocol: "postgres",
                user: &self.user.name,
                database: &self.db.config.name,
            },
            &self.db.router,
            sql,
        );
        self.shared.client.set_state(if self.in_transaction() {
            ClientState::IdleInTransaction
        } else {
            ClientState::Idle
        });
    }

    /// Returns or discards the bound server connection as the session ends.
    fn finish(&mut self) {
        tracing::debug!(user = %self.user.name, db = %self.db.config.name, "session ended");
        self.cancel.set(None);
        for parked in self.parked.drain(..) {
            // Mid-transaction: closing the connection rolls it back.
            pool::discard(parked.conn);
        }
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
            || !self.parked.is_empty()
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
        } else if self.deferred_begin.is_some() || !self.parked.is_empty() {
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
        self.txn_begin = None;
        self.txn_savepoint = false;
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
            // Compared first: this runs after every statement, and a clone per statement
            // was the largest allocation on the pgbench path.
            if bound.conn.applied.as_slice() != self.params.pairs() {
                bound.conn.applied = self.params.pairs().to_vec();
            }
        }
    }
}
