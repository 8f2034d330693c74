//! The MySQL frontend: MySQL/MariaDB clients log in to the proxy (handshake v10,
//! `mysql_native_password` or `caching_sha2_password`) and their commands are routed to
//! MariaDB shards as raw packets.
//!
//! - `startup` — handshake, authentication, choice of the logical database.
//! - `session` — the client's state and the command loop.
//! - `query` — COM_QUERY: routing, what the proxy answers itself, forwarding.
//! - `statements` — server-side prepared statements: client ids mapped to per-connection
//!   server ids, prepared lazily wherever they run.
//! - `forward` — one backend answer to the client, packet by packet, with result-set ends
//!   translated for `CLIENT_DEPRECATE_EOF` clients.
//! - `xa` — explicit transactions: XA branches per shard, commit through the `txn` core.
//! - `backend` — which server connection runs a statement, and settings replay.
//! - `reply` — the packets the proxy makes (OK, ERR, small result sets).
//! - `concern` — write concern: OKs held until replicas replayed the write.
//! - `scatter` — reads across shards: shard SQL on every shard, answers merged.

mod backend;
mod cancel;
mod concern;
mod forward;
mod local;
mod query;
mod reply;
mod scatter;
mod session;
pub mod startup;
mod statements;
mod xa;

pub use session::{refuse_too_many, serve_client};
pub use startup::prepare_rsa_keys;
pub use xa::DECISION_TABLE_DDL;
