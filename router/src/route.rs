//! Routing rules: from what a statement touches to where it must run ([`Target`]).
//!
//! For statements routed by their tables (queries and DML):
//! 1. A shape shardwire refuses (found by the scan) → [`Target::Unsupported`].
//! 2. Two different sharded tables → every shard (cross-shard joins are a later issue).
//! 3. A write to a reference table → every shard (it has a copy on each).
//! 4. One sharded table, referenced once, with a key condition → [`Target::Key`]; if
//!    unsharded tables (which live on shard 0) are involved too, shard 0 joins the key
//!    sources, so the statement resolves only when the key is on shard 0. Referenced
//!    more than once (self-join, subquery) or without a key condition → every shard.
//! 5. Otherwise unsharded tables or system catalogs → shard 0; only reference tables
//!    read, or no table at all → any shard for reads, shard 0 for writes (sequences,
//!    functions and other unsharded objects live on shard 0).
//!
//! Schema changes and maintenance go to every shard when their text mentions a
//! configured table or they define objects that must exist everywhere, and to shard 0
//! when they only concern unsharded tables. Writes that several shards must take are
//! refined by the [`spread`] analysis afterwards (from the planner).

use crate::command::StatementKind;
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::lexer::{Lexer, TokenKind};
use crate::plan::{KeyRoute, KeySource, Target};
use crate::scan::Scan;
use crate::schema::{Placement, Schema, TableClass, TableInfo};
use crate::spread;

/// The target of a statement routed by its tables.
pub(crate) fn by_tables(scan: &Scan<'_>, verb: &str, kind: &StatementKind) -> Target {
    if let Some(problem) = &scan.problem {
        return Target::Unsupported(problem.clone());
    }
    let mut sharded: Vec<(&TableInfo, usize)> = Vec::new();
    let mut written_reference = None;
    let mut on_shard_zero = false;
    for table in &scan.uses {
        match table.class {
            TableClass::Configured(info) => match info.placement {
                Placement::Sharded { .. } => {
                    match sharded.iter_mut().find(|(t, _)| t.name == info.name) {
                        Some((_, count)) => *count += 1,
                        None => sharded.push((info, 1)),
                    }
                }
                Placement::Reference => {
                    if scan.written.contains(&info.name) {
                        written_reference.get_or_insert(info);
                    }
                }
            },
            TableClass::Unsharded if scan.ctes.contains(&table.name) => {}
            TableClass::Unsharded | TableClass::Catalog => on_shard_zero = true,
        }
    }
    if let [(first, _), (second, _), ..] = sharded.as_slice() {
        return Target::AllShards(RouteError::several_shards(format_args!(
            "{verb} touches sharded tables \"{}\" and \"{}\"",
            first.name, second.name
        )));
    }
    if let Some(info) = written_reference {
        return Target::AllShards(reference_write(verb, info));
    }
    if let Some(&(info, count)) = sharded.first() {
        return sharded_target(scan, verb, info, count, on_shard_zero);
    }
    if on_shard_zero || *kind == StatementKind::Write {
        Target::Shard(0)
    } else {
        Target::AnyShard
    }
}

/// The target of a statement on exactly one sharded table, `count` times referenced.
fn sharded_target(
    scan: &Scan<'_>,
    verb: &str,
    info: &TableInfo,
    count: usize,
    on_shard_zero: bool,
) -> Target {
    let Placement::Sharded { key, key_type } = &info.placement else {
        return Target::AnyShard;
    };
    if let Some(spread) = &scan.spread {
        return Target::AllShards(spread.clone());
    }
    if count > 1 {
        return Target::AllShards(RouteError::several_shards(format_args!(
            "{verb} refers to sharded table \"{}\" more than once (a self-join or a subquery), \
             so its rows may be on several shards",
            info.name
        )));
    }
    let Some(found) = scan.keys.iter().find(|k| k.table == info.name) else {
        return Target::AllShards(no_key_condition(verb, &info.name, key));
    };
    let mut sources = found.sources.clone();
    if on_shard_zero {
        sources.push(KeySource::Shard(0));
    }
    Target::Key(KeyRoute {
        table: info.name.clone(),
        column: key.clone(),
        key_type: *key_type,
        sources,
    })
}

/// `0A000` for a statement on a sharded table without a usable key condition.
pub(crate) fn no_key_condition(verb: &str, table: &str, key: &str) -> RouteError {
    RouteError::several_shards(format_args!(
        "{verb} on sharded table \"{table}\" has no condition on its shard key \"{key}\""
    ))
}

/// `0A000` for a write to a reference table.
pub(crate) fn reference_write(verb: &str, info: &TableInfo) -> RouteError {
    RouteError::several_shards(format_args!(
        "{verb} writes reference table \"{}\", which has a copy on every shard",
        info.name
    ))
}

/// A configured table that the statement's words mention but the scan did not see as a
/// table (an AST shape the scan does not know, or a column or alias named like a
/// configured table): refusing is safer than routing without it.
pub(crate) fn unseen_mention(schema: &Schema, scan: &Scan<'_>, text: &str) -> Option<RouteError> {
    let lexer = Lexer::for_dialect(text, schema.dialect());
    let quote = match schema.dialect() {
        Dialect::Postgres => '"',
        Dialect::MySql => '`',
    };
    let mut word = String::new();
    for token in lexer {
        let text = lexer.text(&token);
        let bare = match token.kind {
            TokenKind::Word => text,
            TokenKind::QuotedIdent => text.trim_matches(quote),
            _ => continue,
        };
        word.clear();
        word.push_str(bare);
        word.make_ascii_lowercase();
        let Some(info) = schema.by_bare_name(&word) else {
            continue;
        };
        // A use of `other_schema.accounts` explains the word `accounts` too.
        let seen = scan
            .uses
            .iter()
            .any(|u| u.name == info.name || u.name.rsplit('.').next() == Some(word.as_str()));
        if !seen {
            return Some(RouteError::unsupported(format_args!(
                "cannot tell how this statement uses {} (\"{word}\" is not a table \
                 reference it understands)",
                info.describe()
            )));
        }
    }
    None
}

/// The target of a schema change or maintenance command with text `text`: every shard
/// (a [`Target::Spread`] of the statement itself, in the distributed transaction unless
/// PostgreSQL refuses the command in a transaction block) when it mentions a configured
/// table or defines objects that must exist everywhere; shard 0 when it only names
/// unsharded tables.
pub(crate) fn by_schema(schema: &Schema, text: &str, names_tables: bool) -> Target {
    if schema.first_mentioned(text).is_some() || !names_tables {
        spread::schema_everywhere(text)
    } else {
        Target::Shard(0)
    }
}

/// The command's leading words for messages: `CREATE FUNCTION`, `VACUUM`, `GRANT`.
pub(crate) fn command_words(text: &str) -> String {
    const MODIFIERS: &[&str] = &[
        "or",
        "replace",
        "unique",
        "temp",
        "temporary",
        "unlogged",
        "global",
        "local",
        "recursive",
        "trusted",
        "procedural",
        "if",
        "exists",
        "not",
        "concurrently",
    ];
    let lexer = Lexer::new(text);
    let mut words = lexer
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| lexer.text(&t).to_ascii_uppercase());
    let first = words.next().unwrap_or_default();
    if !matches!(first.as_str(), "CREATE" | "ALTER" | "DROP") {
        return first;
    }
    match words.find(|w| !MODIFIERS.iter().any(|m| m.eq_ignore_ascii_case(w))) {
        Some(object) => format!("{first} {object}"),
        None => first,
    }
}

/// The tables a statement touches, each once, CTE names left out.
pub(crate) fn tables(scan: &Scan<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for table in &scan.uses {
        let cte = matches!(table.class, TableClass::Unsharded) && scan.ctes.contains(&table.name);
        if !cte && !names.contains(&table.name) {
            names.push(table.name.clone());
        }
    }
    names
}
