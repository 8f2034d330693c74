//! The pure core of replica reads with per-session consistency (DESIGN §6). Everything here
//! is deterministic data and arithmetic — no I/O, no clock reads, no async — so the rules
//! that decide where a read goes can be tested with tables of simulated positions.
//!
//! - [`lsn`]: PostgreSQL WAL positions, parsed from and printed as `16/B374D848`.
//! - [`gtid`]: MariaDB GTID positions (single replication domain) as the same ordered
//!   positions.
//! - [`history`]: a bounded history of a primary's WAL positions over time, which turns a
//!   replica's replay position into its staleness.
//! - [`view`]: the per-shard snapshot the replica monitor publishes and the policy reads.
//! - [`policy`]: given a consistency level and a view, which node serves a read.
//! - [`token`]: a session's causal position per shard, kept while the session lives (the
//!   positions a replica must have replayed) and exchanged as an opaque, validated
//!   `shardwire.session_token` string.
//!
//! The monitor (I/O) feeds [`PositionHistory`] and publishes [`ShardView`]s; the session
//! keeps a [`SessionToken`] and asks [`choose`] for each read.

pub mod gtid;
pub mod history;
pub mod lsn;
pub mod policy;
pub mod token;
pub mod view;

pub use gtid::gtid_position;
pub use history::PositionHistory;
pub use lsn::{Lsn, LsnParseError};
pub use policy::{choose, choose_after_wait, Choice, FallbackReason};
pub use token::{SessionToken, TokenError};
pub use view::{NodeState, ShardView};
