//! Which reads are scattered: the planner's hook into the scatter analysis.
//!
//! A plain `SELECT` that the routing rules could not pin to one shard — every shard
//! ([`Target::AllShards`]), or a key route with several values (`key IN (…)`,
//! `= ANY(…)`) — is analyzed. Success gives [`Target::Scatter`], or [`Target::Key`]
//! when the analysis finds a single key value after all (co-located tables pinned by one
//! of them). Failure keeps a key route as it was (it still runs when its values share a
//! shard) and otherwise gives [`Target::AllShards`] with the analysis' reason, which a
//! one-shard database still runs.

use std::sync::Arc;

use sqlparser::ast::Statement;

use super::analyze::analyze;
use crate::plan::{KeySource, Target};
use crate::scan::Scan;
use crate::schema::{Placement, Schema, TableClass};

/// The target of a read `statement` that the routing rules sent to `routed`; `inline`
/// when the tree was parsed from the client's text instead of the normalized one.
pub(crate) fn read_target(
    schema: &Schema,
    statement: &Statement,
    scan: &Scan<'_>,
    routed: Target,
    inline: bool,
) -> Target {
    let Statement::Query(query) = statement else {
        return routed;
    };
    let candidate = match &routed {
        Target::AllShards(_) => true,
        Target::Key(route) => scan
            .keys
            .iter()
            .find(|k| k.table == route.table)
            .is_some_and(|k| k.sources.len() > 1 || k.sources.iter().any(is_array)),
        _ => false,
    };
    let sharded = scan.uses.iter().find_map(|u| match u.class {
        TableClass::Configured(info) if matches!(info.placement, Placement::Sharded { .. }) => {
            Some(info.name.as_str())
        }
        _ => None,
    });
    let (true, Some(table)) = (candidate, sharded) else {
        return routed;
    };
    match analyze(schema, query, table, inline) {
        Ok(plan) => match &plan.key {
            Some(route)
                if matches!(
                    route.sources.as_slice(),
                    [KeySource::Literal(_) | KeySource::Param(_) | KeySource::Shard(_)]
                ) =>
            {
                Target::Key(route.clone())
            }
            _ => Target::Scatter(Arc::new(plan)),
        },
        Err(_) if matches!(routed, Target::Key(_)) => routed,
        Err(err) => Target::AllShards(err),
    }
}

fn is_array(source: &KeySource) -> bool {
    matches!(
        source,
        KeySource::LiteralArray(_) | KeySource::ParamArray(_)
    )
}
