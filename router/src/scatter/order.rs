//! `ORDER BY` items as the merge needs them: direction, null placement, and which
//! select item an item names.
//!
//! PostgreSQL's defaults apply: ascending, NULLs last when ascending and first when
//! descending. A bare name is first an output column's name (its alias, or the name
//! PostgreSQL gives it); otherwise an expression is matched against the select items by
//! its text.

use sqlparser::ast::{Expr, OrderByExpr, OrderByKind, OrderBySort, Query, SelectItem};

use super::values::{canonical, ident_key, item_expr, output_name};
use crate::error::RouteError;

/// The `ORDER BY` items of `query`; `ORDER BY ALL` is refused.
pub(crate) fn items<'q>(query: &'q Query, table: &str) -> Result<&'q [OrderByExpr], RouteError> {
    match query.order_by.as_ref().map(|o| &o.kind) {
        None => Ok(&[]),
        Some(OrderByKind::Expressions(items)) => Ok(items),
        Some(OrderByKind::All(_)) => Err(unsupported("ORDER BY ALL", table)),
    }
}

/// `(descending, nulls_first)` of an item; `USING <operator>` is refused, since the
/// merge compares by the type's default order.
pub(crate) fn direction(item: &OrderByExpr, table: &str) -> Result<(bool, bool), RouteError> {
    let descending = match &item.options.sort {
        None | Some(OrderBySort::Asc) => false,
        Some(OrderBySort::Desc) => true,
        Some(OrderBySort::Using(_)) => return Err(unsupported("ORDER BY … USING", table)),
    };
    Ok((descending, item.options.nulls_first.unwrap_or(descending)))
}

/// The select item `expr` names when it is a bare name: the first item whose output
/// column is called so.
pub(crate) fn by_name(expr: &Expr, projection: &[SelectItem]) -> Option<usize> {
    let Expr::Identifier(ident) = expr else {
        return None;
    };
    let name = ident_key(ident);
    projection
        .iter()
        .position(|item| output_name(item).is_some_and(|n| n == name))
}

/// The first select item whose expression reads like `expr`.
pub(crate) fn by_text(expr: &Expr, projection: &[SelectItem]) -> Option<usize> {
    let text = canonical(expr);
    projection
        .iter()
        .position(|item| item_expr(item).is_some_and(|e| canonical(e) == text))
}

/// The index of the first `*` or `t.*` of a select list.
pub(crate) fn first_wildcard(projection: &[SelectItem]) -> Option<usize> {
    projection.iter().position(|item| item_expr(item).is_none())
}

fn unsupported(what: &str, table: &str) -> RouteError {
    RouteError::unsupported(format_args!(
        "{what} in a SELECT over sharded table \"{table}\" cannot be combined across shards"
    ))
}
