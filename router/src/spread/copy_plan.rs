//! `COPY` of a configured table: where it runs and, into a sharded table, how its data
//! rows are split ([`CopyPlan`]).
//!
//! `COPY t (cols) FROM STDIN` into a sharded table runs on every shard, each receiving
//! the rows whose key hashes to it; into a reference table every shard receives every
//! row. The router reads the statement's options itself (see `copy_options`) because
//! they decide how rows and the key field are found. What it cannot split exactly is
//! refused with `0A000`: binary format, no column list (the router does not know the
//! table's column order), a key column forced to or from NULL, `DEFAULT` markers,
//! files and programs on the servers, and `COPY … TO` of a sharded table (a `SELECT`
//! is merged across shards, a `COPY` is not). Unconfigured tables stay on shard 0.

use std::sync::Arc;

use shardwire_conf::KeyType;
use sqlparser::ast::{CopySource, Statement};

use super::copy_format::{format, CopyFormat, Refusal};
use super::copy_options::{Cursor, Opt};
use super::{SpreadAction, SpreadPlan, SpreadResults, SpreadShards};
use crate::command::StatementKind;
use crate::error::RouteError;
use crate::lexer::TokenKind;
use crate::plan::{StatementPlan, Target};
use crate::schema::{Placement, Schema, TableClass, TableInfo};

/// How to split the data of one `COPY … FROM STDIN` into a sharded table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyPlan {
    /// The sharded table, by its configured name.
    pub table: String,
    /// Its shard-key column.
    pub key_column: String,
    /// The position (0-based) of the shard key in the statement's column list.
    pub key_column_index: usize,
    /// Whether the statement lists its columns. Without a list the rows hold every
    /// column in table order, which only the database knows: the proxy looks the key's
    /// position up in the catalog and sets `key_column_index` before splitting.
    pub columns_listed: bool,
    /// The key's type, which picks how values are parsed and hashed.
    pub key_type: KeyType,
    /// How rows and fields are written.
    pub format: CopyFormat,
}

/// The plan of `text` (one normalized statement, `COPY` verbatim) if it is a `COPY` of
/// a configured table; `None` otherwise (the parser path plans it).
pub(crate) fn plan(schema: &Schema, text: &str) -> Option<StatementPlan> {
    let mut cursor = Cursor::new(text);
    if !cursor.eat_word("copy") || cursor.peek_is(TokenKind::Open) {
        return None;
    }
    let parts = cursor.qualified_name()?;
    let TableClass::Configured(info) = schema.classify(&parts) else {
        // Unsharded tables (and catalogs) live on shard 0, as everywhere else.
        let copy = read(&mut cursor)?;
        return Some(StatementPlan {
            kind: kind_of(&copy),
            target: Target::Shard(0),
            tables: vec![parts.join(".")],
        });
    };
    let (kind, target) = match read(&mut cursor) {
        Some(copy) => target(info, &copy),
        None => (
            StatementKind::Write,
            Target::Unsupported(RouteError::unsupported(format_args!(
                "cannot read this COPY of {}, so cannot tell where its rows go",
                info.describe()
            ))),
        ),
    };
    Some(StatementPlan {
        kind,
        target,
        tables: vec![info.name.clone()],
    })
}

/// `COPY (SELECT …) TO` that needs several shards: a clearer refusal than the read's.
pub(crate) fn query_copy_target(statement: &Statement, target: Target) -> Target {
    match (statement, target) {
        (
            Statement::Copy {
                source: CopySource::Query(_),
                ..
            },
            Target::AllShards(_) | Target::Scatter(_),
        ) => Target::AllShards(RouteError::unsupported(
            "COPY (SELECT …) TO over sharded tables cannot run across shards; run the SELECT \
             itself, which shardwire merges across shards",
        )),
        (_, target) => target,
    }
}

fn kind_of(copy: &Copy) -> StatementKind {
    if copy.from {
        StatementKind::Write
    } else {
        StatementKind::Read
    }
}

/// What the statement says after the table name.
struct Copy {
    columns: Option<Vec<String>>,
    from: bool,
    stdio: bool,
    options: Vec<Opt>,
}

fn read(cursor: &mut Cursor<'_>) -> Option<Copy> {
    let columns = if cursor.peek_is(TokenKind::Open) {
        Some(cursor.columns()?)
    } else {
        None
    };
    let from = match cursor.word()?.as_str() {
        "from" => true,
        "to" => false,
        _ => return None,
    };
    let stdio = if cursor.eat_word("stdin") || cursor.eat_word("stdout") {
        true
    } else {
        cursor.eat_word("program");
        cursor.string()?;
        false
    };
    let options = cursor.options()?;
    Some(Copy {
        columns,
        from,
        stdio,
        options,
    })
}

/// The kind and target of a `COPY` of configured table `info`.
fn target(info: &TableInfo, copy: &Copy) -> (StatementKind, Target) {
    let name = &info.name;
    let Placement::Sharded { key, key_type } = &info.placement else {
        return match (copy.from, copy.stdio) {
            (false, _) => (StatementKind::Read, Target::AnyShard),
            (true, true) => (
                StatementKind::Write,
                spread(SpreadAction::CopyToAll, SpreadResults::Copies),
            ),
            (true, false) => (
                StatementKind::Write,
                refuse(format_args!(
                    "COPY FROM a file or program into reference table \"{name}\" would read a \
                 file on each shard's server; use COPY … FROM STDIN"
                )),
            ),
        };
    };
    if !copy.from {
        return (
            StatementKind::Read,
            refuse(format_args!(
                "COPY … TO from sharded table \"{name}\" cannot run across shards; use SELECT, \
             which shardwire merges across shards"
            )),
        );
    }
    if !copy.stdio {
        return (
            StatementKind::Write,
            refuse(format_args!(
                "COPY FROM a file or program into sharded table \"{name}\" would read a file on \
             each shard's server; use COPY … FROM STDIN"
            )),
        );
    }
    let target = match copy_plan(info, key, *key_type, copy) {
        Ok(plan) => spread(SpreadAction::Copy(plan), SpreadResults::Sum),
        Err(err) => err,
    };
    (StatementKind::Write, target)
}

fn spread(action: SpreadAction, results: SpreadResults) -> Target {
    Target::Spread(Arc::new(SpreadPlan {
        shards: SpreadShards::All,
        action,
        transactional: true,
        results,
    }))
}

/// A refusal that a one-shard database still runs.
fn refuse(message: std::fmt::Arguments<'_>) -> Target {
    Target::AllShards(RouteError::unsupported(message))
}

/// The split of `COPY … FROM STDIN` into sharded table `info`, or the target refusing it.
fn copy_plan(
    info: &TableInfo,
    key: &str,
    key_type: KeyType,
    copy: &Copy,
) -> Result<CopyPlan, Target> {
    let name = &info.name;
    let key_column_index = match &copy.columns {
        // Found in the catalog by the proxy (`columns_listed: false`).
        None => 0,
        Some(columns) => match columns.iter().position(|c| c == key) {
            Some(i) => i,
            None => {
                return Err(Target::Unsupported(RouteError::unsupported(format_args!(
                    "COPY into sharded table \"{name}\" must set its shard key \"{key}\""
                ))))
            }
        },
    };
    let format = format(&copy.options, key).map_err(|err| match err {
        Refusal::Unsupported(what) => refuse(format_args!(
            "COPY into sharded table \"{name}\" with {what} is not supported"
        )),
        Refusal::Invalid(err) => Target::Unsupported(err),
    })?;
    Ok(CopyPlan {
        table: name.clone(),
        key_column: key.to_owned(),
        key_column_index,
        columns_listed: copy.columns.is_some(),
        key_type,
        format,
    })
}
