//! Spread writes: a write, schema change or `COPY … FROM STDIN` that runs on several
//! shards, which the proxy executes inside one distributed transaction (2PC).
//!
//! Reads that need several shards are scattered and merged ([`scatter`](crate::scatter));
//! writes need no merge but must happen on every shard or on none. The router decides
//! whether the single-database effect can be had by running something on each shard
//! ([`SpreadPlan`]): the client's statement unchanged ([`SpreadAction::Same`]), a
//! multi-row `INSERT` split by the shard its rows hash to ([`InsertSplit`]), or the rows
//! of a `COPY` split the same way ([`CopyPlan`], [`CopySplitter`]). What cannot be made
//! exact (a write that reads other shards' rows, a reference table written from data that
//! differs per shard, an `UPDATE` that moves rows between shards) is refused with
//! `0A000`, naming the table and the reason.
//!
//! The steps, one file each: `write` (which writes are spread, from the planner) with
//! `check` (what such a write may read), `insert` (the multi-row `INSERT` split), `ddl`
//! (schema changes and maintenance, and which of them cannot run in a transaction
//! block), `copy_plan` (the `COPY` statement) with `copy_options` and `copy_format`,
//! `copy_split` and `copy_key` (its data), and `place` (which shards, per execution).

mod check;
mod copy_format;
mod copy_key;
mod copy_options;
mod copy_plan;
mod copy_split;
mod ddl;
mod insert;
mod place;
#[cfg(test)]
mod tests;
mod write;

pub use copy_format::CopyFormat;
pub use copy_plan::CopyPlan;
pub use copy_split::CopySplitter;
pub use insert::InsertSplit;

pub(crate) use copy_plan::{plan as copy_statement, query_copy_target};
pub(crate) use ddl::{everywhere as schema_everywhere, schema_target, unparsed_maintenance};
pub(crate) use insert::split_insert_target;
pub(crate) use place::shard_list;
pub(crate) use write::{reference_insert, write_target};

use crate::plan::KeyRoute;

/// A write or schema change that runs on several shards, inside one distributed
/// transaction unless `transactional` is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadPlan {
    /// Which shards: every shard, or those the key values pick (`UPDATE`/`DELETE …
    /// WHERE key IN (…)`, the rows of a multi-row `INSERT`).
    pub shards: SpreadShards,
    /// What each shard runs.
    pub action: SpreadAction,
    /// `false` for statements PostgreSQL refuses inside a transaction block (`VACUUM`,
    /// `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`,
    /// `REINDEX SCHEMA | DATABASE | SYSTEM`, `CLUSTER` without a table, `CREATE` /
    /// `DROP DATABASE`, `… TABLESPACE`, `ALTER SYSTEM`, `… SUBSCRIPTION`): run on each
    /// shard in autocommit, failures reported per shard.
    pub transactional: bool,
    /// How the shards' answers become the client's.
    pub results: SpreadResults,
}

/// Which shards a spread statement runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadShards {
    /// Every shard.
    All,
    /// The shards the key values hash to (a subset; sorted and deduplicated when
    /// placed).
    Key(KeyRoute),
}

/// What each shard of a spread statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpreadAction {
    /// The client's statement, unchanged, on each shard: `UPDATE`/`DELETE` without a
    /// single-shard key; DDL (`CREATE`/`ALTER`/`DROP TABLE`/`INDEX`/`VIEW`/`SEQUENCE`/
    /// `FUNCTION` …, `COMMENT`, `GRANT` …); `TRUNCATE`; `LOCK`; writes to reference
    /// tables; `VACUUM`/`ANALYZE`. See [`SpreadPlan::results`] for the answers.
    Same,
    /// A multi-row `INSERT … VALUES` whose rows go to different shards: each shard runs
    /// the `INSERT` with its own rows ([`InsertSplit::split`]).
    SplitInsert(InsertSplit),
    /// `COPY t (cols) FROM STDIN` into a sharded table: each shard runs the client's
    /// `COPY` statement and receives the data rows whose key hashes to it
    /// ([`CopySplitter`]).
    Copy(CopyPlan),
    /// `COPY t … FROM STDIN` into a reference table: each shard runs the client's `COPY`
    /// statement and receives every byte of the data.
    CopyToAll,
}

/// How the answers of the shards of a spread statement become the client's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpreadResults {
    /// Each shard changed its own rows: row counts of the command tags are summed
    /// (`UPDATE 7`), `RETURNING` rows are concatenated (grouped by shard, not in the
    /// client's order).
    Sum,
    /// Every shard changed the same copy (reference tables, schema objects): the shards'
    /// answers are alike and one of them is the client's (`INSERT 0 1`, not `INSERT 0 4`;
    /// `RETURNING` rows once).
    Copies,
}

impl SpreadPlan {
    /// A plan running the client's statement on every shard.
    pub(crate) fn everywhere(transactional: bool, results: SpreadResults) -> SpreadPlan {
        SpreadPlan {
            shards: SpreadShards::All,
            action: SpreadAction::Same,
            transactional,
            results,
        }
    }
}
