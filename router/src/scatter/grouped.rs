//! Grouped mode: each shard computes partial aggregates per group, and the merge
//! combines the partials of equal groups, then applies `HAVING`, `ORDER BY`,
//! `DISTINCT`, `LIMIT` and `OFFSET` itself.
//!
//! The shard's select list is the client's, with `avg(x)` turned into `sum(x)` under
//! the same name, followed by hidden columns (`AS __sw_1` …): the `count(x)` of each
//! average, the `GROUP BY` expressions missing from the select list (a group's identity
//! is all of its plain values), then whatever `ORDER BY` and `HAVING` need that is not a
//! select item — aggregates, grouped expressions or columns. The shard query keeps
//! `FROM`, `WHERE` and `GROUP BY` and drops `HAVING`, `ORDER BY`, `DISTINCT` and paging.

use sqlparser::ast::{Expr, Ident, Query, Select, SelectItem};

use super::aggregate::{aggregate, first_inside, nested, Kind};
use super::having;
use super::limit::Paging;
use super::order;
use super::scope::Scope;
use super::spec::{ColumnRole, MergeSpec, Output, OutputRef, SortKey};
use super::values::{
    canonical, hidden_alias, ident_key, is_column, item_expr, lone, mentions_column, output_name,
    Lone,
};
use crate::error::RouteError;

/// The shard's select list and the merge of a grouped query.
pub(crate) fn plan(
    query: &Query,
    select: &Select,
    group_by: &[Expr],
    scope: &Scope<'_>,
    paging: &Paging,
    distinct: bool,
) -> Result<(Vec<SelectItem>, MergeSpec), RouteError> {
    let table = scope.table.as_str();
    let projection = select.projection.as_slice();
    let mut grouped = Grouped {
        scope,
        projection,
        items: Vec::with_capacity(projection.len()),
        columns: Vec::with_capacity(projection.len()),
        outputs: Vec::with_capacity(projection.len()),
        known: Vec::new(),
        group_columns: Vec::new(),
        hidden: 0,
    };
    grouped.select_list()?;
    for expr in group_by {
        if !in_select_list(expr, projection) {
            let column = grouped.hidden_column(expr.clone(), ColumnRole::Value);
            grouped.group_columns.push((canonical(expr), column));
        }
    }
    let mut order_by = Vec::new();
    for item in order::items(query, table)? {
        let (descending, nulls_first) = order::direction(item, table)?;
        let output = match lone(&item.expr) {
            Some(Lone::Ordinal(value)) => OutputRef::Ordinal(value),
            Some(Lone::Constant) => continue,
            None => OutputRef::Index(grouped.output_for(&item.expr, true)?),
        };
        order_by.push(SortKey {
            output,
            descending,
            nulls_first,
        });
    }
    let having = match &select.having {
        Some(condition) => Some(having::condition(
            condition,
            &mut |e: &Expr| grouped.output_for(e, false),
            table,
        )?),
        None => None,
    };
    let merge = MergeSpec {
        columns: grouped.columns,
        hidden: 0,
        grouped: true,
        outputs: grouped.outputs,
        visible: projection.len(),
        having,
        distinct,
        order_by,
        limit: paging.limit.clone(),
        offset: paging.offset.clone(),
    };
    Ok((grouped.items, merge))
}

struct Grouped<'a, 's> {
    scope: &'a Scope<'s>,
    projection: &'a [SelectItem],
    /// The shard's select list.
    items: Vec<SelectItem>,
    columns: Vec<ColumnRole>,
    outputs: Vec<Output>,
    /// Hidden outputs by expression text.
    known: Vec<(String, usize)>,
    /// Hidden `GROUP BY` columns by expression text.
    group_columns: Vec<(String, usize)>,
    /// Hidden columns so far.
    hidden: usize,
}

impl Grouped<'_, '_> {
    /// The client's select list: one shard column and one output per item.
    fn select_list(&mut self) -> Result<(), RouteError> {
        let table = self.scope.table.as_str();
        let mut averages = Vec::new();
        for (i, item) in self.projection.iter().enumerate() {
            let Some(expr) = item_expr(item) else {
                return Err(RouteError::unsupported(format_args!(
                    "SELECT {item} with aggregates or GROUP BY over sharded table \"{table}\" \
                     cannot be combined across shards; list the columns"
                )));
            };
            self.outputs.push(Output::Column(i));
            match aggregate(expr, self.scope)? {
                Some(call) if call.kind == Kind::Avg => {
                    let alias = match item {
                        SelectItem::ExprWithAlias { alias, .. } => alias.clone(),
                        _ => Ident::with_quote('"', "avg"),
                    };
                    self.items.push(SelectItem::ExprWithAlias {
                        expr: call.renamed("sum"),
                        alias,
                    });
                    self.columns.push(ColumnRole::Sum);
                    averages.push((i, call.renamed("count")));
                }
                Some(call) => {
                    self.items.push(item.clone());
                    self.columns.push(call.role());
                }
                None => {
                    if let Some(name) = first_inside(expr) {
                        return Err(nested(&name, table));
                    }
                    self.items.push(item.clone());
                    self.columns.push(ColumnRole::Value);
                }
            }
        }
        for (i, count) in averages {
            let count = self.hidden_column(count, ColumnRole::Count);
            self.outputs[i] = Output::Avg { sum: i, count };
        }
        Ok(())
    }

    /// Appends a hidden shard column; returns its index.
    fn hidden_column(&mut self, expr: Expr, role: ColumnRole) -> usize {
        self.items.push(SelectItem::ExprWithAlias {
            expr,
            alias: hidden_alias(self.hidden),
        });
        self.hidden += 1;
        self.columns.push(role);
        self.columns.len() - 1
    }

    fn add_output(&mut self, output: Output) -> usize {
        self.outputs.push(output);
        self.outputs.len() - 1
    }

    /// The output `expr` (of `ORDER BY` or `HAVING`) stands for: a select item
    /// (by output name too when `names`), or a hidden output made for it.
    fn output_for(&mut self, expr: &Expr, names: bool) -> Result<usize, RouteError> {
        let listed = names
            .then(|| order::by_name(expr, self.projection))
            .flatten()
            .or_else(|| order::by_text(expr, self.projection));
        if let Some(i) = listed {
            return Ok(i);
        }
        let text = canonical(expr);
        if let Some(&(_, output)) = self.known.iter().find(|(t, _)| *t == text) {
            return Ok(output);
        }
        let grouped = self.group_columns.iter().find(|(t, _)| *t == text);
        let output = match grouped.map(|&(_, column)| column) {
            Some(column) => Output::Column(column),
            None => self.new_output(expr)?,
        };
        let output = self.add_output(output);
        self.known.push((text, output));
        Ok(output)
    }

    /// A hidden output for `expr`, which is no select item and no `GROUP BY` expression.
    fn new_output(&mut self, expr: &Expr) -> Result<Output, RouteError> {
        let table = self.scope.table.as_str();
        Ok(match aggregate(expr, self.scope)? {
            Some(call) if call.kind == Kind::Avg => {
                let sum = self.hidden_column(call.renamed("sum"), ColumnRole::Sum);
                let count = self.hidden_column(call.renamed("count"), ColumnRole::Count);
                Output::Avg { sum, count }
            }
            Some(call) => Output::Column(self.hidden_column(expr.clone(), call.role())),
            None => {
                if let Some(name) = first_inside(expr) {
                    return Err(nested(&name, table));
                }
                // No aggregate inside: a function of the group keys, or the shard refuses
                // it ("must appear in the GROUP BY clause"), so it is one value per group.
                // (`customer_id % 5` in ORDER BY is not the text of the select item
                // `customer_id % 5` once literals are placeholders: `$L1` vs `$L3`.)
                Output::Column(self.hidden_column(expr.clone(), ColumnRole::Value))
            }
        })
    }
}

/// Whether the `GROUP BY` item `expr` is a select item (so already a plain value of the
/// shard rows): an ordinal, the same text, or a bare name that PostgreSQL resolves to a
/// select item. A bare name means an input column first, so it names an output only
/// through a column item's own name, or through an alias whose expression does not use
/// a column of that name (`date_trunc('day', at) AS at` groups by the column `at`).
fn in_select_list(expr: &Expr, projection: &[SelectItem]) -> bool {
    if lone(expr).is_some() || order::by_text(expr, projection).is_some() {
        return true;
    }
    let Expr::Identifier(ident) = expr else {
        return false;
    };
    let name = ident_key(ident);
    projection.iter().any(|item| match item {
        SelectItem::ExprWithAlias { expr, alias } => {
            ident_key(alias) == name && !mentions_column(expr, &name)
        }
        SelectItem::UnnamedExpr(expr) => is_column(expr) && output_name(item) == Some(name.clone()),
        _ => false,
    })
}
