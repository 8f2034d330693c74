//! The keyword fast path for MySQL: transaction control and session commands without
//! sqlparser, as [`keyword`](crate::keyword) does for PostgreSQL.
//!
//! Statements that start with one of the normalizer's MySQL keywords are planned here
//! from the lexer's tokens. Unlike PostgreSQL's, some of them need a target other than
//! "any shard" (`SHOW TABLES` lists shard 0, where unsharded tables live), or are
//! refused because they cannot work through a proxy that pools server connections and
//! runs its own distributed transactions. What each becomes:
//! - `BEGIN [WORK]`, `START TRANSACTION [READ ONLY | READ WRITE | WITH CONSISTENT
//!   SNAPSHOT, …]`, `COMMIT`/`ROLLBACK [WORK] [AND [NO] CHAIN] [NO RELEASE]`,
//!   `SAVEPOINT x`, `RELEASE SAVEPOINT x`, `ROLLBACK [WORK] TO [SAVEPOINT] x`: the
//!   [`TxnCommand`]s of PostgreSQL; `… RELEASE` (disconnect after) is refused;
//! - `SET …`: see `set_mysql`;
//! - `SHOW shardwire.x`: [`StatementKind::Show`], as in PostgreSQL; `SHOW WARNINGS`,
//!   `SHOW ERRORS`, `SHOW COUNT(*) WARNINGS|ERRORS`, `SHOW PROFILE[S]`, which describe
//!   the previous statement of the same server connection: [`StatementKind::Show`]
//!   (`warnings`, `errors`, `profiles`) on any shard, for the session to send where its
//!   last statement ran; every other `SHOW` (`TABLES`, `DATABASES`, `VARIABLES`,
//!   `CREATE TABLE t` …): a [`StatementKind::Read`] on shard 0, which holds every table;
//! - `DESCRIBE t` / `DESC t`: a read on shard 0, like `SHOW COLUMNS`;
//! - `USE db`: [`StatementKind::Use`], answered by the proxy;
//! - `LOCK TABLES` of unsharded tables and `UNLOCK TABLES`: [`StatementKind::Utility`]
//!   on shard 0 (the session must keep its server connection until `UNLOCK TABLES`: the
//!   locks belong to it); `LOCK TABLES` of a sharded or reference table is refused, since
//!   no single server connection can lock all of its rows;
//! - `FLUSH …`: a utility on every shard, outside any transaction (`FLUSH … WITH READ
//!   LOCK` is refused: a lock held by a pooled connection);
//! - `DO …`: a utility on shard 0, refused if it mentions a configured table;
//! - refused with `0A000`: `XA …` (distributed transactions are the proxy's own),
//!   `KILL` (connection ids are the backend servers'), SQL-level `PREPARE`, `EXECUTE`
//!   and `DEALLOCATE PREPARE` (server connections are pooled).

use std::sync::Arc;

use crate::command::{StatementKind, TxnCommand};
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::keyword::Cursor;
use crate::lexer::TokenKind;
use crate::plan::{StatementPlan, Target};
use crate::schema::{Schema, TableClass};
use crate::set_mysql;
use crate::spread::{SpreadPlan, SpreadResults};

/// The plan of a MySQL statement (normalized `text`, client's `raw`) that starts with a
/// fast-path keyword. `None` if the parser should take it after all.
pub(crate) fn plan(schema: &Schema, text: &str, raw: &str) -> Option<StatementPlan> {
    let mut cursor = Cursor::for_dialect(text, Dialect::MySql);
    let first = cursor.word()?;
    let planned = match first.as_str() {
        "begin" => begin_work(&mut cursor).map(any_shard),
        "start" => start(&mut cursor).map(any_shard),
        "commit" => end_of_transaction(&mut cursor, true).map(any_shard),
        "rollback" => end_of_transaction(&mut cursor, false).map(any_shard),
        "savepoint" => name(&mut cursor)
            .map(|n| any_shard(StatementKind::Transaction(TxnCommand::Savepoint(n)))),
        "release" => cursor
            .expect_word("savepoint")
            .and_then(|()| name(&mut cursor))
            .map(|n| any_shard(StatementKind::Transaction(TxnCommand::Release(n)))),
        "set" => set_mysql::set(&mut cursor).map(|c| any_shard(StatementKind::Set(c))),
        "show" => show(&mut cursor),
        "describe" | "desc" => Ok(fixed(StatementKind::Read, Target::Shard(0))),
        "use" => name(&mut cursor).map(|db| any_shard(StatementKind::Use(db))),
        "reload" => return crate::keyword::reload(&mut cursor).map(any_shard),
        "xa" => Err(RouteError::unsupported(
            "distributed transactions are the proxy's own; XA commands from clients are \
             not supported",
        )),
        "kill" => Err(RouteError::unsupported(
            "KILL is not supported: connection ids belong to the backend servers, not to \
             shardwire's clients; close the client connection instead",
        )),
        "prepare" | "execute" | "deallocate" => Err(RouteError::unsupported(
            "SQL-level PREPARE, EXECUTE and DEALLOCATE are not supported: shardwire pools \
             server connections per transaction; use the binary protocol's prepared \
             statements instead",
        )),
        "lock" => return lock_tables(schema, &mut cursor),
        "unlock" if cursor.eat_word("tables") || cursor.eat_word("table") => {
            Ok(fixed(StatementKind::Utility, Target::Shard(0)))
        }
        "flush" => flush(&mut cursor),
        "do" => Ok(match schema.first_mentioned(raw) {
            Some(info) => fixed(
                StatementKind::Utility,
                Target::Unsupported(RouteError::unsupported(format_args!(
                    "DO that mentions {} is not supported",
                    info.describe()
                ))),
            ),
            None => fixed(StatementKind::Utility, Target::Shard(0)),
        }),
        _ => return None,
    };
    Some(planned.unwrap_or_else(|err| fixed(StatementKind::Utility, Target::Unsupported(err))))
}

fn any_shard(kind: StatementKind) -> StatementPlan {
    fixed(kind, Target::AnyShard)
}

fn fixed(kind: StatementKind, target: Target) -> StatementPlan {
    StatementPlan {
        kind,
        target,
        tables: Vec::new(),
    }
}

/// `BEGIN [WORK]`.
fn begin_work(cursor: &mut Cursor<'_>) -> Result<StatementKind, RouteError> {
    cursor.eat_word("work");
    cursor.expect_end()?;
    Ok(StatementKind::Transaction(TxnCommand::Begin {
        read_only: false,
        modes: String::new(),
    }))
}

/// `START TRANSACTION [mode [, mode] …]`, the modes `READ ONLY`, `READ WRITE` and
/// `WITH CONSISTENT SNAPSHOT`, kept as written.
fn start(cursor: &mut Cursor<'_>) -> Result<StatementKind, RouteError> {
    cursor.expect_word("transaction")?;
    let modes = cursor.rest().to_owned();
    let mut read_only = false;
    let mut first = true;
    while !cursor.at_end() {
        if !first && !cursor.eat(TokenKind::Comma) {
            return Err(cursor.syntax_error());
        }
        first = false;
        if cursor.eat_word("read") {
            read_only = cursor.eat_word("only");
            if !read_only {
                cursor.expect_word("write")?;
            }
        } else if !cursor.eat_words(&["with", "consistent", "snapshot"]) {
            return Err(cursor.syntax_error());
        }
    }
    Ok(StatementKind::Transaction(TxnCommand::Begin {
        read_only,
        modes,
    }))
}

/// `COMMIT | ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE]`, and
/// `ROLLBACK [WORK] TO [SAVEPOINT] name`.
fn end_of_transaction(cursor: &mut Cursor<'_>, commit: bool) -> Result<StatementKind, RouteError> {
    cursor.eat_word("work");
    if !commit && cursor.eat_word("to") {
        cursor.eat_word("savepoint");
        return name(cursor).map(|n| StatementKind::Transaction(TxnCommand::RollbackTo(n)));
    }
    let mut chain = false;
    if cursor.eat_word("and") {
        chain = !cursor.eat_word("no");
        cursor.expect_word("chain")?;
    }
    if cursor.eat_word("release") {
        return Err(RouteError::unsupported(
            "COMMIT/ROLLBACK … RELEASE is not supported: end the transaction, then close \
             the connection",
        ));
    }
    if cursor.eat_word("no") {
        cursor.expect_word("release")?;
    }
    cursor.expect_end()?;
    Ok(StatementKind::Transaction(if commit {
        TxnCommand::Commit { chain }
    } else {
        TxnCommand::Rollback { chain }
    }))
}

/// An identifier (backquotes removed), ending the statement.
fn name(cursor: &mut Cursor<'_>) -> Result<String, RouteError> {
    let name = cursor.ident().ok_or_else(|| cursor.syntax_error())?;
    cursor.expect_end()?;
    Ok(name)
}

/// `SHOW …`: see the module documentation.
fn show(cursor: &mut Cursor<'_>) -> Result<StatementPlan, RouteError> {
    if cursor.peek_word().as_deref() == Some("shardwire") {
        let name = cursor.dotted_name().ok_or_else(|| cursor.syntax_error())?;
        cursor.expect_end()?;
        return Ok(any_shard(StatementKind::Show(name)));
    }
    let session = match cursor.word().as_deref() {
        Some("warnings") => Some("warnings"),
        Some("errors") => Some("errors"),
        Some("profile" | "profiles") => Some("profiles"),
        Some("count") => {
            let counted = cursor.eat(TokenKind::Open)
                && cursor.eat_symbol("*")
                && cursor.eat(TokenKind::Close);
            match cursor.word().as_deref() {
                Some("warnings") if counted => Some("warnings"),
                Some("errors") if counted => Some("errors"),
                _ => return Err(cursor.syntax_error()),
            }
        }
        _ => None,
    };
    Ok(match session {
        Some(what) => any_shard(StatementKind::Show(what.to_owned())),
        None => fixed(StatementKind::Read, Target::Shard(0)),
    })
}

/// `LOCK TABLE[S] name [[AS] alias] lock_type [, …]`; `None` for other `LOCK`s.
fn lock_tables(schema: &Schema, cursor: &mut Cursor<'_>) -> Option<StatementPlan> {
    if !cursor.eat_word("tables") && !cursor.eat_word("table") {
        return None;
    }
    loop {
        let Some(parts) = qualified_name(cursor) else {
            return Some(fixed(
                StatementKind::Utility,
                Target::Unsupported(cursor.syntax_error()),
            ));
        };
        if let TableClass::Configured(info) = schema.classify(&parts) {
            let err = RouteError::unsupported(format_args!(
                "LOCK TABLES of {} is not supported: its rows are on several shards, and \
                 table locks belong to one server connection",
                info.describe()
            ));
            return Some(fixed(StatementKind::Utility, Target::Unsupported(err)));
        }
        // Skip the alias and lock type, up to the next table.
        while cursor.peek().is_some_and(|t| t.kind != TokenKind::Comma) {
            cursor.next();
        }
        if !cursor.eat(TokenKind::Comma) {
            return Some(fixed(StatementKind::Utility, Target::Shard(0)));
        }
    }
}

/// A table name `[db.]t`, its parts in lower case.
fn qualified_name(cursor: &mut Cursor<'_>) -> Option<Vec<String>> {
    let mut parts = vec![cursor.ident()?.to_ascii_lowercase()];
    while cursor.eat_symbol(".") {
        parts.push(cursor.ident()?.to_ascii_lowercase());
    }
    Some(parts)
}

/// `FLUSH …`: every shard, outside a transaction (MySQL commits implicitly around it).
fn flush(cursor: &mut Cursor<'_>) -> Result<StatementPlan, RouteError> {
    let mut words = Vec::new();
    while let Some(token) = cursor.next() {
        words.push(cursor.text(&token).to_ascii_lowercase());
    }
    if words.windows(2).any(|w| w == ["read", "lock"]) {
        return Err(RouteError::unsupported(
            "FLUSH … WITH READ LOCK is not supported: the lock would belong to one pooled \
             server connection",
        ));
    }
    let plan = SpreadPlan::everywhere(false, SpreadResults::Copies);
    Ok(fixed(
        StatementKind::Utility,
        Target::Spread(Arc::new(plan)),
    ))
}

/// The plan of a MySQL schema change or maintenance command that sqlparser cannot read
/// (`ALTER TABLE t DISABLE KEYS` from `mysqldump`, `OPTIMIZE TABLE`, `REPAIR TABLE`,
/// `CHECK TABLE` …): like the ones it reads, every shard (outside a transaction) when it
/// mentions a configured table, else shard 0. `None` for other statements.
pub(crate) fn unparsed_maintenance(
    schema: &Schema,
    text: &str,
    raw: &str,
) -> Option<StatementPlan> {
    let mut cursor = Cursor::for_dialect(text, Dialect::MySql);
    let kind = match cursor.word()?.as_str() {
        "alter" | "create" | "drop" | "rename" => StatementKind::Ddl,
        "optimize" | "repair" | "check" | "analyze" => StatementKind::Utility,
        _ => return None,
    };
    let target = if schema.first_mentioned(raw).is_some() {
        let plan = SpreadPlan::everywhere(false, SpreadResults::Copies);
        Target::Spread(Arc::new(plan))
    } else {
        Target::Shard(0)
    };
    Some(fixed(kind, target))
}

#[cfg(test)]
#[path = "keyword_mysql_tests.rs"]
mod tests;
