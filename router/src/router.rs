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
use crate::error::{sqlstate, RouteError};
use crate::normalize::{normalize_for, Normalized};
use crate::params::NoParams;
use crate::plan::{Placement, Plan, Routed, Scattered, Spread, Target};
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
            schema: schema.for_dialect(dialect),
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
    /// [`Routed::single_shard`] says whether they agree. A single statement that reads
    /// several shards sets [`Routed::scatter`], one that writes several shards
    /// [`Routed::spread`]; in a multi-statement string either is refused (`0A000`).
    /// Fails with the error of a statement that cannot run (see [`Plan::resolve`]).
    pub fn route_simple(&self, sql: &str) -> Result<Routed, RouteError> {
        let normalized = self.normalize(sql);
        let plan = if normalized.is_single_keyword_statement() {
            // `SET x = <value>` and friends: cheap to plan, and their values would fill
            // the cache with one-off texts.
            Arc::new(planner::plan(&self.schema, &normalized, sql, &self.parses))
        } else {
            self.simple_plan(&normalized, sql)
        };
        let mut shards = Vec::with_capacity(plan.statements.len());
        let mut scatter = None;
        let mut spread = None;
        for statement in &plan.statements {
            let list = match statement.place(plan.shard_count, &normalized.literals, &NoParams)? {
                Placement::One(shard) => {
                    shards.push(shard);
                    continue;
                }
                Placement::Many(list) => list,
            };
            if plan.statements.len() > 1 {
                let what = match statement.target {
                    Target::Spread(_) => "writes",
                    _ => "reads",
                };
                return Err(RouteError::unsupported(format_args!(
                    "a statement that {what} several shards must be sent on its own, not in \
                     a query string with other statements"
                )));
            }
            match &statement.target {
                Target::Scatter(plan) => {
                    scatter = Some(Scattered {
                        plan: Arc::clone(plan),
                        shards: list,
                    })
                }
                Target::Spread(plan) => {
                    spread = Some(Spread {
                        plan: Arc::clone(plan),
                        shards: list,
                    })
                }
                _ => {
                    return Err(RouteError::new(
                        sqlstate::INTERNAL_ERROR,
                        "a statement placed on several shards has no scatter or spread plan",
                    ))
                }
            }
            shards.push(None);
        }
        Ok(Routed {
            plan,
            shards,
            scatter,
            spread,
        })
    }

    /// The plan of a normalized text from the simple cache, made and cached on a miss
    /// (unless it only holds for this exact text, see [`Plan::cacheable`]).
    fn simple_plan(&self, normalized: &Normalized<'_>, sql: &str) -> Arc<Plan> {
        if let Some(plan) = self.simple.get(&normalized.text, &[]) {
            return plan;
        }
        let plan = planner::plan(&self.schema, normalized, sql, &self.parses);
        if plan.cacheable() {
            self.simple.insert(&normalized.text, &[], Arc::new(plan))
        } else {
            Arc::new(plan)
        }
    }

    /// Plans an extended-protocol statement (a Parse message's text and declared
    /// parameter type OIDs, 0 = unspecified), cached by both. Literals in the text are
    /// folded into the plan ([`Plan::bind_literals`]), so each Bind resolves with
    /// `plan.resolve(&[], &bind_parameters)`. Fails for several statements in one text
    /// (`42601`, as PostgreSQL) and for invalid shard-key literals (`22P02`); other
    /// refusals stay in the plan, to be reported at Bind/Execute.
    pub fn prepare(&self, sql: &str, param_types: &[u32]) -> Result<Arc<Plan>, RouteError> {
        if let Some(plan) = self.prepared.get(sql, param_types) {
            return Ok(plan);
        }
        let normalized = self.normalize(sql);
        if normalized.statements.len() > 1 {
            return Err(RouteError::syntax(
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let plan = if normalized.is_single_keyword_statement() {
            Arc::new(planner::plan(&self.schema, &normalized, sql, &self.parses))
        } else {
            self.simple_plan(&normalized, sql)
        };
        let plan = if normalized.literals.is_empty() {
            plan
        } else {
            Arc::new(plan.bind_literals(&normalized.literals)?)
        };
        Ok(self.prepared.insert(sql, param_types, plan))
    }

    /// The dialect this router reads.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Normalizes `sql` by this router's dialect: the literals a plan of
    /// [`Router::route_simple`] refers to ([`KeySource::Literal`](crate::KeySource),
    /// [`SqlTemplate::render`](crate::SqlTemplate::render),
    /// [`InsertSplit::split`](crate::InsertSplit::split)) are this text's.
    pub fn normalize<'a>(&self, sql: &'a str) -> Normalized<'a> {
        normalize_for(sql, self.dialect)
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
