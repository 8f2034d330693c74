//! Aggregate calls: which ones can be computed per shard and combined.
//!
//! `count`, `sum`, `min` and `max` combine from partial results (adding counts and
//! sums, taking the least or greatest), `avg(x)` from the partial `sum(x)` and
//! `count(x)`. `FILTER (WHERE …)` applies per row, so it is kept in the partials.
//! `DISTINCT` is fine for `min`/`max`; for the others only on a shard key, whose
//! distinct values are disjoint across shards. Any other aggregate (`string_agg`,
//! `array_agg`, percentiles …), or an aggregate inside a larger expression (whose
//! combination would need the merge to evaluate SQL), is refused.
//!
//! User-defined aggregates cannot be told from functions by name; a function is taken
//! for an aggregate when it is a built-in one or uses aggregate-only syntax (`FILTER`,
//! `WITHIN GROUP`, `DISTINCT` arguments).

use std::ops::ControlFlow;

use sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, Ident, ObjectName, Query, Visit, Visitor,
};

use super::scope::Scope;
use super::spec::ColumnRole;
use crate::error::RouteError;
use crate::key::last_part;

/// PostgreSQL's built-in aggregate functions.
const AGGREGATES: &[&str] = &[
    "any_value",
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "bool_and",
    "bool_or",
    "corr",
    "count",
    "covar_pop",
    "covar_samp",
    "cume_dist",
    "dense_rank",
    "every",
    "grouping",
    "json_agg",
    "json_agg_strict",
    "json_arrayagg",
    "json_object_agg",
    "json_object_agg_strict",
    "json_object_agg_unique",
    "json_object_agg_unique_strict",
    "json_objectagg",
    "jsonb_agg",
    "jsonb_agg_strict",
    "jsonb_object_agg",
    "jsonb_object_agg_strict",
    "jsonb_object_agg_unique",
    "jsonb_object_agg_unique_strict",
    "max",
    "min",
    "mode",
    "percent_rank",
    "percentile_cont",
    "percentile_disc",
    "range_agg",
    "range_intersect_agg",
    "rank",
    "regr_avgx",
    "regr_avgy",
    "regr_count",
    "regr_intercept",
    "regr_r2",
    "regr_slope",
    "regr_sxx",
    "regr_sxy",
    "regr_syy",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "var_pop",
    "var_samp",
    "variance",
    "xmlagg",
];

/// A supported aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Count,
    Sum,
    Min,
    Max,
    /// Computed from a partial `sum` and a partial `count`.
    Avg,
}

/// A supported aggregate call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Aggregate<'e> {
    pub kind: Kind,
    pub function: &'e Function,
}

impl Aggregate<'_> {
    /// The role of the shard column holding this aggregate's partials (`avg`: its sum).
    pub fn role(&self) -> ColumnRole {
        match self.kind {
            Kind::Count => ColumnRole::Count,
            Kind::Sum | Kind::Avg => ColumnRole::Sum,
            Kind::Min => ColumnRole::Min,
            Kind::Max => ColumnRole::Max,
        }
    }

    /// The same call with another function name (`avg(x)` → `sum(x)`, `count(x)`):
    /// arguments, `DISTINCT` and `FILTER` kept.
    pub fn renamed(&self, name: &str) -> Expr {
        let mut function = self.function.clone();
        function.name = ObjectName::from(vec![Ident::new(name)]);
        Expr::Function(function)
    }
}

/// Whether `function` is an aggregate call (not a window function).
pub(crate) fn is_aggregate(function: &Function) -> bool {
    if function.over.is_some() {
        return false;
    }
    let distinct = matches!(
        &function.args,
        FunctionArguments::List(list)
            if list.duplicate_treatment == Some(DuplicateTreatment::Distinct)
    );
    distinct
        || function.filter.is_some()
        || !function.within_group.is_empty()
        || last_part(&function.name).is_some_and(|name| AGGREGATES.contains(&name.as_str()))
}

/// Reads `expr` as a whole aggregate call: `Some` if it is a supported one, `None` if it
/// is no aggregate call, an error naming the function if it cannot be combined.
pub(crate) fn aggregate<'e>(
    expr: &'e Expr,
    scope: &Scope<'_>,
) -> Result<Option<Aggregate<'e>>, RouteError> {
    let function = match expr {
        Expr::Nested(inner) => return aggregate(inner, scope),
        Expr::Function(function) if is_aggregate(function) => function,
        _ => return Ok(None),
    };
    let name = last_part(&function.name).unwrap_or_default();
    let table = &scope.table;
    let refuse = |why: &str| {
        RouteError::unsupported(format_args!(
            "aggregate {name}() over sharded table \"{table}\" cannot be combined across \
             shards{why}"
        ))
    };
    let kind = match name.as_str() {
        "count" => Kind::Count,
        "sum" => Kind::Sum,
        "min" => Kind::Min,
        "max" => Kind::Max,
        "avg" => Kind::Avg,
        _ => return Err(refuse("")),
    };
    let FunctionArguments::List(list) = &function.args else {
        return Err(refuse(" with these arguments"));
    };
    let only_order = list
        .clauses
        .iter()
        .all(|c| matches!(c, FunctionArgumentClause::OrderBy(_)));
    if !function.within_group.is_empty() || !only_order {
        return Err(refuse(" with these arguments"));
    }
    let argument = match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(argument))] => Some(argument),
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if kind == Kind::Count => None,
        _ => return Err(refuse(" with these arguments")),
    };
    let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
    if distinct && matches!(kind, Kind::Count | Kind::Sum | Kind::Avg) {
        let on_key = argument.is_some_and(|a| scope.key_of(a).is_some());
        if !on_key {
            return Err(RouteError::unsupported(format_args!(
                "aggregate {name}(DISTINCT …) over sharded table \"{table}\" can only be \
                 combined across shards when its argument is a shard key (distinct values \
                 may repeat on several shards)"
            )));
        }
    }
    Ok(Some(Aggregate { kind, function }))
}

/// The name of the first aggregate call inside `expr` (not counting nested queries,
/// whose aggregates are their own).
pub(crate) fn first_inside(expr: &Expr) -> Option<String> {
    struct Find(usize);
    impl Visitor for Find {
        type Break = String;
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
            self.0 += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
            self.0 -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
            match expr {
                Expr::Function(function) if self.0 == 0 && is_aggregate(function) => {
                    ControlFlow::Break(last_part(&function.name).unwrap_or_default())
                }
                _ => ControlFlow::Continue(()),
            }
        }
    }
    match expr.visit(&mut Find(0)) {
        ControlFlow::Break(name) => Some(name),
        ControlFlow::Continue(()) => None,
    }
}

/// The refusal for aggregate `name` used inside a larger expression.
pub(crate) fn nested(name: &str, table: &str) -> RouteError {
    RouteError::unsupported(format_args!(
        "aggregate {name}() inside an expression over sharded table \"{table}\" cannot be \
         combined across shards; select the aggregate itself"
    ))
}
