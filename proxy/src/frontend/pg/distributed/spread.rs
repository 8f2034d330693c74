//! Writes and schema changes that run on several shards (`Target::Spread`): the same
//! statement on each shard, or a multi-row INSERT split per shard, inside the client's
//! transaction — or, outside one, inside a transaction of their own that commits through
//! the coordinator, so the statement is atomic across shards. Row counts are summed into
//! one CommandComplete; RETURNING rows are forwarded from every shard under one
//! RowDescription. Statements PostgreSQL refuses in a transaction block (VACUUM, CREATE
//! INDEX CONCURRENTLY …) run on each shard on its own, and failures are reported per shard.

use bytes::BytesMut;
use shardwire_router::{Spread, SpreadAction, SpreadResults};

use super::super::session::{Bound, Session};
use crate::backend::pool;
use crate::protocol::pg::build;
use crate::protocol::pg::read;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, txn_status};

/// The summed CommandComplete of a statement run on several shards.
#[derive(Debug, Default)]
pub(super) struct Tally {
    tag: Option<String>,
    rows: u64,
    described: bool,
    /// Every shard changed the same copy: only the first shard's answer counts.
    copies: bool,
    /// A shard has answered (for `copies`).
    answered: bool,
}

impl Tally {
    /// A tally; `copies` for statements on reference tables and schema objects.
    pub(super) fn new(copies: bool) -> Tally {
        Tally {
            copies,
            ..Tally::default()
        }
    }

    /// Whether this shard's rows and tag are the client's.
    fn counts(&self) -> bool {
        !(self.copies && self.answered)
    }

    /// Adds one shard's tag (`UPDATE 3`, `INSERT 0 2`, `CREATE TABLE` …).
    pub(super) fn add_tag(&mut self, tag: &str) {
        if !self.counts() {
            return;
        }
        self.answered = true;
        match tag.rsplit_once(' ') {
            Some((head, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
                self.rows += n.parse::<u64>().unwrap_or(0);
                self.tag.get_or_insert_with(|| head.to_string());
            }
            _ => {
                self.tag.get_or_insert_with(|| tag.to_string());
            }
        }
    }

    /// The tag the client gets.
    pub(super) fn text(&self) -> String {
        match &self.tag {
            Some(head)
                if head.starts_with("INSERT")
                    || [
                        "UPDATE", "DELETE", "COPY", "SELECT", "MERGE", "MOVE", "FETCH",
                    ]
                    .contains(&head.as_str()) =>
            {
                format!("{head} {}", self.rows)
            }
            Some(tag) => tag.clone(),
            None => String::new(),
        }
    }
}

impl Session {
    /// The database's number of shards.
    pub(super) fn shard_count(&self) -> std::num::NonZeroU32 {
        std::num::NonZeroU32::new(self.db.shards.len() as u32).unwrap_or(std::num::NonZeroU32::MIN)
    }

    /// Runs a simple-protocol statement that writes several shards.
    pub(in crate::frontend::pg) async fn spread_simple(
        &mut self,
        sql: &str,
        spread: Spread,
    ) -> Result<(), super::super::session::End> {
        let copies = spread.plan.results == SpreadResults::Copies;
        if self.awaiting_sync {
            self.error(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "shardwire: a write across shards cannot follow an unfinished pipeline; send Sync first",
            );
            self.ready();
            return self.flush().await;
        }
        let statements = match &spread.plan.action {
            SpreadAction::Copy(_) | SpreadAction::CopyToAll => {
                self.run_copy(sql, &spread.plan.action, &spread.shards, copies)
                    .await?;
                None
            }
            SpreadAction::Same => Some(
                spread
                    .shards
                    .iter()
                    .map(|&s| (s, sql.to_string()))
                    .collect::<Vec<_>>(),
            ),
            SpreadAction::SplitInsert(split) => {
                let normalized = shardwire_router::normalize(sql);
                match split.split(self.shard_count(), &normalized.literals) {
                    Ok(statements) => Some(statements),
                    Err(e) => {
                        self.error(e.sqlstate, &e.message);
                        None
                    }
                }
            }
        };
        if let Some(statements) = statements {
            if spread.plan.transactional {
                self.run_spread(statements, copies).await;
            } else {
                self.run_spread_autocommit(statements, copies).await;
            }
        }
        crate::metrics::spread_write(spread.shards.len());
        self.ready();
        self.flush().await
    }

    /// Runs `statements` (shard, SQL), one per shard, as one statement of the client.
    /// Outside a transaction block they commit together (2PC) or not at all. Queues the
    /// client's answer; the caller adds ReadyForQuery.
    pub(in crate::frontend::pg) async fn run_spread(
        &mut self,
        statements: Vec<(u32, String)>,
        copies: bool,
    ) {
        let requests = statements
            .into_iter()
            .map(|(shard, sql)| {
                let mut out = BytesMut::with_capacity(sql.len() + 8);
                build::query(&mut out, &sql);
                (shard, out)
            })
            .collect();
        self.run_spread_requests(requests, copies, true).await;
    }

    /// [`Session::run_spread`] over ready-made requests (a simple Query, or an extended
    /// Parse/Bind/Describe/Execute/Sync), each answered up to one ReadyForQuery.
    /// `describe`: forward the first RowDescription. True when the statement succeeded
    /// (and, outside a transaction block, committed).
    pub(in crate::frontend::pg) async fn run_spread_requests(
        &mut self,
        statements: Vec<(u32, BytesMut)>,
        copies: bool,
        describe: bool,
    ) -> bool {
        let implicit = !self.in_transaction();
        if implicit {
            self.txn_begin = Some(self.begin_text("BEGIN"));
        }
        let mut tally = Tally::new(copies);
        tally.described = !describe;
        let mut failed = false;
        for (shard, request) in &statements {
            let mut bound = match self.participant(*shard).await {
                Ok(b) => b,
                Err((code, message)) => {
                    self.error(&code, &message);
                    failed = true;
                    break;
                }
            };
            let ok = self.execute_on(&mut bound, request, &mut tally).await;
            bound.wrote = true;
            self.parked.push(bound);
            if !ok {
                failed = true;
                break;
            }
        }
        // Keep the invariant: a transaction's current connection is `bound`.
        if self.bound.is_none() {
            self.bound = self.parked.pop();
        }
        if implicit {
            // The statement's own transaction: its tag after the commit, nothing more
            // after a failure (its error is queued).
            return self.finish_distributed(!failed, &tally.text(), None).await && !failed;
        }
        if failed {
            self.failed = true;
        } else {
            build::command_complete(&mut self.io.out, &tally.text());
        }
        !failed
    }

    /// This transaction's connection to `shard`'s primary: the bound or a parked one, or
    /// a new one (its settings replayed, the transaction's BEGIN sent).
    pub(super) async fn participant(&mut self, shard: u32) -> Result<Bound, (String, String)> {
        if self.bound.as_ref().is_some_and(|b| b.shard == shard) {
            if let Some(bound) = self.bound.take() {
                return Ok(bound);
            }
        }
        if let Some(i) = self.parked.iter().position(|b| b.shard == shard) {
            return Ok(self.parked.swap_remove(i));
        }
        if let Some(current) = self.bound.take() {
            self.parked.push(current);
        }
        let mut conn = self
            .checkout(shard, None)
            .await
            .map_err(|(code, message)| (code.to_string(), message))?;
        let mut pre: Vec<String> = Vec::new();
        if let Some(sql) = self.params.sync_sql(&conn.applied) {
            pre.push(sql);
            conn.applied = self.params.pairs().to_vec();
        }
        pre.push(
            self.deferred_begin
                .take()
                .or_else(|| self.txn_begin.clone())
                .unwrap_or_else(|| self.begin_text("BEGIN")),
        );
        let refs: Vec<&str> = pre.iter().map(String::as_str).collect();
        match crate::backend::control::run(&mut conn, &refs).await {
            Ok(answer) => {
                if let Some((code, message)) = answer.error_fields() {
                    pool::discard(conn);
                    return Err((code, message));
                }
            }
            Err(reason) => {
                pool::discard(conn);
                return Err((
                    sqlstate::CONNECTION_FAILURE.to_string(),
                    format!("shardwire: shard {shard}: {reason}"),
                ));
            }
        }
        Ok(Bound {
            conn,
            shard,
            replica: false,
            wrote: false,
            lock_timeout_pending: false,
        })
    }

    /// Runs one statement on a participant, forwarding RETURNING rows and errors. False
    /// when it failed (the error is queued for the client).
    async fn execute_on(&mut self, bound: &mut Bound, request: &[u8], tally: &mut Tally) -> bool {
        let conn = &mut bound.conn;
        if conn.writer.send_all(request).await.is_err() {
            conn.broken = true;
            self.error(
                sqlstate::CONNECTION_FAILURE,
                &format!("shardwire: lost the connection to shard {}", bound.shard),
            );
            return false;
        }
        let mut ok = true;
        loop {
            let frame = match conn.reader.next_frame().await {
                Ok(Some(frame)) => frame,
                _ => {
                    conn.broken = true;
                    self.error(
                        sqlstate::CONNECTION_FAILURE,
                        &format!("shardwire: lost the connection to shard {}", bound.shard),
                    );
                    return false;
                }
            };
            match frame.tag() {
                backend::ROW_DESCRIPTION | backend::DATA_ROW | backend::NOTICE_RESPONSE
                    if !tally.counts() => {}
                backend::ROW_DESCRIPTION if !tally.described => {
                    tally.described = true;
                    self.io.out.extend_from_slice(frame.raw());
                }
                backend::ROW_DESCRIPTION => {}
                backend::NO_DATA if !tally.described => {
                    tally.described = true;
                    self.io.out.extend_from_slice(frame.raw());
                }
                backend::DATA_ROW => {
                    self.io.out.extend_from_slice(frame.raw());
                    if self.io.out.len() > 64 * 1024 && self.io.flush().await.is_err() {
                        conn.broken = true;
                        return false;
                    }
                }
                backend::COMMAND_COMPLETE => tally.add_tag(read::command_tag(frame.body())),
                backend::ERROR_RESPONSE => {
                    ok = false;
                    self.io.out.extend_from_slice(frame.raw());
                }
                backend::NOTICE_RESPONSE if tally.counts() => {
                    self.io.out.extend_from_slice(frame.raw())
                }
                backend::READY_FOR_QUERY => {
                    if let Some(&status) = frame.body().first() {
                        conn.status = status;
                    }
                    return ok && conn.status != txn_status::FAILED;
                }
                _ => {}
            }
        }
    }

    /// Runs a statement PostgreSQL refuses inside a transaction block on each shard, on
    /// its own; failures are reported together, naming the shards.
    pub(in crate::frontend::pg) async fn run_spread_autocommit(
        &mut self,
        statements: Vec<(u32, String)>,
        copies: bool,
    ) {
        if self.in_transaction() {
            self.error(
                "25001",
                "shardwire: this statement runs on every shard and cannot run inside a transaction block",
            );
            return;
        }
        let mut tally = Tally::new(copies);
        let mut failures = Vec::new();
        for (shard, sql) in &statements {
            let mut conn = match self.checkout(*shard, None).await {
                Ok(conn) => conn,
                Err((_, message)) => {
                    failures.push(format!("shard {shard}: {message}"));
                    continue;
                }
            };
            let mut pre: Vec<String> = Vec::new();
            if let Some(set) = self.params.sync_sql(&conn.applied) {
                pre.push(set);
                conn.applied = self.params.pairs().to_vec();
            }
            pre.push(sql.clone());
            let refs: Vec<&str> = pre.iter().map(String::as_str).collect();
            match crate::backend::control::run(&mut conn, &refs).await {
                Ok(answer) => match answer.error_fields() {
                    Some((code, message)) => {
                        failures.push(format!("shard {shard}: {message} ({code})"))
                    }
                    None => {
                        if let Some(tag) = answer.tags.last() {
                            tally.add_tag(tag);
                        }
                    }
                },
                Err(reason) => failures.push(format!("shard {shard}: {reason}")),
            }
            if conn.broken || conn.status != txn_status::IDLE {
                pool::discard(conn);
            }
        }
        if failures.is_empty() {
            build::command_complete(&mut self.io.out, &tally.text());
        } else {
            self.error(
                sqlstate::INTERNAL_ERROR,
                &format!(
                    "shardwire: the statement failed on {} of {} shards (the others ran it): {}",
                    failures.len(),
                    statements.len(),
                    failures.join("; ")
                ),
            );
        }
    }
}
