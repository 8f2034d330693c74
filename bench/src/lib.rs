//! shardwire-bench: the load generator of the shardwire project (DESIGN §9).
//!
//! It sits outside the proxy's pipeline, as a client: it opens `--clients` connections
//! to a `postgres://` or `mysql://` target (the proxy, or a database directly, to
//! compare), runs one of the workloads in a closed or open loop, and reports throughput,
//! latency percentiles from HdrHistograms, errors by code and a per-second timeline, as
//! text, JSON and an HTML page with SVG charts. Workloads that move money (`transfer`,
//! `read-write`, `tpcb`) check afterwards that none was created or lost — across
//! shards, that is a check of the proxy's two-phase commit.
//!
//! The way through: `cli` (arguments → `Settings`) → `app` (setup, rounds, reports) →
//! `runner` (client tasks; `schedule` and `pacer` for the open loop) → `workload` (one transaction,
//! over `client`) → `stats` → `report`.

pub mod app;
pub mod cli;
pub mod client;
pub mod compare;
pub mod duration;
pub mod error;
pub mod pacer;
pub mod progress;
pub mod report;
pub mod runner;
pub mod schedule;
pub mod stats;
pub mod target;
pub mod workload;
