//! Scattered reads: a `SELECT` on sharded tables that no single shard can answer runs on
//! every shard concerned, and the proxy merges the answers (DESIGN §1, "fan out +
//! streaming merge").
//!
//! The analysis decides whether the single-database answer can be rebuilt from per-shard
//! answers (co-located joins, reference tables, supported aggregates …), rewrites the
//! statement each shard runs, and describes the merge as data ([`MergeSpec`]). Anything it
//! cannot rebuild exactly is refused with `0A000` naming the table and the reason.
//!
//! The steps, one file each: `target` (which reads are scattered, from the planner),
//! `analyze` (the shape, then the mode), `nested` (subqueries, CTEs, window functions),
//! `colocate` (joins) and `scope` (shard keys, key pinning), `limit`, `order`,
//! `streamed` and `grouped` (the two merge modes, with `aggregate` and `having`),
//! `template` (the shard SQL as text with literal holes) and `bind` (placement and
//! prepared statements).

mod aggregate;
mod analyze;
mod bind;
mod colocate;
mod grouped;
mod having;
mod limit;
mod nested;
mod order;
mod scope;
mod spec;
mod streamed;
mod target;
mod template;
#[cfg(test)]
mod tests;
mod values;

pub use spec::{
    ColumnRole, CompareOp, Condition, MergeSpec, Operand, Output, OutputRef, SortKey, ValueRef,
};
pub use template::SqlTemplate;

pub(crate) use colocate::scope_of;
pub(crate) use target::read_target;

use crate::plan::KeyRoute;

/// How to run one scattered `SELECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScatterPlan {
    /// The statement every shard runs.
    pub shard_sql: SqlTemplate,
    /// The shards the statement's shard-key conditions pin (`key IN (…)`, `= ANY(…)`);
    /// `None` for every shard.
    pub key: Option<KeyRoute>,
    /// How the shards' rows become the client's.
    pub merge: MergeSpec,
}
