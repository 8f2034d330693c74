//! Transactions across shards (DESIGN §7): the coordinator's pure core.
//!
//! A session's transaction enlists shards lazily; at COMMIT, one written shard commits
//! in one phase, several go through two-phase commit whose decision is a row written in
//! a designated participant's own transaction, so the decision is durable exactly when
//! that participant commits (the commit point) and any proxy instance can read it.
//! Recovery lists prepared `sw_` transactions and resolves them from the decision rows.
//!
//! No I/O here: [`gid`] names transactions, [`commit`] drives participants through a
//! trait the frontends implement, [`recovery`] decides what to do with prepared leftovers.

pub mod commit;
pub mod gid;
pub mod recovery;

pub use gid::{Gid, TxnId};
