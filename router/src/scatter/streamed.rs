//! Streamed mode: every shard runs the client's query, sorted, and the merge interleaves
//! the sorted streams, drops duplicates for `DISTINCT` and applies `LIMIT`/`OFFSET`.
//!
//! Used when there is nothing to combine: no aggregates and no `GROUP BY`, or a
//! `GROUP BY` on a shard key, whose groups each live on one shard (then `HAVING` and the
//! aggregates run on the shards unchanged). Each `ORDER BY` item must be a column of
//! the shard rows: a select item (by name or by text) when no `*` comes before it — the
//! width of `*` is only known from the RowDescription — or else a hidden column
//! appended to the shard's select list (`<expr> AS __sw_1` …), which the merge strips.

use sqlparser::ast::{Expr, Query, SelectItem};

use super::limit::Paging;
use super::order;
use super::spec::{MergeSpec, OutputRef, SortKey};
use super::values::{canonical, hidden_alias, item_expr, lone, Lone};
use crate::error::RouteError;

/// The merge of a streamed query; `shard_items` (the shard's select list, a copy of
/// `projection`) gets the hidden sort columns.
pub(crate) fn plan(
    query: &Query,
    projection: &[SelectItem],
    shard_items: &mut Vec<SelectItem>,
    paging: &Paging,
    distinct: bool,
    table: &str,
) -> Result<MergeSpec, RouteError> {
    let wildcard = order::first_wildcard(projection);
    let usable = |i: usize| wildcard.is_none_or(|w| i < w);
    let mut hidden: Vec<String> = Vec::new();
    let mut hide = |expr: &Expr| {
        let text = canonical(expr);
        let k = match hidden.iter().position(|h| *h == text) {
            Some(k) => k,
            None => {
                shard_items.push(SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: hidden_alias(hidden.len()),
                });
                hidden.push(text);
                hidden.len() - 1
            }
        };
        OutputRef::Hidden(k)
    };
    let mut order_by = Vec::new();
    for item in order::items(query, table)? {
        let (descending, nulls_first) = order::direction(item, table)?;
        let output = match lone(&item.expr) {
            Some(Lone::Ordinal(value)) => OutputRef::Ordinal(value),
            Some(Lone::Constant) => continue,
            None => {
                let named = order::by_name(&item.expr, projection)
                    .or_else(|| order::by_text(&item.expr, projection));
                match named {
                    Some(i) if usable(i) => OutputRef::Index(i),
                    Some(i) => hide(item_expr(&projection[i]).unwrap_or(&item.expr)),
                    None => hide(&item.expr),
                }
            }
        };
        order_by.push(SortKey {
            output,
            descending,
            nulls_first,
        });
    }
    Ok(MergeSpec {
        columns: Vec::new(),
        hidden: hidden.len(),
        grouped: false,
        outputs: Vec::new(),
        visible: 0,
        having: None,
        distinct,
        order_by,
        limit: paging.limit.clone(),
        offset: paging.offset.clone(),
    })
}
