//! What a scattered `SELECT` may hold besides its own `FROM`: nested queries (subqueries,
//! derived tables, CTEs) and window functions.
//!
//! A nested query runs, unchanged, inside each shard's statement, so it only gives the
//! single-database answer when it reads the same rows on every shard: reference tables,
//! functions, no table at all. One that reads a sharded table would see only that
//! shard's rows; one that reads an unsharded table or a catalog would find it only on
//! shard 0 (or different on each). A window function of the top-level query would be
//! computed over one shard's rows. All of these are refused, naming the table.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Query, TableFactor, Visit, Visitor};

use crate::error::RouteError;
use crate::key::last_part;
use crate::schema::{Placement, Schema, TableClass};

/// Checks the nested queries and window functions of `query`, whose first sharded
/// table is `table`; returns the names of its common table expressions.
pub(crate) fn check(
    schema: &Schema,
    query: &Query,
    table: &str,
) -> Result<Vec<String>, RouteError> {
    let mut check = Check {
        schema,
        table,
        depth: 0,
        labels: Vec::new(),
        current: String::new(),
        ctes: Vec::new(),
        skip_relations: 0,
    };
    match query.visit(&mut check) {
        ControlFlow::Break(err) => Err(err),
        ControlFlow::Continue(()) => Ok(check.ctes),
    }
}

struct Check<'a> {
    schema: &'a Schema,
    table: &'a str,
    depth: usize,
    /// What to call the nested queries met so far, by address.
    labels: Vec<(usize, String)>,
    /// What to call the nested query being walked.
    current: String,
    ctes: Vec<String>,
    skip_relations: usize,
}

fn address(query: &Query) -> usize {
    std::ptr::from_ref(query) as usize
}

impl Visitor for Check<'_> {
    type Break = RouteError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<RouteError> {
        self.depth += 1;
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = cte.alias.name.value.to_ascii_lowercase();
                if self.depth == 1 {
                    let label = format!("the common table expression \"{name}\"");
                    self.labels.push((address(&cte.query), label));
                }
                self.ctes.push(name);
            }
        }
        if self.depth == 2 {
            self.current = self
                .labels
                .iter()
                .find(|(at, _)| *at == address(query))
                .map_or_else(|| "a subquery".to_owned(), |(_, label)| label.clone());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<RouteError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<RouteError> {
        match factor {
            // `FROM generate_series(1, 3)` parses as a table with arguments: a function.
            TableFactor::Table { args: Some(_), .. } => self.skip_relations += 1,
            TableFactor::Derived { subquery, .. } if self.depth == 1 => {
                self.labels
                    .push((address(subquery), "a derived table".to_owned()));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<RouteError> {
        if self.skip_relations > 0 {
            self.skip_relations -= 1;
            return ControlFlow::Continue(());
        }
        if self.depth < 2 {
            // The top-level `FROM`: see `colocate`.
            return ControlFlow::Continue(());
        }
        let parts: Vec<String> = relation
            .0
            .iter()
            .map(|part| match part.as_ident() {
                Some(ident) => ident.value.to_ascii_lowercase(),
                None => part.to_string().to_ascii_lowercase(),
            })
            .collect();
        if parts.len() == 1 && self.ctes.contains(&parts[0]) {
            return ControlFlow::Continue(());
        }
        let (table, current) = (self.table, &self.current);
        let refusal = match self.schema.classify(&parts) {
            TableClass::Configured(info) => match info.placement {
                Placement::Sharded { .. } => Some(format!(
                    "sharded table \"{}\" is read inside {current}, which each shard would \
                     run over its own rows only; only subqueries over reference tables can \
                     be combined across shards",
                    info.name
                )),
                Placement::Reference => None,
            },
            TableClass::Unsharded => Some(format!(
                "cannot read sharded table \"{table}\" across shards together with unsharded \
                 table \"{}\" (in {current}), which lives on shard 0 only",
                parts.join(".")
            )),
            TableClass::Catalog => Some(format!(
                "cannot read sharded table \"{table}\" across shards together with system \
                 catalog \"{}\" (in {current}), whose contents differ between shards",
                parts.join(".")
            )),
        };
        match refusal {
            Some(message) => ControlFlow::Break(RouteError::unsupported(message)),
            None => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<RouteError> {
        match expr {
            Expr::Function(function) if self.depth == 1 && function.over.is_some() => {
                let name = last_part(&function.name).unwrap_or_default();
                ControlFlow::Break(RouteError::unsupported(format_args!(
                    "window function {name}() over sharded table \"{}\" cannot be computed \
                     across shards",
                    self.table
                )))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}
