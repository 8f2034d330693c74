//! What a spread write may read: each shard runs the statement over its own data, so
//! everything the statement reads must either be the same on every shard or belong to
//! the rows being written on that shard.
//!
//! A write to a sharded table may read its own `FROM` (co-located, see `write`) and
//! reference tables anywhere; a sharded table inside a subquery or CTE would be read
//! over one shard's rows only, an unsharded table exists on shard 0 only, and a system
//! catalog differs between shards. A write to a reference table must leave every copy
//! alike, so it may read reference tables only and may not call functions whose value
//! differs between shards (`now()`, `random()`, `nextval(…)` …).

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Query, Statement, TableFactor, Visit, Visitor};

use crate::error::RouteError;
use crate::key::last_part;
use crate::schema::{Placement, Schema, TableClass};

/// Functions whose value differs between shards (time of each shard's transaction,
/// randomness, per-server sequences and identities).
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "random_normal",
    "setseed",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "currval",
    "lastval",
    "setval",
    "now",
    "current_timestamp",
    "current_time",
    "current_date",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "clock_timestamp",
    "timeofday",
    "txid_current",
    "pg_current_xact_id",
    "pg_backend_pid",
    "current_database",
    "inet_server_addr",
    "inet_server_port",
];

/// What kind of spread write is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A write to a sharded table: its own `FROM` is checked by `colocate`.
    Sharded,
    /// A write to a reference table.
    Reference,
}

/// Checks what a write of sharded table `table` that runs on several shards reads.
pub(crate) fn sharded_write(
    schema: &Schema,
    statement: &Statement,
    verb: &str,
    table: &str,
) -> Result<(), RouteError> {
    let lead = format!("{verb} on sharded table \"{table}\" runs on several shards, so it");
    run(schema, statement, Mode::Sharded, lead)
}

/// Checks what a write of reference table `table` (run on every shard) reads and calls.
pub(crate) fn reference_write(
    schema: &Schema,
    statement: &Statement,
    verb: &str,
    table: &str,
) -> Result<(), RouteError> {
    let lead = format!(
        "{verb} writes reference table \"{table}\", whose copy on every shard must stay \
         alike, so it"
    );
    run(schema, statement, Mode::Reference, lead)
}

fn run(schema: &Schema, statement: &Statement, mode: Mode, lead: String) -> Result<(), RouteError> {
    let mut check = Check {
        schema,
        mode,
        lead,
        depth: 0,
        ctes: Vec::new(),
        skip_relations: 0,
    };
    match statement.visit(&mut check) {
        ControlFlow::Break(err) => Err(err),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Check<'a> {
    schema: &'a Schema,
    mode: Mode,
    /// The start of every refusal: the statement, its table and why it matters.
    lead: String,
    /// Nesting of queries: 0 is the write itself, 1 a subquery, a CTE or `VALUES`.
    depth: usize,
    ctes: Vec<String>,
    skip_relations: usize,
}

impl Check<'_> {
    fn refuse(&self, what: std::fmt::Arguments<'_>) -> ControlFlow<RouteError> {
        ControlFlow::Break(RouteError::unsupported(format_args!(
            "{} cannot {what}",
            self.lead
        )))
    }
}

impl Visitor for Check<'_> {
    type Break = RouteError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<RouteError> {
        self.depth += 1;
        if let Some(with) = &query.with {
            self.ctes.extend(
                with.cte_tables
                    .iter()
                    .map(|cte| cte.alias.name.value.to_ascii_lowercase()),
            );
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<RouteError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<RouteError> {
        // `FROM generate_series(1, 3)` parses as a table with arguments: a function.
        if let TableFactor::Table { args: Some(_), .. } = factor {
            self.skip_relations += 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<RouteError> {
        if self.skip_relations > 0 {
            self.skip_relations -= 1;
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
        match self.schema.classify(&parts) {
            TableClass::Configured(info) => match (&info.placement, self.mode) {
                (Placement::Reference, _) => ControlFlow::Continue(()),
                (Placement::Sharded { .. }, Mode::Sharded) if self.depth == 0 => {
                    ControlFlow::Continue(())
                }
                (Placement::Sharded { .. }, Mode::Sharded) => self.refuse(format_args!(
                    "read sharded table \"{}\" inside a subquery, which each shard would run \
                     over its own rows only",
                    info.name
                )),
                (Placement::Sharded { .. }, Mode::Reference) => self.refuse(format_args!(
                    "read sharded table \"{}\", whose rows differ between shards",
                    info.name
                )),
            },
            TableClass::Unsharded => self.refuse(format_args!(
                "read unsharded table \"{}\", which lives on shard 0 only",
                parts.join(".")
            )),
            TableClass::Catalog => self.refuse(format_args!(
                "read system catalog \"{}\", whose contents differ between shards",
                parts.join(".")
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<RouteError> {
        if self.mode != Mode::Reference {
            return ControlFlow::Continue(());
        }
        if let Expr::Function(function) = expr {
            let name = last_part(&function.name).unwrap_or_default();
            if VOLATILE_FUNCTIONS.contains(&name.as_str()) {
                return self.refuse(format_args!(
                    "call {name}(), whose value differs between shards"
                ));
            }
        }
        ControlFlow::Continue(())
    }
}
