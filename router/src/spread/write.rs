//! Which writes are spread: the planner's hook into the spread analysis.
//!
//! The routing rules send a write that no single shard can take to every shard
//! ([`Target::AllShards`]) or, for key lists (`key IN (…)`, the rows of a multi-row
//! `INSERT`), to a key route that only resolves when its values share a shard. Here such
//! writes become [`Target::Spread`] when running them on each shard gives the
//! single-database effect:
//! - `UPDATE`/`DELETE` of a sharded table, its `FROM`/`USING` co-located with it on shard
//!   keys, nothing else read but reference tables: every shard, or the shards a key list
//!   pins (a single pinned key gives a plain key route);
//! - a multi-row `INSERT … VALUES` into a sharded table: split by row ([`InsertSplit`]);
//! - `INSERT`/`UPDATE`/`DELETE` of a reference table that reads reference tables only and
//!   calls no function whose value differs between shards: every shard, one answer;
//! - `TRUNCATE`/`LOCK` of configured tables only: every shard.
//!
//! Anything else keeps its target: a key route still runs when its values share a shard,
//! and [`Target::AllShards`] carries the reason it cannot be spread.
//!
//! [`InsertSplit`]: super::InsertSplit

use std::sync::Arc;

use sqlparser::ast::{
    Delete, FromTable, Insert, SetExpr, Statement, TableWithJoins, Update, UpdateTableFromKind,
};

use super::insert::split_insert_target;
use super::{check, SpreadPlan, SpreadResults, SpreadShards};
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::plan::{KeySource, Target};
use crate::scan::Scan;
use crate::scatter::scope_of;
use crate::schema::{Placement, Schema, TableClass};

/// The target of a write `statement` that the routing rules sent to `routed`; `text` is
/// its normalized text.
pub(crate) fn write_target(
    schema: &Schema,
    statement: &Statement,
    scan: &Scan<'_>,
    routed: Target,
    text: &str,
) -> Target {
    if !matches!(routed, Target::AllShards(_) | Target::Key(_)) || scan.spread.is_some() {
        return routed;
    }
    let (verb, from, selection) = match statement {
        Statement::Truncate(_) => return whole_tables(scan, "TRUNCATE", routed),
        Statement::Lock(_) => return whole_tables(scan, "LOCK", routed),
        Statement::Insert(_) => ("INSERT", Vec::new(), None),
        Statement::Update(update) => ("UPDATE", update_from(update), update.selection.as_ref()),
        Statement::Delete(delete) => ("DELETE", delete_from(delete), delete.selection.as_ref()),
        _ => return routed,
    };
    if let Some(table) = written_reference(scan) {
        return match check::reference_write(schema, statement, verb, table) {
            Ok(()) => everywhere(SpreadResults::Copies),
            Err(err) => Target::AllShards(err),
        };
    }
    if let Statement::Insert(insert) = statement {
        return insert_target(insert, routed, text, schema.dialect());
    }
    let Some(table) = written_sharded(scan) else {
        return routed;
    };
    if let Target::Key(route) = &routed {
        if !several(&route.sources) {
            return routed;
        }
    }
    if limited(statement) {
        // MySQL's `UPDATE`/`DELETE … LIMIT n` on every shard would change up to n rows
        // on each.
        return match routed {
            Target::Key(_) => routed,
            _ => Target::AllShards(RouteError::unsupported(format_args!(
                "{verb} … LIMIT on sharded table \"{table}\" runs on several shards, where \
                 the limit would apply to each shard's rows; pin the shard key or drop the \
                 LIMIT"
            ))),
        };
    }
    let spread = check::sharded_write(schema, statement, verb, table)
        .and_then(|()| scope_of(schema, &from, selection, table, &scan.ctes));
    let scope = match spread {
        Ok(scope) => scope,
        Err(_) if matches!(routed, Target::Key(_)) => return routed,
        Err(err) => return Target::AllShards(err),
    };
    match scope.pinned(selection) {
        None => everywhere(SpreadResults::Sum),
        Some(route) if !several(&route.sources) => Target::Key(route),
        Some(route) => Target::Spread(Arc::new(SpreadPlan {
            shards: SpreadShards::Key(route),
            ..SpreadPlan::everywhere(true, SpreadResults::Sum)
        })),
    }
}

/// Whether `statement` is an `UPDATE`/`DELETE` with MySQL's `LIMIT`.
fn limited(statement: &Statement) -> bool {
    match statement {
        Statement::Update(update) => update.limit.is_some(),
        Statement::Delete(delete) => delete.limit.is_some(),
        _ => false,
    }
}

/// The target of an `INSERT` of plain rows (no function calls) into a reference table,
/// as the fast path finds it: what [`write_target`] gives for it too.
pub(crate) fn reference_insert() -> Target {
    everywhere(SpreadResults::Copies)
}

/// A multi-row `INSERT … VALUES` into a sharded table, one key source per row: split.
fn insert_target(insert: &Insert, routed: Target, text: &str, dialect: Dialect) -> Target {
    let Target::Key(route) = routed else {
        return routed;
    };
    let rows = match insert.source.as_deref() {
        Some(query)
            if query.with.is_none()
                && query.order_by.is_none()
                && query.limit_clause.is_none()
                && query.fetch.is_none() =>
        {
            match query.body.as_ref() {
                SetExpr::Values(values) => values.rows.len(),
                _ => 0,
            }
        }
        _ => 0,
    };
    if rows > 1 {
        split_insert_target(text, route, rows, dialect)
    } else {
        Target::Key(route)
    }
}

/// `TRUNCATE`/`LOCK`: every shard, if every table named is configured.
fn whole_tables(scan: &Scan<'_>, verb: &str, routed: Target) -> Target {
    let mut all_reference = true;
    for table in &scan.uses {
        match table.class {
            TableClass::Configured(info) => {
                all_reference &= info.placement == Placement::Reference;
            }
            TableClass::Unsharded | TableClass::Catalog => {
                return match scan.uses.iter().find_map(|u| match u.class {
                    TableClass::Configured(info) => Some(info),
                    _ => None,
                }) {
                    Some(info) => Target::AllShards(RouteError::unsupported(format_args!(
                        "{verb} of {} runs on every shard, so it cannot include \"{}\", \
                         which is not on every shard",
                        info.describe(),
                        table.name
                    ))),
                    None => routed,
                };
            }
        }
    }
    everywhere(if all_reference {
        SpreadResults::Copies
    } else {
        SpreadResults::Sum
    })
}

fn everywhere(results: SpreadResults) -> Target {
    Target::Spread(Arc::new(SpreadPlan::everywhere(true, results)))
}

/// Whether key sources may stand for several shards.
fn several(sources: &[KeySource]) -> bool {
    sources.len() > 1
        || sources
            .iter()
            .any(|s| matches!(s, KeySource::LiteralArray(_) | KeySource::ParamArray(_)))
}

/// The reference table the statement writes, if any.
fn written_reference<'s>(scan: &Scan<'s>) -> Option<&'s str> {
    written(scan, |p| matches!(p, Placement::Reference))
}

/// The sharded table the statement writes, if any.
fn written_sharded<'s>(scan: &Scan<'s>) -> Option<&'s str> {
    written(scan, |p| matches!(p, Placement::Sharded { .. }))
}

fn written<'s>(scan: &Scan<'s>, wanted: impl Fn(&Placement) -> bool) -> Option<&'s str> {
    scan.uses.iter().find_map(|u| match u.class {
        TableClass::Configured(info)
            if wanted(&info.placement) && scan.written.contains(&info.name) =>
        {
            Some(info.name.as_str())
        }
        _ => None,
    })
}

/// The target and `FROM` list of an `UPDATE`, as one `FROM` list.
fn update_from(update: &Update) -> Vec<TableWithJoins> {
    let mut items = vec![update.table.clone()];
    if let Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) =
        &update.from
    {
        items.extend(from.iter().cloned());
    }
    items
}

/// The target and `USING` list of a `DELETE`, as one `FROM` list.
fn delete_from(delete: &Delete) -> Vec<TableWithJoins> {
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let mut items = from.clone();
    items.extend(delete.using.iter().flatten().cloned());
    items
}
