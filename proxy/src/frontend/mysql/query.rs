//! COM_QUERY: route the text, answer what the proxy owns (transaction control, session
//! settings, `shardwire.*`), and run the rest on the shard (or shards) it needs.

use crate::metrics::QueryKind;
use std::sync::Arc;

use shardwire_router::{Routed, StatementKind, TxnCommand};

use super::backend::{checkout_node, ConnError, Pinned};
use super::cancel::{kill_query, parse_kill, KillError};
use super::forward::{lost, AnswerKind, Ended, Sink};
use super::reply;
use super::session::{Session, Stop};
use super::statements::StatementRequest;
use super::xa::BranchError;
use crate::backend::mysql::conn::{MyConn, ServerStatement};
use crate::backend::mysql::pool::discard;
use crate::consistency::{gtid_position, Lsn};
use crate::frontend::replica_choice::{choose_replica, forces_primary};
use crate::protocol::mysql::errcode;
use crate::protocol::mysql_stream::Packet;

/// `Deadlock found when trying to get lock`.
const ER_LOCK_DEADLOCK: u16 = 1213;

/// `Unknown thread id`.
const ER_NO_SUCH_THREAD: errcode::ErrorCode = errcode::ErrorCode {
    code: 1094,
    sqlstate: "HY000",
};

/// `You are not owner of thread`.
const ER_KILL_DENIED_ERROR: errcode::ErrorCode = errcode::ErrorCode {
    code: 1095,
    sqlstate: "HY000",
};

/// `SAVEPOINT … does not exist`.
const ER_SP_DOES_NOT_EXIST: errcode::ErrorCode = errcode::ErrorCode {
    code: 1305,
    sqlstate: "42000",
};

/// What a statement sends to the server that runs it.
pub(super) enum Request<'a> {
    /// These packets, as they are.
    Raw(&'a [u8]),
    /// A prepared statement's execute, made for the connection that runs it.
    Statement(&'a StatementRequest),
    /// A COM_STMT_PREPARE of `sql`; the server's statement id is recorded.
    Prepare {
        /// The packet.
        bytes: &'a [u8],
        /// Its text.
        sql: &'a Arc<str>,
    },
}

impl Session {
    /// Answers a COM_QUERY.
    pub(super) async fn query(&mut self, packet: Packet) -> Option<Stop> {
        let Ok(sql) = std::str::from_utf8(&packet.payload()[1..]) else {
            reply::err(
                self,
                1,
                errcode::ER_WRONG_ARGUMENTS,
                "the statement is not valid UTF-8: the proxy routes UTF-8 text only",
            );
            return None;
        };
        if let Some((query_only, id)) = parse_kill(sql) {
            Box::pin(self.kill(query_only, id)).await;
            return None;
        }
        let routed = match self.db.router.route_simple(sql) {
            Ok(routed) => routed,
            Err(e) => {
                reply::route_err(self, &e);
                return None;
            }
        };
        let statements = &routed.plan.statements;
        self.query_kind = statements
            .first()
            .map_or(QueryKind::Other, |s| QueryKind::of(&s.kind));
        if statements.len() == 1 {
            let kind = statements[0].kind.clone();
            if crate::admin::is_reload(&kind) {
                Box::pin(self.reload()).await;
                return None;
            }
            match kind {
                StatementKind::Empty => {
                    reply::err(self, 1, errcode::ER_EMPTY_QUERY, "Query was empty");
                    return None;
                }
                StatementKind::Transaction(command) => {
                    self.transaction_command(command).await;
                    return None;
                }
                StatementKind::Set(command) => {
                    self.set_command(&packet, &routed, command).await;
                    return None;
                }
                StatementKind::Show(name) if name.starts_with("shardwire.") => {
                    self.show_shardwire(&name);
                    return None;
                }
                StatementKind::Show(name) if matches!(name.as_str(), "warnings" | "errors") => {
                    Box::pin(self.show_diagnostics(&packet)).await;
                    return None;
                }
                StatementKind::Use(name) => {
                    self.use_database(&name);
                    return None;
                }
                _ => {}
            }
        } else if self.caps & crate::protocol::mysql::consts::cap::MULTI_STATEMENTS == 0 {
            // Clients that did not ask for multi-statements get what MariaDB gives them:
            // a syntax error, not a second statement (stacked-query injection stays shut).
            reply::err(
                self,
                1,
                errcode::ER_PARSE_ERROR,
                "You have an error in your SQL syntax: several statements in one query \
                 need CLIENT_MULTI_STATEMENTS",
            );
            return None;
        } else if let Some(bad) = statements.iter().find(|s| {
            matches!(
                s.kind,
                StatementKind::Transaction(_) | StatementKind::Set(_) | StatementKind::Show(_)
            )
        }) {
            let _ = bad;
            reply::err(
                self,
                1,
                errcode::ER_NOT_SUPPORTED_YET,
                "transaction control and SET must be sent as statements of their own, \
                 not inside a multi-statement query string",
            );
            return None;
        }
        self.table_lock = table_lock_change(sql);
        self.run_routed(&packet, &routed).await;
        self.table_lock = None;
        None
    }

    /// Runs a data statement (or several on one shard) where the router put it.
    async fn run_routed(&mut self, packet: &Packet, routed: &Routed) {
        let schema_change = routed
            .plan
            .statements
            .iter()
            .any(|s| matches!(s.kind, StatementKind::Ddl));
        if schema_change {
            // MySQL commits the open transaction before a schema change, which then runs
            // on its own (XA refuses DDL), also under autocommit = 0.
            if (self.txn.is_some() || self.pinned.is_some()) && !self.commit().await {
                return;
            }
            self.implicit_transaction_allowed = false;
            self.run_routed_now(packet, routed).await;
            self.implicit_transaction_allowed = true;
            return;
        }
        self.run_routed_now(packet, routed).await;
    }

    async fn run_routed_now(&mut self, packet: &Packet, routed: &Routed) {
        if let Some(scatter) = &routed.scatter {
            let text = packet.payload().get(1..).unwrap_or_default();
            let sql = std::str::from_utf8(text).unwrap_or_default();
            Box::pin(self.run_scatter(scatter, sql)).await;
            return;
        }
        if let Some(spread) = &routed.spread {
            let shards = spread.shards.clone();
            let plan = spread.plan.clone();
            Box::pin(self.run_spread(packet, &plan, &shards)).await;
            return;
        }
        let shard = match routed.single_shard() {
            Ok(shard) => shard,
            Err(e) => {
                reply::route_err(self, &e);
                return;
            }
        };
        let writes = routed
            .plan
            .statements
            .iter()
            .any(|s| !matches!(s.kind, StatementKind::Read | StatementKind::Show(_)));
        self.execute(
            shard,
            writes,
            Request::Raw(packet.raw()),
            AnswerKind::Results,
            Sink::Client,
        )
        .await;
    }

    /// Sends `request` to the connection that serves `shard` and relays the answer: the
    /// transaction's branch, the pinned connection, or a pooled one. `None` for `shard`
    /// means any shard will do.
    pub(super) async fn execute(
        &mut self,
        shard: Option<u32>,
        writes: bool,
        request: Request<'_>,
        kind: AnswerKind,
        sink: Sink,
    ) -> Option<Ended> {
        let prepare = matches!(request, Request::Prepare { .. });
        if self.txn.is_none()
            && self.pinned.is_none()
            && !self.autocommit
            && !prepare
            && self.implicit_transaction_allowed
        {
            // autocommit = 0: the statement begins a transaction.
            self.txn = Some(self.new_transaction(false));
        }
        if let Some(pinned) = self.pinned.as_mut() {
            if shard.is_some_and(|s| s != pinned.shard) {
                let message = format!(
                    "shardwire: the open transaction runs on shard {} (a statement the proxy \
                     does not track opened it); this statement needs shard {}",
                    pinned.shard,
                    shard.unwrap_or_default()
                );
                reply::err(self, 1, errcode::ER_NOT_SUPPORTED_YET, &message);
                return None;
            }
            let mut pinned = self.pinned.take()?;
            let result = self
                .run_request(&mut pinned.conn, &request, kind, sink)
                .await;
            if let (Some(locks), Some(ended)) = (self.table_lock.take(), &result) {
                if ended.error.is_none() {
                    pinned.tables_locked = locks;
                }
            }
            if pinned.conn.broken {
                discard(pinned.conn);
            } else if pinned.still_needed() {
                self.pinned = Some(pinned);
            }
            return result;
        }
        if writes && self.txn.as_ref().is_some_and(|t| t.read_only) {
            reply::err(
                self,
                1,
                errcode::ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
                "Cannot execute statement in a READ ONLY transaction",
            );
            return None;
        }
        if let Some(mut txn) = self.txn.take() {
            let shard = shard
                .or_else(|| txn.branches.first().map(|b| b.shard))
                .unwrap_or_else(|| crate::cluster::any_shard(&self.db.shards));
            // A READ ONLY transaction reads where the consistency level allows, once per
            // shard, for the whole transaction (one snapshot per shard).
            let replica = if txn.read_only && !txn.has_branch(shard) {
                self.choose_replica(shard, &request).await
            } else {
                None
            };
            let result = match txn
                .branch_on(&self.db, shard, replica, &self.settings)
                .await
            {
                Ok(branch) => {
                    branch.wrote |= writes;
                    let outcome = self
                        .run_request(&mut branch.conn, &request, kind, sink)
                        .await;
                    if branch.conn.broken {
                        txn.doomed = Some(format!(
                            "the connection to shard {shard} was lost inside the transaction"
                        ));
                    }
                    outcome
                }
                Err(e) => {
                    self.branch_failed(shard, &e);
                    None
                }
            };
            txn.last_shard = Some(shard);
            let deadlocked = result
                .as_ref()
                .and_then(|e| e.error.as_ref())
                .is_some_and(|(code, _, _)| *code == ER_LOCK_DEADLOCK);
            if deadlocked {
                // The server rolled its branch back, and MySQL ends the whole transaction
                // on a deadlock: so do the other shards.
                txn.rollback().await;
                return result;
            }
            self.txn = Some(txn);
            return result;
        }
        let shard = shard.unwrap_or_else(|| crate::cluster::any_shard(&self.db.shards));
        let replica = match (&request, kind, writes) {
            (Request::Raw(_) | Request::Statement(_), AnswerKind::Results, false) => {
                self.choose_replica(shard, &request).await
            }
            _ => None,
        };
        let mut replica = replica;
        let checked_out = match checkout_node(&self.db, shard, replica, &self.settings).await {
            // A replica that cannot be reached: the read goes to the primary.
            Err(_) if replica.is_some() => {
                replica = None;
                checkout_node(&self.db, shard, None, &self.settings).await
            }
            other => other,
        };
        let mut conn = match checked_out {
            Ok(conn) => conn,
            Err(e) => {
                self.conn_failed(shard, &e);
                return None;
            }
        };
        let answer_at = self.out.len();
        let result = self.run_request(&mut conn, &request, kind, sink).await;
        if let Some(i) = replica {
            self.observe_replica_read(shard, i);
        } else {
            let position = self.observe_position(shard, &mut conn);
            let failed = result.as_ref().is_none_or(|e| e.error.is_some());
            if let (Some(position), false, true) = (position, failed, writes) {
                if !conn.in_transaction() {
                    Box::pin(self.await_write_concern(&[(shard, position)], answer_at)).await;
                }
            }
        }
        let tables_locked = self.table_lock.take() == Some(true)
            && result.as_ref().is_some_and(|e| e.error.is_none());
        let diagnostics = result
            .as_ref()
            .is_some_and(|e| e.warnings > 0 || e.error.is_some());
        if diagnostics && !conn.broken && !conn.in_transaction() && !tables_locked {
            // Taken now, while the connection is ours, for a SHOW WARNINGS about this
            // statement: the connection itself goes back to the pool.
            self.diagnostics = match conn.query("SHOW WARNINGS").await {
                Ok(answer) if answer.error.is_none() => Some(answer.rows),
                _ => None,
            };
        }
        if conn.broken {
            discard(conn);
        } else if conn.in_transaction() || tables_locked {
            self.pinned = Some(Pinned {
                shard,
                conn,
                tables_locked,
            });
        }
        result
    }

    /// Sends one request on `conn` and relays its answer; failures are told the client.
    async fn run_request(
        &mut self,
        conn: &mut MyConn,
        request: &Request<'_>,
        kind: AnswerKind,
        sink: Sink,
    ) -> Option<Ended> {
        let owned;
        let bytes: &[u8] = match request {
            Request::Raw(bytes) | Request::Prepare { bytes, .. } => bytes,
            Request::Statement(statement) => match self.statement_bytes(conn, statement).await {
                Ok(bytes) => {
                    owned = bytes;
                    &owned
                }
                Err(message) => {
                    if conn.broken {
                        let message = format!("shardwire: lost the server connection: {message}");
                        reply::err(self, 1, errcode::BACKEND_LOST, &message);
                    } else {
                        reply::err(self, 1, errcode::ER_UNKNOWN_ERROR, &message);
                    }
                    return None;
                }
            },
        };
        self.running
            .set(Some((conn.node.clone(), conn.connection_id)));
        let counted = if matches!(request, Request::Prepare { .. }) {
            QueryKind::Other
        } else {
            self.query_kind
        };
        conn.node.queries.count(counted);
        if let Err(e) = conn.write(bytes).await {
            self.running.set(None);
            lost(self, &e);
            return None;
        }
        let forwarded = self.forward(conn, kind, sink).await;
        self.running.set(None);
        let ended = match forwarded {
            Ok(ended) => ended,
            Err(e) => {
                lost(self, &e);
                return None;
            }
        };
        if ended.error.is_none() {
            if let Some(applied) = &self.applying {
                conn.applied = applied.clone();
            }
        }
        if let (Request::Prepare { sql, .. }, Some(prepared)) = (request, ended.prepared) {
            conn.remember_statement(
                Arc::clone(sql),
                ServerStatement {
                    id: prepared.statement_id,
                    params: prepared.num_params,
                },
            );
        }
        Some(ended)
    }

    /// The replica that serves a read on `shard` outside a transaction, if any.
    async fn choose_replica(&self, shard: u32, request: &Request<'_>) -> Option<usize> {
        let hinted = || match request {
            Request::Raw(bytes) => bytes
                .get(5..)
                .is_some_and(|sql| forces_primary(&String::from_utf8_lossy(sql))),
            Request::Statement(statement) => self
                .statements
                .get(&statement.client_id)
                .is_some_and(|s| forces_primary(&s.sql)),
            Request::Prepare { .. } => true,
        };
        self.choose_replica_for(shard, hinted).await
    }

    /// The replica that serves a read on `shard` (`None`: the primary); `hinted` says
    /// whether the statement asks for the primary (looked at only when a replica is
    /// possible at all).
    pub(super) async fn choose_replica_for(
        &self,
        shard: u32,
        hinted: impl FnOnce() -> bool,
    ) -> Option<usize> {
        let required = self.positions.required(shard);
        choose_replica(&self.shardwire, required, self.db.shard(shard), hinted).await
    }

    /// After a `session` read on replica `i`: the session has now seen what that replica
    /// had replayed (as the monitor last saw it, a lower bound), so later reads must not
    /// go to a replica behind it (monotonic reads).
    pub(super) fn observe_replica_read(&mut self, shard: u32, i: usize) {
        if self.shardwire.read_consistency != shardwire_conf::ReadConsistency::Session {
            return;
        }
        let position = self
            .db
            .shard(shard)
            .and_then(|rt| rt.monitor.view().replicas.get(i)?.position);
        if let Some(position) = position {
            self.positions.observe(shard, position);
        }
    }

    /// Takes the GTID a primary connection reported for the session's last statement
    /// as the session's position on `shard` (read-your-writes).
    pub(super) fn observe_position(&mut self, shard: u32, conn: &mut MyConn) -> Option<Lsn> {
        let position = conn
            .last_gtid
            .take()
            .as_deref()
            .and_then(|g| std::str::from_utf8(g).ok().and_then(gtid_position))?;
        self.positions.observe(shard, position);
        Some(position)
    }

    /// `SHOW WARNINGS` / `SHOW ERRORS`: about the session's last statement, so on the
    /// connection that ran it — the one kept after a statement with warnings, the
    /// pinned connection, or the transaction's last branch.
    async fn show_diagnostics(&mut self, packet: &Packet) {
        let request = Request::Raw(packet.raw());
        let sql = String::from_utf8_lossy(packet.payload().get(1..).unwrap_or_default())
            .to_ascii_uppercase();
        let errors_only = sql.contains("ERRORS");
        if let Some(rows) = self.diagnostics.take() {
            let rows: Vec<Vec<Option<String>>> = rows
                .into_iter()
                .filter(|r| {
                    !errors_only || r.first().cloned().flatten().as_deref() == Some("Error")
                })
                .collect();
            if sql.contains("COUNT") {
                let column = if errors_only {
                    "@@session.error_count"
                } else {
                    "@@session.warning_count"
                };
                reply::rows(self, &[column], &[vec![Some(rows.len().to_string())]]);
            } else {
                reply::rows(self, &["Level", "Code", "Message"], &rows);
            }
            return;
        }
        let shard = self
            .pinned
            .as_ref()
            .map(|p| p.shard)
            .or_else(|| self.txn.as_ref().and_then(|t| t.last_shard));
        match shard {
            Some(shard) => {
                self.execute(
                    Some(shard),
                    false,
                    request,
                    AnswerKind::Results,
                    Sink::Client,
                )
                .await;
            }
            // The last statement left nothing (a pooled connection would show another
            // session's): the answer of a server with no diagnostics.
            None => {
                if sql.contains("COUNT") {
                    let column = if errors_only {
                        "@@session.error_count"
                    } else {
                        "@@session.warning_count"
                    };
                    reply::rows(self, &[column], &[vec![Some("0".to_string())]]);
                } else {
                    reply::rows(self, &["Level", "Code", "Message"], &[]);
                }
            }
        }
    }

    /// `KILL QUERY <id>`: interrupts what the session with proxy connection id `id`
    /// runs. Killing whole connections is not passed on (the proxy's connections are not
    /// the servers').
    async fn kill(&mut self, query_only: bool, id: u32) {
        if !query_only {
            reply::err(
                self,
                1,
                errcode::ER_NOT_SUPPORTED_YET,
                "shardwire: only KILL QUERY <id> is supported through the proxy",
            );
            return;
        }
        match kill_query(id, &self.user.name, self.user.admin).await {
            Ok(()) => reply::ok(self, 1, 0, 0, ""),
            Err(e @ KillError::Unknown(_)) => {
                reply::err(self, 1, ER_NO_SUCH_THREAD, &e.to_string())
            }
            Err(e @ KillError::NotOwner(_)) => {
                reply::err(self, 1, ER_KILL_DENIED_ERROR, &e.to_string())
            }
            Err(e) => reply::err(self, 1, errcode::BACKEND_LOST, &e.to_string()),
        }
    }

    /// Tells the client no connection could be had.
    pub(super) fn conn_failed(&mut self, shard: u32, e: &ConnError) {
        let message = format!("shardwire: shard {shard} is unavailable: {e}");
        reply::err(self, 1, errcode::BACKEND_LOST, &message);
    }

    fn branch_failed(&mut self, shard: u32, e: &BranchError) {
        match e {
            BranchError::Conn(e) => self.conn_failed(shard, e),
            BranchError::Refused(err) => {
                let message = format!(
                    "shardwire: shard {shard} could not join the transaction: {}",
                    err.message
                );
                reply::err(self, 1, errcode::ER_XAER_RMFAIL, &message);
            }
        }
    }

    /// Transaction control.
    async fn transaction_command(&mut self, command: TxnCommand) {
        match command {
            TxnCommand::Begin { read_only, .. } => {
                // MySQL commits an open transaction when a new one starts.
                if self.txn.is_some() || self.pinned.is_some() {
                    if !self.commit().await {
                        return;
                    }
                    self.out.clear();
                }
                // Starting a transaction also releases table locks.
                if let Some(pinned) = self.pinned.take() {
                    pinned.abandon().await;
                }
                self.txn = Some(self.new_transaction(read_only));
                reply::ok(self, 1, 0, 0, "");
            }
            TxnCommand::Commit { chain } => {
                let read_only = self.txn.as_ref().is_some_and(|t| t.read_only);
                if self.commit().await {
                    if chain {
                        // AND CHAIN: a new transaction with the same access mode.
                        self.txn = Some(self.new_transaction(read_only));
                    }
                    reply::ok(self, 1, 0, 0, "");
                }
            }
            TxnCommand::Rollback { chain } => {
                let chained = chain.then(|| self.txn.as_ref().is_some_and(|t| t.read_only));
                match self.pinned.take() {
                    // ROLLBACK keeps table locks.
                    Some(mut pinned) if pinned.tables_locked => {
                        match pinned.conn.query("ROLLBACK").await {
                            Ok(_) if !pinned.conn.broken => self.pinned = Some(pinned),
                            Ok(_) => discard(pinned.conn),
                            Err(e) => {
                                discard(pinned.conn);
                                lost(self, &e);
                                return;
                            }
                        }
                    }
                    other => {
                        self.pinned = other;
                        self.end_transaction_quietly().await;
                    }
                }
                if let Some(read_only) = chained {
                    self.txn = Some(self.new_transaction(read_only));
                }
                reply::ok(self, 1, 0, 0, "");
            }
            TxnCommand::Savepoint(ref name)
            | TxnCommand::Release(ref name)
            | TxnCommand::RollbackTo(ref name) => {
                let name = name.clone();
                self.savepoint_command(&command_text(&command, &name), &command, name)
                    .await;
            }
            TxnCommand::PrepareTransaction(_)
            | TxnCommand::CommitPrepared(_)
            | TxnCommand::RollbackPrepared(_) => {
                reply::err(
                    self,
                    1,
                    errcode::ER_NOT_SUPPORTED_YET,
                    "shardwire: two-phase commit is the proxy's own; clients cannot run it",
                );
            }
        }
    }

    /// Commits the open transaction; on failure the error is already sent. `true` when
    /// the client should get an OK.
    async fn commit(&mut self) -> bool {
        if let Some(pinned) = self.pinned.take() {
            let mut conn = pinned.conn;
            let answer = conn.query("COMMIT").await;
            let ok = match answer {
                Ok(a) => match a.error {
                    None => true,
                    Some(err) => {
                        let message = err.message.clone();
                        reply::err(self, 1, errcode::ER_ERROR_DURING_COMMIT, &message);
                        false
                    }
                },
                Err(e) => {
                    lost(self, &e);
                    false
                }
            };
            if conn.broken {
                discard(conn);
            } else if pinned.tables_locked {
                // COMMIT does not release table locks.
                self.pinned = Some(Pinned { conn, ..pinned });
            } else if conn.in_transaction() {
                discard(conn);
            }
            return ok;
        }
        let Some(txn) = self.txn.take() else {
            return true;
        };
        Box::pin(self.commit_txn(txn)).await
    }

    /// SAVEPOINT / RELEASE / ROLLBACK TO on every shard of the transaction (and on shards
    /// that join later, for savepoints that still exist).
    async fn savepoint_command(&mut self, sql: &str, command: &TxnCommand, name: String) {
        let Some(mut txn) = self.txn.take() else {
            // Outside a transaction MySQL accepts SAVEPOINT and forgets it at once.
            match command {
                TxnCommand::Savepoint(_) => reply::ok(self, 1, 0, 0, ""),
                _ => {
                    let message = format!("SAVEPOINT {name} does not exist");
                    reply::err(self, 1, ER_SP_DOES_NOT_EXIST, &message);
                }
            }
            return;
        };
        let exists = txn
            .savepoints
            .iter()
            .position(|s| s.eq_ignore_ascii_case(&name));
        if !matches!(command, TxnCommand::Savepoint(_)) && exists.is_none() {
            self.txn = Some(txn);
            let message = format!("SAVEPOINT {name} does not exist");
            reply::err(self, 1, ER_SP_DOES_NOT_EXIST, &message);
            return;
        }
        let mut failure = None;
        for branch in &mut txn.branches {
            match branch.conn.query(sql).await {
                Ok(answer) => {
                    if let Some(err) = answer.error {
                        failure = Some(err.message);
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    txn.doomed = Some(format!("a shard was lost: {e}"));
                    break;
                }
            }
        }
        if let Some(message) = failure {
            self.txn = Some(txn);
            reply::err(self, 1, errcode::ER_UNKNOWN_ERROR, &message);
            return;
        }
        match (command, exists) {
            (TxnCommand::Savepoint(_), Some(i)) => {
                txn.savepoints.remove(i);
                txn.savepoints.push(name);
            }
            (TxnCommand::Savepoint(_), None) => txn.savepoints.push(name),
            (TxnCommand::Release(_), Some(i)) => txn.savepoints.truncate(i),
            (TxnCommand::RollbackTo(_), Some(i)) => txn.savepoints.truncate(i + 1),
            _ => {}
        }
        self.txn = Some(txn);
        reply::ok(self, 1, 0, 0, "");
    }
}

/// `Some(true)` for `LOCK TABLES`, `Some(false)` for `UNLOCK TABLES`: statements whose
/// effect lives on the connection until undone.
fn table_lock_change(sql: &str) -> Option<bool> {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["LOCK", "TABLE" | "TABLES", ..] => Some(true),
        ["UNLOCK", "TABLE" | "TABLES" | "TABLES;" | "TABLE;", ..] => Some(false),
        _ => None,
    }
}

/// The statement text of a savepoint command, identifier quoted.
fn command_text(command: &TxnCommand, name: &str) -> String {
    let quoted = format!("`{}`", name.replace('`', "``"));
    match command {
        TxnCommand::Savepoint(_) => format!("SAVEPOINT {quoted}"),
        TxnCommand::Release(_) => format!("RELEASE SAVEPOINT {quoted}"),
        _ => format!("ROLLBACK TO SAVEPOINT {quoted}"),
    }
}
