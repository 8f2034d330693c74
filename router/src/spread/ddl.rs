//! Schema changes and maintenance on every shard: which of them may run inside the
//! distributed transaction, and the maintenance commands sqlparser cannot read.
//!
//! A schema object that concerns a configured table, or that must exist on every shard
//! (functions, types, sequences, roles, extensions …), is created, changed or dropped on
//! every shard ([`route::by_schema`]), inside the distributed
//! transaction so that all shards change or none does. PostgreSQL refuses a few commands
//! inside a transaction block; those run on each shard in autocommit instead
//! ([`SpreadPlan::transactional`](super::SpreadPlan::transactional) is false), decided
//! here from their leading words. `CREATE TABLE … AS` (and materialized views) over a
//! sharded table are refused: each shard would fill the new table with its own rows,
//! and shardwire would then read it on shard 0 only.

use std::sync::Arc;

use sqlparser::ast::Statement;

use super::{SpreadPlan, SpreadResults};
use crate::command::StatementKind;
use crate::error::RouteError;
use crate::lexer::{Lexer, TokenKind};
use crate::plan::{StatementPlan, Target};
use crate::route;
use crate::scan::Scan;
use crate::schema::{Placement, Schema, TableClass};

/// The target of a schema change or maintenance `statement` with normalized text `text`.
pub(crate) fn schema_target(
    schema: &Schema,
    statement: &Statement,
    scan: &Scan<'_>,
    text: &str,
    names_tables: bool,
) -> Target {
    let filled = match statement {
        Statement::CreateTable(create) => create.query.is_some(),
        Statement::CreateView(view) => view.materialized,
        _ => false,
    };
    if filled {
        let sharded = scan.uses.iter().find_map(|u| match u.class {
            TableClass::Configured(info) if matches!(info.placement, Placement::Sharded { .. }) => {
                Some(info)
            }
            _ => None,
        });
        if let Some(info) = sharded {
            return Target::AllShards(RouteError::unsupported(format_args!(
                "{} … AS reads sharded table \"{}\": each shard would fill it with its own \
                 rows only, and shardwire would read it on shard 0 only",
                route::command_words(text),
                info.name
            )));
        }
    }
    route::by_schema(schema, text, names_tables)
}

/// The target for a statement that must run on every shard, with text `text`.
pub(crate) fn everywhere(text: &str) -> Target {
    Target::Spread(Arc::new(SpreadPlan::everywhere(
        transactional(text),
        SpreadResults::Copies,
    )))
}

/// Whether PostgreSQL runs the command `text` inside a transaction block.
pub(crate) fn transactional(text: &str) -> bool {
    let words = words(text, 16);
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let concurrently = words.iter().any(|w| w == "concurrently");
    // The first word after the command's own that is not an option.
    let named = words.iter().skip(1).find(|w| !is_maintenance_option(w));
    let named = named.map_or("", String::as_str);
    let object = if word(1) == "unique" {
        word(2)
    } else {
        word(1)
    };
    match word(0) {
        "vacuum" => false,
        "create" | "drop" | "alter" => match object {
            "index" => !concurrently,
            "database" | "tablespace" | "subscription" | "system" => false,
            _ => true,
        },
        "reindex" => !concurrently && !matches!(named, "schema" | "database" | "system"),
        // `CLUSTER` without a table reclusters every table, outside a transaction block.
        "cluster" => !named.is_empty(),
        _ => true,
    }
}

/// The plan of a maintenance command that sqlparser cannot read (`VACUUM (…) t`,
/// `REINDEX`, `CLUSTER`, `ALTER SYSTEM`, `DROP INDEX CONCURRENTLY`, tablespaces): every
/// shard when it concerns a configured table (`raw` mentions one) or the whole
/// database, shard 0 when it names only unsharded objects. `None` for other statements.
pub(crate) fn unparsed_maintenance(
    schema: &Schema,
    text: &str,
    raw: &str,
) -> Option<StatementPlan> {
    let all = words(text, usize::MAX);
    let word = |i: usize| all.get(i).map_or("", String::as_str);
    let (kind, database_wide) = match (word(0), word(1)) {
        ("vacuum" | "analyze" | "analyse" | "cluster", _) => (
            StatementKind::Utility,
            all.iter().skip(1).all(|w| is_maintenance_option(w)),
        ),
        ("reindex", _) => {
            let target = all.iter().skip(1).find(|w| !is_maintenance_option(w));
            let wide = matches!(
                target.map(String::as_str),
                Some("schema" | "database" | "system")
            );
            (StatementKind::Utility, wide)
        }
        ("alter", "system") => (StatementKind::Utility, true),
        ("create" | "drop" | "alter", "tablespace") => (StatementKind::Ddl, true),
        ("drop", "index") => (StatementKind::Ddl, false),
        _ => return None,
    };
    let target = if database_wide || schema.first_mentioned(raw).is_some() {
        everywhere(text)
    } else {
        Target::Shard(0)
    };
    Some(StatementPlan {
        kind,
        target,
        tables: Vec::new(),
    })
}

/// Words (and parentheses) of a maintenance command that are options, not names.
fn is_maintenance_option(word: &str) -> bool {
    matches!(
        word,
        "(" | ")"
            | ","
            | "full"
            | "freeze"
            | "verbose"
            | "analyze"
            | "analyse"
            | "skip_locked"
            | "true"
            | "false"
            | "on"
            | "off"
            | "concurrently"
            | "tablespace"
            | "index_cleanup"
            | "process_toast"
            | "process_main"
            | "truncate"
            | "parallel"
            | "disable_page_skipping"
            | "buffer_usage_limit"
            | "only_database_stats"
            | "auto"
    ) || word.starts_with("$l")
        || word.bytes().all(|b| b.is_ascii_digit())
}

/// The first `limit` words of `text` in lower case, with parentheses and commas as
/// words of their own (option lists).
fn words(text: &str, limit: usize) -> Vec<String> {
    let lexer = Lexer::new(text);
    lexer
        .filter(|t| {
            matches!(
                t.kind,
                TokenKind::Word
                    | TokenKind::Open
                    | TokenKind::Close
                    | TokenKind::Comma
                    | TokenKind::Placeholder
                    | TokenKind::Number
            )
        })
        .take(limit)
        .map(|t| lexer.text(&t).to_ascii_lowercase())
        .collect()
}
