//! The MySQL side of the executor: raw MariaDB/MySQL server connections ([`conn`]),
//! whole answers to the proxy's own statements ([`answer`]) and per-node pools
//! ([`pool`]).

pub mod answer;
pub mod conn;
pub mod pool;
