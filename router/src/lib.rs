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
//! - plans are cached by normalized text and by prepared-statement text (`cache`), and
//!   resolved per execution from literals or Bind parameters into shard numbers
//!   (`resolve`, `value`, `params`, `array`) with [`hash`], the sharding function
//!   (DESIGN §5).
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
mod schema;
mod set;
mod value;

pub use cache::CacheStats;
pub use command::{
    is_shardwire_name, DiscardKind, SetCommand, StatementKind, TxnCommand, SHARDWIRE_PREFIX,
};
pub use dialect::Dialect;
pub use error::{sqlstate, RouteError};
pub use literal::{Literal, LiteralKind};
pub use normalize::{normalize, Normalized};
pub use params::{oid, NoParams, ParamSource, ParamValue};
pub use plan::{KeyRoute, KeySource, Plan, Routed, StatementPlan, Target};
pub use router::{Router, RouterStats, DEFAULT_CACHE_CAPACITY};
pub use schema::{Placement, Schema};
pub use shardwire_conf::KeyType;
