//! The router: the pure core of shardwire's pipeline (DESIGN §1) that turns SQL into plans.
//!
//! Given SQL text, parameters and the schema configuration, the router decides which
//! shards a statement touches and returns that decision as a plain value ([`Plan`]). It
//! does no I/O, so it is unit-tested and fuzzed without sockets; the proxy executes what
//! it returns.
//!
//! The steps, each in its own module:
//! - [`normalize`](normalize()): a hand-written lexer replaces literals with placeholders,
//!   so that one cached plan serves a statement shape (`lexer`, `normalize`, `literal`);
//! - the keyword fast path classifies transaction control, `SET`, `SHOW` … without a
//!   parser (`keyword`, `set`), and plain `INSERT … VALUES` skips it too
//!   (`fast_insert`);
//! - everything else is parsed by sqlparser and classified (`classify`); a walk over the
//!   tree finds tables and shard-key conditions (`scan`, `key`); rules turn those into a
//!   [`Target`] (`route`); all of it per statement (`planner`);
//! - a read that no single shard can answer goes through the [`scatter`] analysis: if the
//!   per-shard answers can be combined into the single-database one (co-located joins,
//!   reference tables, `count`/`sum`/`min`/`max`/`avg`, `ORDER BY`, `LIMIT` …) it becomes
//!   a [`ScatterPlan`] — the rewritten SQL each shard runs ([`SqlTemplate`]) and a
//!   [`MergeSpec`] for the proxy — else it is refused with `0A000` naming the table and
//!   the reason;
//! - a write or schema change that needs several shards goes through the [`spread`]
//!   analysis: if running something on each shard inside one distributed transaction
//!   gives the single-database effect (the statement unchanged, a multi-row `INSERT`
//!   split by shard, `COPY` rows split by shard) it becomes a [`SpreadPlan`], else it is
//!   refused with `0A000`;
//! - plans are cached by normalized text and by prepared-statement text (`cache`), and
//!   resolved per execution from literals or Bind parameters into shard numbers
//!   (`resolve`, `value`, `params`, `array`) with [`hash`], the sharding function
//!   (DESIGN §5); a scattered read or spread write resolves to the set of shards it
//!   runs on ([`Placement`]).
//!
//! The same steps read MySQL text when the router is made for [`Dialect::MySql`]: a lexer
//! with MySQL's rules (`lexer_mysql`), MySQL's keyword fast path (`keyword_mysql`,
//! `set_mysql`) and sqlparser's MySQL dialect (`sql_dialect`); `?` parameters are
//! numbered like PostgreSQL's `$n`, so plans, parameters and resolution are shared.
//!
//! Entry point: [`Router`].

pub mod hash;

mod array;
mod cache;
mod classify;
mod command;
mod dialect;
mod error;
mod fast_insert;
mod key;
mod keyword;
mod keyword_mysql;
mod lexer;
mod literal;
mod normalize;
mod params;
mod plan;
mod planner;
mod resolve;
mod route;
mod router;
mod scan;
pub mod scatter;
mod schema;
mod set;
mod set_mysql;
pub mod spread;
mod sql_dialect;
mod value;

pub use cache::CacheStats;
pub use command::{
    is_shardwire_name, DiscardKind, SetCommand, StatementKind, TxnCommand, SHARDWIRE_PREFIX,
};
pub use dialect::Dialect;
pub use error::{sqlstate, RouteError};
pub use literal::{Literal, LiteralKind};
pub use normalize::{normalize, normalize_for, Normalized};
pub use params::{oid, NoParams, ParamSource, ParamValue};
pub use plan::{
    KeyRoute, KeySource, Placement, Plan, Routed, Scattered, Spread, StatementPlan, Target,
};
pub use router::{Router, RouterStats, DEFAULT_CACHE_CAPACITY};
pub use scatter::{
    ColumnRole, CompareOp, Condition, MergeSpec, Operand, Output, OutputRef, ScatterPlan, SortKey,
    SqlTemplate, ValueRef,
};
pub use schema::{Placement as TablePlacement, Schema};
pub use shardwire_conf::KeyType;
pub use spread::{
    CopyFormat, CopyPlan, CopySplitter, InsertSplit, SpreadAction, SpreadPlan, SpreadResults,
    SpreadShards,
};
