//! The extended protocol: Parse/Bind/Describe/Execute/Close are buffered until Sync or
//! Flush, the shard is chosen from the Bind values, and the batch goes to the server in one
//! write — with statement names rewritten to their shared server-side names, Parses
//! injected where a server connection has not seen a statement yet, and Parse/Close
//! answered by the proxy where the server needs no message.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use shardwire_router::{ParamSource, ParamValue, Placement, StatementKind, TxnCommand};

use super::pump::{ends, Entry, PumpEnd, Until};
use super::session::{End, Session};
use super::simple::transaction_end;
use super::statements::{self, Statement};
use crate::protocol::pg::build;
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read::{Bind, Parse, Target};
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, frontend};

/// One analysed message of a batch.
#[derive(Clone)]
pub(super) enum Item {
    /// A message forwarded unchanged, completed by these tags.
    Forward(Frame, &'static [u8]),
    /// Parse of a named statement.
    ParseNamed(Arc<Statement>),
    /// Parse of the unnamed statement (forwarded as is).
    ParseUnnamed(Frame),
    /// Bind to a statement (renamed to its server name).
    Bind(Frame, Arc<Statement>),
    /// Describe of a statement.
    DescribeStatement(Arc<Statement>),
    /// Close of a statement: answered by the proxy.
    CloseStatement,
    /// Execute or Describe of a portal bound to a statement the proxy answers itself.
    LocalPortal { stmt: Arc<Statement>, execute: bool },
    /// Bind to a statement that reads several shards (answered by the scatter path).
    ScatterBind(super::portal_batch::ShardsPortal),
    /// Bind to a statement that writes several shards (answered by the spread path).
    SpreadBind(super::portal_batch::ShardsPortal),
    /// Sync.
    Sync(Frame),
    /// Flush.
    Flush(Frame),
}

/// A proxy-side error at some message of the batch.
pub(super) struct BatchError {
    code: &'static str,
    message: String,
}

impl BatchError {
    pub(super) fn new(code: &'static str, message: impl Into<String>) -> Self {
        BatchError {
            code,
            message: message.into(),
        }
    }

    /// Queues the error for the client.
    pub(super) fn report(self, session: &mut Session) {
        session.error(self.code, &self.message);
    }
}

/// Bind parameters as the router reads them.
struct BindParams<'a> {
    bind: &'a Bind<'a>,
    types: &'a [u32],
}

impl ParamSource for BindParams<'_> {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        let i = usize::from(n).checked_sub(1)?;
        let bytes = self.bind.value(i)?;
        Some(ParamValue {
            bytes,
            binary: self.bind.is_binary(i),
            type_oid: self.types.get(i).copied().unwrap_or(0),
        })
    }
}

impl Session {
    /// Runs the buffered batch (ending in Sync or Flush).
    pub(super) async fn run_batch(&mut self) -> Result<(), End> {
        let mut frames = std::mem::take(&mut self.batch);
        let ends_with_sync = frames.last().is_some_and(|f| f.tag() == frontend::SYNC);
        let mut items = Vec::with_capacity(frames.len());
        let mut shard: Option<u32> = None;
        let mut failure = None;
        let mut local_portals: Vec<(String, Arc<Statement>)> = Vec::new();
        for frame in frames.drain(..) {
            match self.analyse(frame, &mut shard, &mut local_portals) {
                Ok(item) => items.push(item),
                Err(Some(e)) => {
                    failure = Some(e);
                    break;
                }
                Err(None) => {
                    // Malformed: the FATAL is queued; send it and close.
                    let _ = self.flush().await;
                    return Err(End::Close);
                }
            }
        }
        // Keep the batch buffer's capacity for the next batch.
        self.batch = frames;
        if let Some(e) = failure {
            return self.fail_batch(&items, e, ends_with_sync).await;
        }
        if items.iter().any(|i| self.is_local_item(i)) {
            return self.answer_batch_locally(items, ends_with_sync).await;
        }
        if items.iter().any(|i| matches!(i, Item::ScatterBind(_))) {
            return Box::pin(self.scatter_batch(items, ends_with_sync)).await;
        }
        if items.iter().any(|i| matches!(i, Item::SpreadBind(_))) {
            return Box::pin(self.spread_batch(items, ends_with_sync)).await;
        }
        // A transaction across shards ends in the coordinator; so does one the proxy
        // failed (its servers' transactions are fine, the client's is not: roll back).
        if (self.is_distributed() || self.failed) && items.iter().any(ends_transaction) {
            return Box::pin(self.end_distributed_batch(items, ends_with_sync)).await;
        }
        // As PostgreSQL: in a failed transaction only its end may be parsed and described.
        let exit_bound = || {
            items
                .iter()
                .any(|i| matches!(i, Item::Bind(..)) && self.exits_transaction(i))
        };
        let allowed_when_failed = |i: &Item| {
            matches!(i, Item::Sync(_) | Item::Flush(_))
                || self.exits_transaction(i)
                || (matches!(i, Item::Forward(..)) && exit_bound())
        };
        if self.failed && !items.iter().all(allowed_when_failed) {
            let e = BatchError::new(
                sqlstate::IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            );
            return self.fail_batch(&[], e, ends_with_sync).await;
        }
        let needs_server = items
            .iter()
            .any(|i| !matches!(i, Item::CloseStatement | Item::Sync(_) | Item::Flush(_)));
        if !needs_server && self.bound.is_none() {
            for item in &items {
                match item {
                    Item::CloseStatement => build::empty(&mut self.io.out, backend::CLOSE_COMPLETE),
                    Item::Sync(_) => self.ready(),
                    _ => {}
                }
            }
            return self.flush().await;
        }
        let moves = match (&self.bound, shard) {
            (Some(b), Some(s)) => b.shard != s,
            _ => false,
        };
        if moves && items.iter().any(ends_transaction) {
            let e = BatchError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "shardwire: this pipeline ends the transaction on another shard than the one it \
                 runs on; send COMMIT or ROLLBACK in a pipeline of its own",
            );
            return self.fail_batch(&[], e, ends_with_sync).await;
        }
        let bound_kinds = items
            .iter()
            .filter_map(|i| match i {
                Item::Bind(_, stmt) => Some(stmt.plan.statements.iter()),
                _ => None,
            })
            .flatten();
        if !self.check_savepoints(bound_kinds) {
            if ends_with_sync {
                self.ready();
            }
            return self.flush().await;
        }
        let Some(shard) = self.pick_shard(shard) else {
            if ends_with_sync {
                self.ready();
            }
            return self.flush().await;
        };
        let kinds = || {
            items.iter().filter_map(|i| match i {
                Item::Bind(_, stmt) => Some(&stmt.plan.statements),
                _ => None,
            })
        };
        let all_reads = kinds().count() > 0
            && kinds().all(|st| st.len() == 1 && matches!(st[0].kind, StatementKind::Read));
        let hinted = || {
            items.iter().any(
                |i| matches!(i, Item::Bind(_, stmt) if super::simple::forces_primary(&stmt.sql)),
            )
        };
        let writes = kinds().flatten().any(|st| {
            matches!(
                st.kind,
                StatementKind::Write
                    | StatementKind::Ddl
                    | StatementKind::Utility
                    | StatementKind::Transaction(TxnCommand::Commit { .. })
            )
        });
        let mut replica = if ends_with_sync
            && self.bound.is_none()
            && ((all_reads && !self.in_transaction()) || self.read_only_txn_pending())
        {
            self.choose_replica(shard, hinted).await
        } else {
            None
        };
        // A batch that only prepares or describes (a driver's prepare step) runs outside the
        // client's deferred transaction: its shard is not known until a Bind names it.
        let prepare_only = !items.iter().any(|i| {
            matches!(i, Item::Bind(..)) || matches!(i, Item::Forward(_, t) if *t == ends::EXECUTE)
        });
        let required = self.positions.required(shard);
        let mid_transaction =
            self.in_transaction() && !kinds().any(|st| transaction_end(st).is_some());
        let begin = if prepare_only {
            None
        } else {
            self.deferred_begin.take()
        };
        let mut per_kind = [0; 4];
        for st in kinds().flatten() {
            per_kind[crate::metrics::QueryKind::of(&st.kind) as usize] += 1;
        }
        let end = loop {
            let (mut out, mut queue) = self.take_buffers();
            if !self.bind_to(shard, replica, &mut out, &mut queue).await {
                if ends_with_sync {
                    self.ready();
                }
                return self.flush().await;
            }
            if let Some(begin) = &begin {
                build::query(&mut out, begin);
                queue.push_back(Entry::swallow(Until::Ready));
            }
            // Keep the items for a retry only when a replica could fail under us.
            let this_try = if replica.is_some() {
                items.clone()
            } else {
                std::mem::take(&mut items)
            };
            self.translate(this_try, &mut out, &mut queue);
            if ends_with_sync {
                self.queue_position_capture(
                    replica.is_some(),
                    writes,
                    mid_transaction,
                    &mut out,
                    &mut queue,
                );
            }
            self.hold_ready =
                ends_with_sync && writes && replica.is_none() && self.write_concern_applies();
            if let Some(bound) = &self.bound {
                bound.conn.node.queries.add(&per_kind);
            }
            let end = self.exchange(out, queue).await?;
            self.hold_ready = false;
            match end {
                PumpEnd::Retry => replica = None,
                end => break end,
            }
        };
        if writes {
            if let Some(bound) = self.bound.as_mut() {
                bound.wrote = true;
            }
        }
        self.settle(shard, required, replica.is_some(), end).await?;
        // After a Flush the server still waits for the Sync of this sequence: keep it.
        self.awaiting_sync = !ends_with_sync && self.bound.is_some();
        self.after_exchange(&[]);
        Ok(())
    }

    /// Reads one message and routes it. `Err(None)`: malformed, the session must close
    /// (after the FATAL already queued).
    fn analyse(
        &mut self,
        frame: Frame,
        shard: &mut Option<u32>,
        local_portals: &mut Vec<(String, Arc<Statement>)>,
    ) -> Result<Item, Option<BatchError>> {
        let malformed = |s: &mut Session, what: &str| {
            build::error_response(
                &mut s.io.out,
                build::Severity::Fatal,
                sqlstate::PROTOCOL_VIOLATION,
                &format!("malformed {what} message"),
            );
            None
        };
        match frame.tag() {
            frontend::PARSE => {
                let Ok(parse) = Parse::read(frame.body()) else {
                    return Err(malformed(self, "Parse"));
                };
                if parse.name.is_empty() {
                    // Drivers re-parse the same unnamed statement for every execution.
                    let same = self.unnamed.as_ref().is_some_and(|u| {
                        &*u.sql == parse.sql && u.param_types == parse.param_types
                    });
                    if !same {
                        let plan = self
                            .db
                            .router
                            .prepare(parse.sql, &parse.param_types)
                            .map_err(|e| Some(BatchError::new(e.sqlstate, e.message)))?;
                        self.unnamed =
                            Some(statements::unnamed(parse.sql, &parse.param_types, plan));
                    }
                    return Ok(Item::ParseUnnamed(frame));
                }
                let plan = self
                    .db
                    .router
                    .prepare(parse.sql, &parse.param_types)
                    .map_err(|e| Some(BatchError::new(e.sqlstate, e.message)))?;
                if self.statements.contains_key(parse.name) {
                    return Err(Some(BatchError::new(
                        sqlstate::DUPLICATE_PREPARED_STATEMENT,
                        format!("prepared statement \"{}\" already exists", parse.name),
                    )));
                }
                let stmt = self
                    .db
                    .statements
                    .get_or_insert(parse.sql, &parse.param_types, plan);
                self.statements.insert(parse.name.to_string(), stmt.clone());
                Ok(Item::ParseNamed(stmt))
            }
            frontend::BIND => {
                let Ok(bind) = Bind::read(frame.body()) else {
                    return Err(malformed(self, "Bind"));
                };
                let stmt = self.lookup(bind.statement)?;
                if super::extended_local::is_local_statement(&stmt) {
                    local_portals.retain(|(p, _)| p != bind.portal);
                    local_portals.push((bind.portal.to_string(), stmt.clone()));
                    return Ok(Item::Bind(frame, stmt));
                }
                let params = BindParams {
                    bind: &bind,
                    types: &stmt.param_types,
                };
                let plan = &stmt.plan;
                let mut spread = None;
                for st in &plan.statements {
                    let placed = st
                        .place(plan.shard_count, &[], &params)
                        .map_err(|e| Some(BatchError::new(e.sqlstate, e.message)))?;
                    let s = match placed {
                        Placement::One(None) => continue,
                        Placement::One(Some(s)) => s,
                        Placement::Many(shards)
                            if matches!(st.target, shardwire_router::Target::Spread(_)) =>
                        {
                            if !super::distributed::spreads_in_extended(st) {
                                return Err(Some(BatchError::new(
                                    sqlstate::FEATURE_NOT_SUPPORTED,
                                    "shardwire: COPY and multi-row INSERTs whose rows go to several shards \
                                     run through the simple query protocol only; send it as a simple \
                                     query, or one row per statement",
                                )));
                            }
                            return Ok(Item::SpreadBind(super::portal_batch::ShardsPortal {
                                bind: frame,
                                stmt,
                                shards,
                                described: false,
                            }));
                        }
                        Placement::Many(shards) => {
                            spread = Some(shards);
                            continue;
                        }
                    };
                    match *shard {
                        Some(prev) if prev != s => {
                            return Err(Some(BatchError::new(
                                sqlstate::FEATURE_NOT_SUPPORTED,
                                format!(
                                    "shardwire: statements of one pipeline need shards {prev} and {s}; \
                                     only single-shard batches are supported yet"
                                ),
                            )))
                        }
                        _ => *shard = Some(s),
                    }
                }
                if let Some(shards) = spread {
                    return Ok(Item::ScatterBind(super::portal_batch::ShardsPortal {
                        bind: frame,
                        stmt,
                        shards,
                        described: false,
                    }));
                }
                if self.db.requests.logs_slow_requests() {
                    self.last_bound = Some(stmt.clone());
                }
                Ok(Item::Bind(frame, stmt))
            }
            frontend::DESCRIBE => {
                let Ok(target) = Target::read(frame.body(), "Describe") else {
                    return Err(malformed(self, "Describe"));
                };
                if target.kind == b'S' {
                    let stmt = self.lookup(target.name)?;
                    return Ok(Item::DescribeStatement(stmt));
                }
                if let Some((_, stmt)) = local_portals.iter().find(|(p, _)| p == target.name) {
                    return Ok(Item::LocalPortal {
                        stmt: stmt.clone(),
                        execute: false,
                    });
                }
                Ok(Item::Forward(frame, ends::DESCRIBE))
            }
            frontend::CLOSE => {
                let Ok(target) = Target::read(frame.body(), "Close") else {
                    return Err(malformed(self, "Close"));
                };
                if target.kind == b'S' {
                    if target.name.is_empty() {
                        self.unnamed = None;
                    } else {
                        self.statements.remove(target.name);
                    }
                    return Ok(Item::CloseStatement);
                }
                Ok(Item::Forward(frame, ends::CLOSE))
            }
            frontend::EXECUTE => {
                let portal = crate::protocol::pg::read::Cursor::new(frame.body(), "Execute").cstr();
                let Ok(portal) = portal else {
                    return Err(malformed(self, "Execute"));
                };
                if let Some((_, stmt)) = local_portals.iter().find(|(p, _)| p == portal) {
                    return Ok(Item::LocalPortal {
                        stmt: stmt.clone(),
                        execute: true,
                    });
                }
                Ok(Item::Forward(frame, ends::EXECUTE))
            }
            frontend::SYNC => Ok(Item::Sync(frame)),
            _ => Ok(Item::Flush(frame)),
        }
    }

    fn lookup(&self, name: &str) -> Result<Arc<Statement>, Option<BatchError>> {
        let found = if name.is_empty() {
            self.unnamed.clone()
        } else {
            self.statements.get(name).cloned()
        };
        found.ok_or_else(|| {
            Some(BatchError::new(
                sqlstate::INVALID_SQL_STATEMENT_NAME,
                if name.is_empty() {
                    "unnamed prepared statement does not exist".to_string()
                } else {
                    format!("prepared statement \"{name}\" does not exist")
                },
            ))
        })
    }

    /// Turns analysed items into server messages and expected responses.
    fn translate(&mut self, items: Vec<Item>, out: &mut BytesMut, queue: &mut VecDeque<Entry>) {
        let Some(bound) = self.bound.as_mut() else {
            return;
        };
        let conn = &mut bound.conn;
        let mut unnamed_parsed = false;
        let ensure = |conn: &mut crate::backend::pool::PooledConn,
                      stmt: &Statement,
                      unnamed_parsed: bool,
                      out: &mut BytesMut,
                      queue: &mut VecDeque<Entry>| {
            if stmt.server_name.is_empty() {
                if !unnamed_parsed {
                    build::parse(out, "", &stmt.sql, &stmt.param_types);
                    queue.push_back(Entry::swallow(Until::Tags(ends::PARSE)));
                }
            } else if !conn.prepared.contains(&stmt.server_name) {
                build::parse(out, &stmt.server_name, &stmt.sql, &stmt.param_types);
                let mut entry = Entry::swallow(Until::Tags(ends::PARSE));
                entry.prepares = Some(stmt.server_name.clone());
                queue.push_back(entry);
                conn.prepared.insert(stmt.server_name.clone());
            }
        };
        for item in items {
            match item {
                Item::Forward(frame, until) => {
                    out.extend_from_slice(frame.raw());
                    queue.push_back(Entry::pass(Until::Tags(until)));
                }
                Item::ParseNamed(stmt) => {
                    if conn.prepared.contains(&stmt.server_name) {
                        queue.push_back(Entry::synthetic(parse_complete()));
                    } else {
                        build::parse(out, &stmt.server_name, &stmt.sql, &stmt.param_types);
                        let mut entry = Entry::pass(Until::Tags(ends::PARSE));
                        entry.prepares = Some(stmt.server_name.clone());
                        queue.push_back(entry);
                        conn.prepared.insert(stmt.server_name.clone());
                    }
                }
                Item::ParseUnnamed(frame) => {
                    out.extend_from_slice(frame.raw());
                    queue.push_back(Entry::pass(Until::Tags(ends::PARSE)));
                    unnamed_parsed = true;
                }
                Item::Bind(frame, stmt) => {
                    ensure(conn, &stmt, unnamed_parsed, out, queue);
                    if stmt.server_name.is_empty() {
                        out.extend_from_slice(frame.raw());
                    } else if let Ok(bind) = Bind::read(frame.body()) {
                        build::bind_renamed(out, bind.portal, &stmt.server_name, bind.tail());
                    }
                    queue.push_back(Entry::pass(Until::Tags(ends::BIND)));
                }
                Item::DescribeStatement(stmt) => {
                    ensure(conn, &stmt, unnamed_parsed, out, queue);
                    build::target(out, frontend::DESCRIBE, b'S', &stmt.server_name);
                    queue.push_back(Entry::pass(Until::Tags(ends::DESCRIBE)));
                }
                Item::CloseStatement => {
                    queue.push_back(Entry::synthetic(close_complete()));
                }
                // Batches with these are answered by `answer_batch_locally` / `scatter_batch`.
                Item::LocalPortal { .. } | Item::ScatterBind(_) | Item::SpreadBind(_) => {}
                Item::Sync(frame) => {
                    out.extend_from_slice(frame.raw());
                    queue.push_back(Entry::pass(Until::Ready));
                }
                Item::Flush(frame) => out.extend_from_slice(frame.raw()),
            }
        }
    }

    /// Reports a proxy-side error at some message: messages before it that the proxy can
    /// answer are answered, then the error, then (at Sync) ReadyForQuery.
    pub(super) async fn fail_batch(
        &mut self,
        before: &[Item],
        e: BatchError,
        ends_with_sync: bool,
    ) -> Result<(), End> {
        for item in before {
            match item {
                Item::ParseNamed(_) | Item::ParseUnnamed(_) => {
                    build::empty(&mut self.io.out, backend::PARSE_COMPLETE)
                }
                Item::CloseStatement => build::empty(&mut self.io.out, backend::CLOSE_COMPLETE),
                _ => {}
            }
        }
        self.error(e.code, &e.message);
        if ends_with_sync {
            self.ready();
        }
        self.flush().await
    }
}

fn parse_complete() -> Bytes {
    Bytes::from_static(&[backend::PARSE_COMPLETE, 0, 0, 0, 4])
}

fn close_complete() -> Bytes {
    Bytes::from_static(&[backend::CLOSE_COMPLETE, 0, 0, 0, 4])
}

/// A Bind of COMMIT/END or ROLLBACK.
fn ends_transaction(item: &Item) -> bool {
    matches!(item, Item::Bind(_, stmt) if transaction_end(&stmt.plan.statements).is_some())
}

impl Session {
    /// A batch ending a transaction that spans shards (`END` through the extended
    /// protocol, as pgbench sends it): answered message by message, the Execute runs the
    /// coordinator.
    async fn end_distributed_batch(
        &mut self,
        items: Vec<Item>,
        ends_with_sync: bool,
    ) -> Result<(), End> {
        let mut ending: Option<bool> = None;
        for item in &items {
            match item {
                Item::ParseNamed(_) | Item::ParseUnnamed(_) => {
                    build::empty(&mut self.io.out, backend::PARSE_COMPLETE)
                }
                Item::Bind(_, stmt) if ends_transaction(item) => {
                    let Some((commit, chained)) = transaction_end(&stmt.plan.statements) else {
                        continue;
                    };
                    if chained {
                        let e = BatchError::new(
                            sqlstate::FEATURE_NOT_SUPPORTED,
                            "shardwire: AND CHAIN is not supported for a transaction that spans shards",
                        );
                        return self.fail_batch(&[], e, ends_with_sync).await;
                    }
                    ending = Some(commit);
                    build::empty(&mut self.io.out, backend::BIND_COMPLETE);
                }
                Item::DescribeStatement(_) => {
                    build::frame(&mut self.io.out, backend::PARAMETER_DESCRIPTION, |b| {
                        bytes::BufMut::put_i16(b, 0)
                    });
                    build::empty(&mut self.io.out, backend::NO_DATA);
                }
                Item::Forward(_, until) if *until == ends::DESCRIBE => {
                    build::empty(&mut self.io.out, backend::NO_DATA)
                }
                Item::Forward(_, until) if *until == ends::EXECUTE => {
                    if let Some(commit) = ending.take() {
                        Box::pin(self.end_distributed(commit)).await;
                    }
                }
                Item::CloseStatement => build::empty(&mut self.io.out, backend::CLOSE_COMPLETE),
                Item::Sync(_) => self.ready(),
                Item::Flush(_) => {}
                _ => {
                    let e = BatchError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "shardwire: a transaction that spans shards must end with COMMIT or ROLLBACK \
                         in a pipeline of its own",
                    );
                    return self.fail_batch(&[], e, ends_with_sync).await;
                }
            }
        }
        self.flush().await
    }
}

impl Session {
    /// A message about a statement that ends the transaction (allowed when it failed).
    fn exits_transaction(&self, item: &Item) -> bool {
        match item {
            Item::ParseNamed(stmt) | Item::Bind(_, stmt) | Item::DescribeStatement(stmt) => {
                transaction_end(&stmt.plan.statements).is_some()
            }
            Item::ParseUnnamed(_) => self
                .unnamed
                .as_ref()
                .is_some_and(|u| transaction_end(&u.plan.statements).is_some()),
            _ => false,
        }
    }
}
