//! Statements the proxy answers itself, without a server: a `BEGIN` whose shard is not
//! known yet, the end of a transaction that never reached a server, `shardwire.*`
//! settings, `DISCARD ALL`, `DEALLOCATE`, and the two-phase-commit commands that only the
//! proxy may issue.

use shardwire_router::{DiscardKind, SetCommand, StatementKind, TxnCommand};

use super::session::Session;
use crate::consistency::SessionToken;
use crate::protocol::pg::build;
use crate::protocol::pg::sqlstate;

impl Session {
    /// The BEGIN sent to each shard of the client's transaction: the client's own, with
    /// the proxy's `lock_timeout` unless the session set one (a deadlock across shards is
    /// invisible to each shard's detector; the timeout makes it an error, not a hang).
    pub(super) fn begin_text(&self, sql: &str) -> String {
        if !self.wants_lock_timeout() {
            return sql.to_string();
        }
        let ms = self.db.transaction_lock_timeout_ms;
        // The newline ends a `--` comment the client's BEGIN may carry.
        format!(
            "{}\n; SET LOCAL lock_timeout = '{ms}ms'",
            sql.trim().trim_end_matches(';')
        )
    }

    /// Whether the proxy sets `lock_timeout` in the transactions it opens: configured,
    /// and the session has not set its own.
    pub(super) fn wants_lock_timeout(&self) -> bool {
        self.db.transaction_lock_timeout_ms > 0
            && !self
                .params
                .pairs()
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("lock_timeout"))
    }

    /// Answers `kind` locally if it can be; true when it did (the caller adds ReadyForQuery).
    /// `describe`: send a RowDescription before rows (simple protocol; the extended
    /// protocol describes separately).
    pub(super) fn answer_locally(&mut self, kind: &StatementKind, sql: &str) -> bool {
        self.answer_locally_with(kind, sql, true)
    }

    /// [`Session::answer_locally`] with control over the RowDescription.
    pub(super) fn answer_locally_with(
        &mut self,
        kind: &StatementKind,
        sql: &str,
        describe: bool,
    ) -> bool {
        match kind {
            StatementKind::Transaction(TxnCommand::Begin { read_only, .. })
                if self.bound.is_none() && !self.in_transaction() =>
            {
                let begin = self.begin_text(sql);
                self.deferred_begin = Some(begin.clone());
                self.txn_begin = Some(begin);
                self.deferred_read_only = *read_only;
                build::command_complete(&mut self.io.out, "BEGIN");
                true
            }
            StatementKind::Transaction(
                cmd @ (TxnCommand::Commit { .. } | TxnCommand::Rollback { .. }),
            ) if self.bound.is_none() && self.parked.is_empty() => {
                let tag = if self.failed || matches!(cmd, TxnCommand::Rollback { .. }) {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                };
                if !self.in_transaction() {
                    build::notice(
                        &mut self.io.out,
                        "25P01",
                        "there is no transaction in progress",
                    );
                }
                self.deferred_begin = None;
                self.deferred_read_only = false;
                self.txn_begin = None;
                self.txn_savepoint = false;
                self.failed = false;
                build::command_complete(&mut self.io.out, tag);
                true
            }
            StatementKind::Transaction(
                TxnCommand::PrepareTransaction(_)
                | TxnCommand::CommitPrepared(_)
                | TxnCommand::RollbackPrepared(_),
            ) => {
                self.error(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    "shardwire runs two-phase commit itself; PREPARE TRANSACTION, COMMIT PREPARED \
                     and ROLLBACK PREPARED are not accepted from clients",
                );
                true
            }
            StatementKind::Set(SetCommand::Assign { name, value, .. })
                if name == "shardwire.session_token" =>
            {
                let text = value.trim().trim_matches('\'');
                match SessionToken::decode(text, &self.db.config.name) {
                    Ok(token) => {
                        self.positions.merge(&token);
                        build::command_complete(&mut self.io.out, "SET");
                    }
                    Err(e) => self.error(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        &format!("invalid value for shardwire.session_token: {e}"),
                    ),
                }
                true
            }
            StatementKind::Show(name) if name == "shardwire.session_token" => {
                let token = self.positions.encode(&self.db.config.name);
                if describe {
                    build::row_description(&mut self.io.out, &[name.as_str()]);
                }
                build::data_row(&mut self.io.out, &[Some(token.as_str())]);
                build::command_complete(&mut self.io.out, "SHOW");
                true
            }
            StatementKind::Show(name) if crate::admin::is_view(name) => {
                if !self.user.admin {
                    self.error(
                        "42501",
                        &format!("shardwire: SHOW {name} is for users with admin = true"),
                    );
                    return true;
                }
                if describe {
                    build::row_description(&mut self.io.out, crate::admin::columns(name));
                }
                let view = crate::admin::DatabaseView::of_postgres(&self.db);
                let rows = crate::admin::rows(name, &view, &self.shared.live.clients);
                for row in &rows {
                    let values: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                    build::data_row(&mut self.io.out, &values);
                }
                build::command_complete(&mut self.io.out, &format!("SHOW {}", rows.len()));
                true
            }
            StatementKind::Show(name) if name == "shardwire.transactions" => {
                if !self.user.admin {
                    self.error(
                        "42501",
                        "shardwire: SHOW shardwire.transactions is for users with admin = true",
                    );
                    return true;
                }
                if describe {
                    build::row_description(&mut self.io.out, &crate::recovery::TRANSACTION_COLUMNS);
                }
                let listed = crate::recovery::in_doubt_rows(&self.db.config.name);
                for row in &listed {
                    let values: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                    build::data_row(&mut self.io.out, &values);
                }
                build::command_complete(&mut self.io.out, &format!("SHOW {}", listed.len()));
                true
            }
            kind if crate::admin::is_reload(kind) => {
                self.error(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    "shardwire: RELOAD shardwire must be sent on its own as a simple query",
                );
                true
            }
            StatementKind::Set(cmd) if cmd.is_shardwire() => {
                let result = match cmd {
                    SetCommand::Assign { name, value, .. } => {
                        let short = name.trim_start_matches("shardwire.");
                        self.settings.set(short, value)
                    }
                    _ => Err("RESET of shardwire settings is not supported".to_string()),
                };
                match result {
                    Ok(()) => build::command_complete(&mut self.io.out, "SET"),
                    Err(msg) => self.error(sqlstate::INVALID_PARAMETER_VALUE, &msg),
                }
                true
            }
            StatementKind::Show(name) if name.starts_with("shardwire.") => {
                let short = name.trim_start_matches("shardwire.");
                match self.settings.show(short) {
                    Ok(value) => {
                        if describe {
                            build::row_description(&mut self.io.out, &[name.as_str()]);
                        }
                        build::data_row(&mut self.io.out, &[Some(value.as_str())]);
                        build::command_complete(&mut self.io.out, "SHOW");
                    }
                    Err(msg) => self.error("42704", &msg),
                }
                true
            }
            StatementKind::Discard(DiscardKind::All) if !self.in_transaction() => {
                self.params.reset_all();
                self.statements.clear();
                self.unnamed = None;
                build::command_complete(&mut self.io.out, "DISCARD ALL");
                true
            }
            StatementKind::Deallocate(name) => {
                match name {
                    None => {
                        self.statements.clear();
                        build::command_complete(&mut self.io.out, "DEALLOCATE ALL");
                    }
                    Some(name) => {
                        if self.statements.remove(name).is_some() {
                            build::command_complete(&mut self.io.out, "DEALLOCATE");
                        } else {
                            self.error(
                                sqlstate::INVALID_SQL_STATEMENT_NAME,
                                &format!("prepared statement \"{name}\" does not exist"),
                            );
                        }
                    }
                }
                true
            }
            _ => false,
        }
    }
}

/// True for a statement the proxy answers itself in the extended protocol too: the
/// `shardwire.*` settings.
pub(super) fn is_proxy_setting(kind: &StatementKind) -> bool {
    match kind {
        StatementKind::Reload => true,
        StatementKind::Set(cmd) => cmd.is_shardwire(),
        StatementKind::Show(name) => name.starts_with("shardwire."),
        _ => false,
    }
}
