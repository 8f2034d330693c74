//! What the MySQL session decides itself: `SET` (tracked for replay, `autocommit` and
//! `shardwire.*` kept by the proxy), `SHOW shardwire.*`, how a commit's outcome is told,
//! and statements that write several shards.

use std::sync::Arc;

use std::num::NonZeroU32;

use shardwire_router::{
    normalize_for, Dialect, Routed, SetCommand, SpreadAction, SpreadPlan, SpreadResults,
};
use shardwire_txn::commit::{Failure, Outcome};

use super::forward::{AnswerKind, Sink};
use super::query::Request;
use super::reply;
use super::session::Session;
use super::xa::ClientTxn;
use crate::consistency::SessionToken;
use crate::protocol::mysql::errcode;
use crate::protocol::mysql_stream::{put_packet, Packet};

impl Session {
    /// `SET …`.
    pub(super) async fn set_command(
        &mut self,
        packet: &Packet,
        _routed: &Routed,
        command: SetCommand,
    ) {
        let parts = command.parts();
        if let Some(shardwire) = parts.iter().find(|p| p.is_shardwire()) {
            if parts.len() > 1 {
                reply::err(
                    self,
                    1,
                    errcode::ER_NOT_SUPPORTED_YET,
                    "shardwire.* settings must be set on their own",
                );
                return;
            }
            self.set_shardwire(shardwire);
            return;
        }
        if let Some(on) = command.autocommit() {
            if parts.len() > 1 {
                reply::err(
                    self,
                    1,
                    errcode::ER_NOT_SUPPORTED_YET,
                    "shardwire: set autocommit in a statement of its own",
                );
                return;
            }
            if on && !self.autocommit && (self.txn.is_some() || self.pinned.is_some()) {
                // Turning autocommit on commits the open transaction.
                if !self.commit_open().await {
                    return;
                }
            }
            self.autocommit = on;
            reply::ok(self, 1, 0, 0, "");
            return;
        }
        if let SetCommand::Other { text, local: true } = &command {
            // `SET TRANSACTION …`: for the session's next transaction only, which the
            // proxy opens itself; running it on some pooled connection would hand it to
            // another client's next transaction.
            if self.txn.is_some() || self.pinned.is_some() {
                reply::err(
                    self,
                    1,
                    ER_CANT_CHANGE_TX_CHARACTERISTICS,
                    "Transaction characteristics can't be changed while a transaction is in progress",
                );
                return;
            }
            self.next_transaction = Some(text.clone());
            reply::ok(self, 1, 0, 0, "");
            return;
        }
        // Anything else is the server's to check: run it where the session's statements
        // run now, and replay it on every connection that serves the session later.
        let statement: Arc<str> = Arc::from(command.to_mysql_sql());
        let mut settings = self.settings.clone();
        match replay_key(&command) {
            // A later value of the same setting replaces the earlier one…
            Some(key) => {
                settings.retain(|(name, _)| *name != key);
                settings.push((key, statement.clone()));
            }
            // …but `SET @n = @n + 1` depends on what came before: kept in order.
            None => settings.push((String::new(), statement.clone())),
        }
        let applied: Vec<Arc<str>> = settings.iter().map(|(_, s)| s.clone()).collect();
        // The connection that runs it records the new list (see `run_request`).
        self.applying = Some(applied.clone());
        self.implicit_transaction_allowed = false;
        let ended = self
            .execute(
                None,
                false,
                Request::Raw(packet.raw()),
                AnswerKind::Results,
                Sink::Client,
            )
            .await;
        self.applying = None;
        self.implicit_transaction_allowed = true;
        if ended.is_none_or(|e| e.error.is_some()) {
            return;
        }
        self.settings = settings;
        // Inside a transaction the other shards' connections get it too.
        if let Some(txn) = self.txn.as_mut() {
            for branch in &mut txn.branches {
                if branch.conn.applied == applied {
                    continue;
                }
                match branch.conn.query(&statement).await {
                    Ok(answer) if answer.error.is_none() => branch.conn.applied = applied.clone(),
                    // Out of step: reset before it serves anyone else.
                    _ => branch
                        .conn
                        .applied
                        .push(Arc::from("/* shardwire: stale */")),
                }
            }
        }
    }

    fn set_shardwire(&mut self, command: &SetCommand) {
        let result = match command {
            SetCommand::Assign { name, value, .. } => {
                let short = name.trim_start_matches("shardwire.");
                if short == "session_token" {
                    let text = value.trim().trim_matches(['\'', '"']);
                    SessionToken::decode(text, &self.db.config.name)
                        .map(|token| self.positions.merge(&token))
                        .map_err(|e| format!("invalid value for shardwire.session_token: {e}"))
                } else {
                    // MySQL strings may be double-quoted too.
                    let value = value.trim();
                    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                        Some(inner) => format!("'{}'", inner.replace('\'', "''")),
                        None => value.to_string(),
                    };
                    self.shardwire.set(short, &value)
                }
            }
            _ => Err("only SET shardwire.<name> = <value> is supported".to_string()),
        };
        match result {
            Ok(()) => reply::ok(self, 1, 0, 0, ""),
            Err(message) => reply::err(self, 1, errcode::ER_WRONG_VALUE_FOR_VAR, &message),
        }
    }

    /// `RELOAD shardwire` / `SET shardwire.reload`: OK with the reload's notes as its
    /// info text, or an error naming what is wrong with the new config.
    pub(super) async fn reload(&mut self) {
        match crate::admin::reload(&self.live, self.user.admin).await {
            Ok(outcome) => {
                let info = outcome.notes.join("; ");
                reply::ok(self, 1, 0, 0, &info);
            }
            Err(refused) => {
                let code = match refused {
                    crate::admin::ReloadRefused::NotAdmin => {
                        errcode::ER_SPECIFIC_ACCESS_DENIED_ERROR
                    }
                    crate::admin::ReloadRefused::Invalid(_) => errcode::ER_UNKNOWN_ERROR,
                };
                reply::err(self, 1, code, &refused.message());
            }
        }
    }

    /// `SHOW shardwire.<name>`.
    pub(super) fn show_shardwire(&mut self, name: &str) {
        let short = name.trim_start_matches("shardwire.");
        if crate::admin::is_view(name) {
            if !self.user.admin {
                let message = format!("shardwire: SHOW {name} is for users with admin = true");
                reply::err(self, 1, errcode::ER_SPECIFIC_ACCESS_DENIED_ERROR, &message);
                return;
            }
            let view = crate::admin::DatabaseView::of_mysql(&self.db);
            let rows = crate::admin::rows(name, &view, &self.live.clients);
            reply::rows(self, crate::admin::columns(name), &rows);
            return;
        }
        if short == "transactions" {
            if !self.user.admin {
                reply::err(
                    self,
                    1,
                    errcode::ER_SPECIFIC_ACCESS_DENIED_ERROR,
                    "shardwire: SHOW shardwire.transactions is for users with admin = true",
                );
                return;
            }
            let rows = crate::recovery::in_doubt_rows(&self.db.config.name);
            reply::rows(self, &crate::recovery::TRANSACTION_COLUMNS, &rows);
            return;
        }
        let value = match short {
            "session_token" => Ok(self.positions.encode(&self.db.config.name)),
            _ => self.shardwire.show(short),
        };
        match value {
            Ok(value) => reply::rows(self, &[name], &[vec![Some(value)]]),
            Err(message) => reply::err(self, 1, errcode::ER_UNKNOWN_SYSTEM_VARIABLE, &message),
        }
    }

    /// Commits whatever is open; `true` on success (the error is sent otherwise).
    async fn commit_open(&mut self) -> bool {
        if let Some(mut pinned) = self.pinned.take() {
            return match pinned.conn.query("COMMIT").await {
                Ok(answer) if answer.error.is_none() => true,
                Ok(answer) => {
                    let message = answer.error.map(|e| e.message).unwrap_or_default();
                    reply::err(self, 1, errcode::ER_ERROR_DURING_COMMIT, &message);
                    false
                }
                Err(e) => {
                    super::forward::lost(self, &e);
                    false
                }
            };
        }
        match self.txn.take() {
            Some(txn) => self.commit_txn(txn).await,
            None => true,
        }
    }

    /// A statement that writes several shards: each runs it inside one transaction (the
    /// client's, or one of its own committed at the end), affected rows summed. Schema
    /// changes cannot run inside XA, so they run shard by shard outside any transaction.
    pub(super) async fn run_spread(
        &mut self,
        packet: &Packet,
        plan: &Arc<SpreadPlan>,
        shards: &[u32],
    ) {
        let shard_count = NonZeroU32::new(self.db.shards.len() as u32).unwrap_or(NonZeroU32::MIN);
        let statements = match spread_statements(plan, packet, shards, shard_count) {
            Ok(s) => s,
            Err(message) => {
                reply::err(self, 1, errcode::ER_NOT_SUPPORTED_YET, &message);
                return;
            }
        };
        if !plan.transactional {
            if self.txn.is_some() || self.pinned.is_some() {
                reply::err(
                    self,
                    1,
                    errcode::ER_NOT_SUPPORTED_YET,
                    "shardwire: schema changes on several shards cannot run inside a transaction",
                );
                return;
            }
            let mut affected = 0;
            for (shard, request) in &statements {
                let Some(ended) = self
                    .execute(
                        Some(*shard),
                        true,
                        Request::Raw(request),
                        AnswerKind::Results,
                        Sink::Collect,
                    )
                    .await
                else {
                    return;
                };
                if let Some((code, sqlstate, message)) = ended.error {
                    let message = format!("shard {shard}: {message}");
                    reply::server_err(self, code, &sqlstate, &message);
                    return;
                }
                affected = combine(plan.results, affected, ended.affected_rows);
            }
            reply::ok(self, 1, affected, 0, "");
            return;
        }
        let own = self.txn.is_none() && self.pinned.is_none();
        if self.pinned.is_some() {
            reply::err(
                self,
                1,
                errcode::ER_NOT_SUPPORTED_YET,
                "shardwire: this statement writes several shards, but the open transaction \
                 is pinned to one",
            );
            return;
        }
        if own {
            self.txn = Some(self.new_transaction(false));
        }
        let mut affected = 0;
        let mut failure = None;
        for (shard, request) in &statements {
            match self
                .execute(
                    Some(*shard),
                    true,
                    Request::Raw(request),
                    AnswerKind::Results,
                    Sink::Collect,
                )
                .await
            {
                Some(ended) => match ended.error {
                    Some(err) => {
                        failure = Some((*shard, err));
                        break;
                    }
                    None => affected = combine(plan.results, affected, ended.affected_rows),
                },
                None => {
                    // Already reported; the transaction cannot commit.
                    if let Some(txn) = self.txn.take() {
                        txn.rollback().await;
                    }
                    return;
                }
            }
        }
        if let Some((shard, (code, sqlstate, message))) = failure {
            if own {
                if let Some(txn) = self.txn.take() {
                    txn.rollback().await;
                }
            }
            let message = format!("shard {shard}: {message}");
            reply::server_err(self, code, &sqlstate, &message);
            return;
        }
        if own {
            let Some(txn) = self.txn.take() else {
                return;
            };
            if !self.commit_txn(txn).await {
                return;
            }
        }
        reply::ok(self, 1, affected, 0, "");
    }
}

/// `Transaction characteristics can't be changed while a transaction is in progress`.
const ER_CANT_CHANGE_TX_CHARACTERISTICS: errcode::ErrorCode = errcode::ErrorCode {
    code: 1568,
    sqlstate: "25001",
};

/// The name a setting is replayed under: a later assignment of the same name replaces
/// it. `None` for assignments whose value depends on earlier state (user variables
/// assigned from expressions over variables or functions), which are replayed in order.
fn replay_key(command: &SetCommand) -> Option<String> {
    match command {
        SetCommand::Assign { name, value, .. } => {
            let depends = value.contains('@') || value.contains('(');
            (!(name.starts_with('@') && depends)).then(|| name.clone())
        }
        SetCommand::Reset { name, .. } => Some(name.clone()),
        SetCommand::Other { text, .. } => Some(text.clone()),
        SetCommand::ResetAll => Some("reset all".to_string()),
        SetCommand::Many(parts) => {
            let independent = parts.iter().all(|p| replay_key(p).is_some());
            independent.then(|| command.to_mysql_sql())
        }
    }
}

/// Each shard's COM_QUERY packet for a spread statement.
fn spread_statements(
    plan: &SpreadPlan,
    packet: &Packet,
    shards: &[u32],
    shard_count: NonZeroU32,
) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let sql = std::str::from_utf8(&packet.payload()[1..]).unwrap_or_default();
    let texts: Vec<(u32, String)> = match &plan.action {
        SpreadAction::Same => shards.iter().map(|&s| (s, sql.to_string())).collect(),
        SpreadAction::SplitInsert(split) => {
            let normalized = normalize_for(sql, Dialect::MySql);
            split
                .split(shard_count, &normalized.literals)
                .map_err(|e| e.message)?
        }
        SpreadAction::Copy(_) | SpreadAction::CopyToAll => {
            return Err("COPY is not a MySQL statement".to_string())
        }
    };
    Ok(texts
        .into_iter()
        .map(|(shard, text)| {
            let mut payload = Vec::with_capacity(text.len() + 1);
            payload.push(crate::protocol::mysql::consts::com::QUERY);
            payload.extend_from_slice(text.as_bytes());
            let mut out = bytes::BytesMut::new();
            put_packet(&mut out, 0, &payload);
            (shard, out.to_vec())
        })
        .collect())
}

/// Affected rows so far and one more shard's: summed, or one copy's for statements
/// every shard runs on the same data.
fn combine(results: SpreadResults, so_far: u64, shard: u64) -> u64 {
    match results {
        SpreadResults::Sum => so_far + shard,
        SpreadResults::Copies => so_far.max(shard),
    }
}

impl Session {
    /// Commits `txn`, takes its positions, and tells the client a failure; `true` when
    /// it committed (the caller sends OK).
    pub(super) async fn commit_txn(&mut self, txn: ClientTxn) -> bool {
        let (outcome, positions) = txn.commit().await;
        for &(shard, position) in &positions {
            self.positions.observe(shard, position);
        }
        if !report_commit(self, outcome) {
            return false;
        }
        if self.write_concern_applies() && !positions.is_empty() {
            // The caller's OK comes next: make room for the error in its place.
            let at = self.out.len();
            self.await_write_concern(&positions, at).await;
            if self.out.len() > at {
                return false;
            }
        }
        true
    }
}

/// Tells the client how a commit ended; `true` when it committed (the caller sends OK).
pub(super) fn report_commit(session: &mut Session, outcome: Outcome) -> bool {
    match outcome {
        Outcome::Committed { two_phase } => {
            crate::metrics::transaction("commit", if two_phase { "2pc" } else { "single" });
            true
        }
        Outcome::RolledBack(failure) => {
            crate::metrics::transaction("rollback", "2pc");
            let message = match failure {
                Failure::Refused { message, .. } => {
                    format!("shardwire: the transaction was rolled back: {message}")
                }
                Failure::Lost(reason) => {
                    format!("shardwire: the transaction was rolled back: {reason}")
                }
            };
            reply::err(session, 1, errcode::ER_XA_RBROLLBACK, &message);
            false
        }
        Outcome::Unknown { gid, failure } => {
            crate::metrics::transaction("unknown", "2pc");
            let reason = match failure {
                Failure::Refused { message, .. } => message,
                Failure::Lost(reason) => reason,
            };
            let message = format!(
                "shardwire: the outcome of this commit is unknown ({reason}); transaction \
                 {gid} will be finished by recovery"
            );
            reply::err(
                session,
                1,
                errcode::TRANSACTION_RESOLUTION_UNKNOWN,
                &message,
            );
            false
        }
    }
}
