//! The router: the pure core of shardwire's pipeline (DESIGN §1) that turns SQL into plans.
//!
//! Given SQL text, parameters and the schema configuration, the router decides which
//! shards a statement touches, in which role (primary or replica) and with which rewrites
//! and merge, and returns that decision as a plain value. It does no I/O, so it is
//! unit-tested and fuzzed without sockets; the proxy executes what it returns.
//!
//! Modules:
//! - [`hash`]: the sharding function (DESIGN §5), PostgreSQL's hash partitioning
//!   reproduced bit for bit, so that a key's shard is the `REMAINDER` of the PostgreSQL
//!   hash partition that would hold it.

pub mod hash;
