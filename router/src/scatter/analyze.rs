//! The scatter analysis of one `SELECT`: can per-shard answers be combined into the
//! single-database answer, and how?
//!
//! In order: the query's shape (one plain `SELECT`: no set operation, `DISTINCT ON`,
//! grouping sets, `INTO` …), its nested queries and window functions (`nested`), its
//! `FROM` (`colocate`), its paging (`limit`); then the mode — streamed when there is
//! nothing to combine or the groups are shard-local, grouped otherwise — which rewrites
//! the statement each shard runs and describes the merge.

use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, OrderByKind, Query, Select, SelectFlavor, SetExpr,
};

use super::aggregate::first_inside;
use super::limit::{paging, Paging};
use super::template::SqlTemplate;
use super::values::item_expr;
use super::{colocate, grouped, nested, streamed, ScatterPlan};
use crate::dialect::Dialect;
use crate::error::{sqlstate, RouteError};
use crate::schema::Schema;

/// Plans `query`, whose first sharded table is `table`. `inline` says that the tree was
/// parsed from the client's own text (literals in place), not the normalized one.
pub(crate) fn analyze(
    schema: &Schema,
    query: &Query,
    table: &str,
    inline: bool,
) -> Result<ScatterPlan, RouteError> {
    let refuse = |what: &dyn std::fmt::Display| {
        RouteError::unsupported(format_args!(
            "{what} over sharded table \"{table}\" cannot be combined across shards"
        ))
    };
    let select = match query.body.as_ref() {
        SetExpr::Select(select) => select,
        SetExpr::SetOperation { op, .. } => return Err(refuse(op)),
        _ => return Err(refuse(&"this form of query")),
    };
    if !query.pipe_operators.is_empty() || !plain(select) {
        return Err(refuse(&"this form of SELECT"));
    }
    if select.into.is_some() {
        return Err(refuse(&"SELECT … INTO"));
    }
    let distinct = match &select.distinct {
        None | Some(Distinct::All) => false,
        Some(Distinct::Distinct) => true,
        Some(Distinct::On(_)) => return Err(refuse(&"SELECT DISTINCT ON")),
    };
    if !select.named_window.is_empty() {
        return Err(refuse(&"a WINDOW clause"));
    }
    let group_by = match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs,
        _ => return Err(refuse(&"this form of GROUP BY")),
    };
    if group_by
        .iter()
        .any(|e| matches!(e, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)))
    {
        return Err(refuse(&"GROUP BY ROLLUP, CUBE or GROUPING SETS"));
    }
    let ctes = nested::check(schema, query, table)?;
    let scope = colocate::scope(schema, select, table, &ctes)?;
    if scope.refs.is_empty() {
        // The sharded table is somewhere the analysis does not look (a CTE name
        // shadowing it, an unusual FROM item): running on every shard could repeat rows.
        return Err(RouteError::unsupported(format_args!(
            "cannot tell how this SELECT reads sharded table \"{table}\", so cannot combine \
             it across shards"
        )));
    }
    let paging = paging(query, table)?;
    let key = scope.pinned(select.selection.as_ref());

    let mut shard = query.clone();
    let SetExpr::Select(shard_select) = shard.body.as_mut() else {
        return Err(RouteError::new(
            sqlstate::INTERNAL_ERROR,
            "the copy of a SELECT is no SELECT",
        ));
    };
    let combines = aggregates(query, select) || !group_by.is_empty() || select.having.is_some();
    let mut merge = if combines && !scope.groups_by_key(group_by) {
        let (items, merge) = grouped::plan(query, select, group_by, &scope, &paging, distinct)?;
        shard_select.projection = items;
        shard_select.having = None;
        shard_select.distinct = None;
        shard.order_by = None;
        Paging::remove_from_shard(&mut shard);
        merge
    } else {
        let projection = &select.projection;
        let merge = streamed::plan(
            query,
            projection,
            &mut shard_select.projection,
            &paging,
            distinct,
            table,
        )?;
        paging.apply_to_shard(&mut shard, schema.dialect());
        merge
    };
    if schema.dialect() == Dialect::MySql {
        // MySQL sorts NULLs first when ascending, last when descending (and has no
        // `NULLS FIRST`/`LAST` to say otherwise).
        for key in &mut merge.order_by {
            key.nulls_first = !key.descending;
        }
    }
    let sql = shard.to_string();
    let shard_sql = if inline {
        SqlTemplate::inline(sql)
    } else {
        SqlTemplate::for_dialect(sql, schema.dialect())
    };
    Ok(ScatterPlan {
        shard_sql,
        key,
        merge,
    })
}

/// Whether `select` uses only PostgreSQL's clauses (no dialect extras the rewrite would
/// have to understand).
fn plain(select: &Select) -> bool {
    select.top.is_none()
        && select.exclude.is_none()
        && select.lateral_views.is_empty()
        && select.prewhere.is_none()
        && select.connect_by.is_empty()
        && select.cluster_by.is_empty()
        && select.distribute_by.is_empty()
        && select.sort_by.is_empty()
        && select.qualify.is_none()
        && select.value_table_mode.is_none()
        && matches!(select.flavor, SelectFlavor::Standard)
}

/// Whether the query aggregates: an aggregate call in its select list, `HAVING` or
/// `ORDER BY`.
fn aggregates(query: &Query, select: &Select) -> bool {
    let order_by = match query.order_by.as_ref().map(|o| &o.kind) {
        Some(OrderByKind::Expressions(items)) => items.as_slice(),
        _ => &[],
    };
    select
        .projection
        .iter()
        .filter_map(item_expr)
        .chain(select.having.as_ref())
        .chain(order_by.iter().map(|o| &o.expr))
        .any(|e| first_inside(e).is_some())
}
