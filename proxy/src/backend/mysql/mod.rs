//! The MySQL side of the executor: raw MariaDB/MySQL server connections ([`conn`]),
//! whole answers to the proxy's own statements ([`answer`]), per-node pools ([`pool`])
//! and TLS to the server ([`tls`]).

pub mod answer;
pub mod conn;
pub mod pool;
pub mod tls;
