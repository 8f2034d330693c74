//! The [`Router`]: one per logical database, shared by all its sessions.
//!
//! It owns the [`Schema`] and two plan caches — normalized simple-protocol texts, and
//! prepared statements by exact text and parameter types — and is all the proxy calls:
//! [`Router::route_simple`] for a Query message, [`Router::prepare`] for a Parse (then
//! [`Plan::resolve`] at each Bind). Pure: no I/O, no async; `Send + Sync`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cache::{CacheStats, PlanCache};
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::normalize::normalize;
use crate::params::NoParams;
use crate::plan::{Plan, Routed};
use crate::planner;
use crate::schema::Schema;

/// Default number of plans each cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Routes the statements of one logical database.
#[derive(Debug)]
pub struct Router {
    schema: Schema,
    dialect: Dialect,
    simple: PlanCache,
    prepared: PlanCache,
    parses: AtomicU64,
}

/// Counters of a router's caches, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// The cache of normalized simple-protocol statements.
    pub simple: CacheStats,
    /// The cache of prepared statements.
    pub prepared: CacheStats,
    /// How many times sqlparser ran (cache misses that were not fast-pathed).
    pub parses: u64,
}

impl Router {
    /// A router for `schema` reading `dialect`, with caches of
    /// [`DEFAULT_CACHE_CAPACITY`] plans.
    pub fn new(schema: Schema, dialect: Dialect) -> Router {
        Router::with_cache_capacity(schema, dialect, DEFAULT_CACHE_CAPACITY)
    }

    /// A router whose caches hold about `capacity` plans each.
    pub fn with_cache_capacity(schema: Schema, dialect: Dialect, capacity: usize) -> Router {
        Router {
            schema,
            dialect,
            simple: PlanCache::new(capacity),
            prepared: PlanCache::new(capacity),
            parses: AtomicU64::new(0),
        }
    }

    /// The table layout this router routes by.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Routes a simple-protocol query string: normalizes it (literals out), finds or
    /// makes the plan for the normalized text, and resolves it with the literals. A
    /// multi-statement string gives one plan entry and one shard per statement;
    /// [`Routed::single_shard`] says whether they agree. Fails with the error of a
    /// statement that cannot run (see [`Plan::resolve`]).
    pub fn route_simple(&self, sql: &str) -> Result<Routed, RouteError> {
        self.dialect.check_supported()?;
        let normalized = normalize(sql);
        let plan = if normalized.is_single_keyword_statement() {
            // `SET x = <value>` and friends: cheap to plan, and their values would fill
            // the cache with one-off texts.
            Arc::new(planner::plan(&self.schema, &normalized, sql, &self.parses))
        } else {
            match self.simple.get(&normalized.text, &[]) {
                Some(plan) => plan,
                None => {
                    let plan = planner::plan(&self.schema, &normalized, sql, &self.parses);
                    self.simple.insert(&normalized.text, &[], Arc::new(plan))
                }
            }
        };
        let shards = plan.resolve(&normalized.literals, &NoParams)?;
        Ok(Routed { plan, shards })
    }

    /// Plans an extended-protocol statement (a Parse message's text and declared
    /// parameter type OIDs, 0 = unspecified), cached by both. Literals in the text are
    /// folded into the plan ([`Plan::bind_literals`]), so each Bind resolves with
    /// `plan.resolve(&[], &bind_parameters)`. Fails for several statements in one text
    /// (`42601`, as PostgreSQL) and for invalid shard-key literals (`22P02`); other
    /// refusals stay in the plan, to be reported at Bind/Execute.
    pub fn prepare(&self, sql: &str, param_types: &[u32]) -> Result<Arc<Plan>, RouteError> {
        self.dialect.check_supported()?;
        if let Some(plan) = self.prepared.get(sql, param_types) {
            return Ok(plan);
        }
        let normalized = normalize(sql);
        if normalized.statements.len() > 1 {
            return Err(RouteError::syntax(
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let plan = if normalized.is_single_keyword_statement() {
            Arc::new(planner::plan(&self.schema, &normalized, sql, &self.parses))
        } else {
            match self.simple.get(&normalized.text, &[]) {
                Some(plan) => plan,
                None => {
                    let plan = planner::plan(&self.schema, &normalized, sql, &self.parses);
                    self.simple.insert(&normalized.text, &[], Arc::new(plan))
                }
            }
        };
        let plan = if normalized.literals.is_empty() {
            plan
        } else {
            Arc::new(plan.bind_literals(&normalized.literals)?)
        };
        Ok(self.prepared.insert(sql, param_types, plan))
    }

    /// Cache and parser counters.
    pub fn stats(&self) -> RouterStats {
        RouterStats {
            simple: self.simple.stats(),
            prepared: self.prepared.stats(),
            parses: self.parses.load(Ordering::Relaxed),
        }
    }
}
