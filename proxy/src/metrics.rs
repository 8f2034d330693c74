//! Prometheus metrics (DESIGN §8 names, prefix `shardwire_`), served with `/health` on
//! `admin_listen` by `admin_http`. Histograms get explicit buckets so they export as
//! histograms, not summaries. The recorder is process-global: the first proxy started in a
//! process installs it.

use std::net::SocketAddr;
use std::sync::OnceLock;

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use shardwire_conf::ReadConsistency;
use shardwire_router::StatementKind;

/// Reads by consistency level and where they were served.
pub const CONSISTENCY_READS: &str = "shardwire_consistency_reads_total";
/// Reads that fell back to the primary, by level and reason.
pub const CONSISTENCY_FALLBACKS: &str = "shardwire_consistency_fallbacks_total";
/// Time `session` reads waited for a replica to catch up.
pub const CONSISTENCY_WAIT: &str = "shardwire_consistency_wait_seconds";
/// Reads served below the session's required position (a self-check; must stay 0).
pub const CONSISTENCY_VIOLATIONS: &str = "shardwire_consistency_violations_total";
/// Replica lag in WAL bytes.
pub const REPLICA_LAG_BYTES: &str = "shardwire_replica_lag_bytes";
/// Replica staleness in seconds.
pub const REPLICA_STALENESS: &str = "shardwire_replica_staleness_seconds";
/// 1 when a node answers the monitor, else 0.
pub const BACKEND_UP: &str = "shardwire_backend_up";
/// Transactions ended by the coordinator, by outcome and kind (single | 2pc).
pub const TRANSACTIONS: &str = "shardwire_transactions_total";
/// Prepared 2PC transactions resolved by recovery, by action (commit | rollback).
pub const TWOPC_RECOVERED: &str = "shardwire_twopc_recovered_total";
/// Prepared `sw_` transactions the last recovery pass saw and left unresolved.
pub const TWOPC_IN_DOUBT: &str = "shardwire_twopc_in_doubt";
/// Writes and schema changes that ran on several shards.
pub const SPREAD_WRITES: &str = "shardwire_spread_writes_total";
/// Reads that ran on several shards and were merged by the proxy.
pub const SCATTER_READS: &str = "shardwire_scatter_reads_total";
/// How many shards each scattered read ran on.
pub const SCATTER_SHARDS: &str = "shardwire_scatter_shards";

/// Statements sent to a backend node, by database, shard, role (`primary` | `replica`)
/// and kind (`read` | `write` | `ddl` | `other`).
pub const QUERIES: &str = "shardwire_queries_total";
/// Time from a client's request to the proxy's last answer byte, by database.
pub const QUERY_DURATION: &str = "shardwire_query_duration_seconds";
/// Server connections per node, by state (`active` = checked out, `idle`).
pub const POOL_CONNECTIONS: &str = "shardwire_pool_connections";

/// Client connections open, by frontend (`protocol` = `postgres` | `mysql`).
pub const CLIENTS_CONNECTED: &str = "shardwire_clients_connected";
/// Failures to reach or keep a backend connection, by node and kind
/// (`timeout` | `reset` | `refused` | `other`).
pub const BACKEND_ERRORS: &str = "shardwire_backend_errors_total";

/// Counts one open client connection until dropped.
pub struct ClientGauge(&'static str);

impl ClientGauge {
    /// A client of the `protocol` frontend connected.
    pub fn connected(protocol: &'static str) -> ClientGauge {
        metrics::gauge!(CLIENTS_CONNECTED, "protocol" => protocol).increment(1.0);
        ClientGauge(protocol)
    }
}

impl Drop for ClientGauge {
    fn drop(&mut self) {
        metrics::gauge!(CLIENTS_CONNECTED, "protocol" => self.0).decrement(1.0);
    }
}

/// The kind of a backend failure, from its I/O error.
pub fn backend_error_kind(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => "refused",
        ErrorKind::TimedOut => "timeout",
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof
        | ErrorKind::NotConnected => "reset",
        _ => "other",
    }
}

/// Shows a node's failure counters at 0 from the start, so alerts and dashboards see a
/// series before the first failure.
pub fn backend_errors_at_zero(node: &str) {
    // "tls": a backend_tls handshake or certificate check failed (e.g. an expired
    // certificate), worth its own alert.
    for kind in ["timeout", "reset", "refused", "tls", "other"] {
        metrics::counter!(BACKEND_ERRORS, "node" => node.to_string(), "kind" => kind).increment(0);
    }
}

/// Counts one backend failure (the error path only: a labelled lookup is fine there).
pub fn backend_error(node: &str, kind: &'static str) {
    metrics::counter!(BACKEND_ERRORS, "node" => node.to_string(), "kind" => kind).increment(1);
}

/// Installs the recorder and the admin HTTP listener (`/metrics`, `/health`) once per
/// process; later calls do nothing. Must run inside a tokio runtime.
pub fn install(admin_listen: SocketAddr) -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let bind_err = |e: std::io::Error| {
                format!("proxy.admin_listen: cannot listen on {admin_listen}: {e}")
            };
            let listener = std::net::TcpListener::bind(admin_listen).map_err(bind_err)?;
            listener.set_nonblocking(true).map_err(bind_err)?;
            let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_err)?;
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".to_string()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
                    ],
                )
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            tokio::spawn(crate::admin_http::serve(listener, handle));
            // The self-check exists from the start, at zero.
            metrics::counter!(CONSISTENCY_VIOLATIONS).absolute(0);
            Ok(())
        })
        .clone()
}

/// Handles for the metrics counted on every routed read, registered once so the per-query
/// cost is an atomic add, not a labelled registry lookup.
pub struct ConsistencyCounters {
    /// `[level][served_by replica?]`.
    reads: Vec<[Counter; 2]>,
    /// `consistency_wait_seconds`.
    pub wait: Histogram,
}

impl ConsistencyCounters {
    /// Counts one read at `level`, served by a replica or the primary.
    pub fn read(&self, level: ReadConsistency, by_replica: bool) {
        let i = ReadConsistency::ALL
            .iter()
            .position(|l| *l == level)
            .unwrap_or(0);
        self.reads[i][usize::from(by_replica)].increment(1);
    }
}

/// The process-wide read counters (created on first use, after [`install`]).
pub fn consistency_counters() -> &'static ConsistencyCounters {
    static COUNTERS: OnceLock<ConsistencyCounters> = OnceLock::new();
    COUNTERS.get_or_init(|| ConsistencyCounters {
        reads: ReadConsistency::ALL
            .iter()
            .map(|level| {
                let level = level.as_str();
                [
                    metrics::counter!(CONSISTENCY_READS, "level" => level, "served_by" => "primary"),
                    metrics::counter!(CONSISTENCY_READS, "level" => level, "served_by" => "replica"),
                ]
            })
            .collect(),
        wait: metrics::histogram!(CONSISTENCY_WAIT),
    })
}

/// Counts one scattered read over `shards` shards.
pub fn scatter_read(shards: usize) {
    metrics::counter!(SCATTER_READS).increment(1);
    metrics::histogram!(SCATTER_SHARDS).record(shards as f64);
}

/// Counts one transaction ended by the coordinator.
pub fn transaction(outcome: &'static str, kind: &'static str) {
    metrics::counter!(TRANSACTIONS, "outcome" => outcome, "kind" => kind).increment(1);
}

/// Counts one write run on `shards` shards.
pub fn spread_write(shards: usize) {
    metrics::counter!(SPREAD_WRITES).increment(1);
    metrics::histogram!(SCATTER_SHARDS, "kind" => "write").record(shards as f64);
}

/// A statement's kind as `queries_total` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// Reads.
    Read = 0,
    /// Data changes.
    Write = 1,
    /// Schema changes.
    Ddl = 2,
    /// Transaction control, settings and utility commands.
    Other = 3,
}

impl QueryKind {
    const LABELS: [&'static str; 4] = ["read", "write", "ddl", "other"];

    /// The label of a planned statement.
    pub fn of(kind: &StatementKind) -> QueryKind {
        match kind {
            StatementKind::Read => QueryKind::Read,
            StatementKind::Write => QueryKind::Write,
            StatementKind::Ddl => QueryKind::Ddl,
            _ => QueryKind::Other,
        }
    }
}

/// One node's `queries_total` counters, registered when its pool is made so counting a
/// statement is an atomic add.
#[derive(Clone)]
pub struct QueryCounters {
    by_kind: [Counter; 4],
}

impl QueryCounters {
    /// The counters of the node of `database`, shard `shard`, in `role` (`primary`,
    /// `replica0` … — replicas share the label `replica`).
    pub fn new(database: &str, shard: usize, role: &str) -> QueryCounters {
        let role = if role == "primary" {
            "primary"
        } else {
            "replica"
        };
        let counter = |kind: &'static str| {
            metrics::counter!(
                QUERIES,
                "database" => database.to_string(),
                "shard" => shard.to_string(),
                "role" => role,
                "kind" => kind
            )
        };
        QueryCounters {
            by_kind: QueryKind::LABELS.map(counter),
        }
    }

    /// Counts one statement sent to the node.
    pub fn count(&self, kind: QueryKind) {
        self.by_kind[kind as usize].increment(1);
    }

    /// Counts statements by kind (indexed by `QueryKind as usize`).
    pub fn add(&self, per_kind: &[u64; 4]) {
        for (counter, &n) in self.by_kind.iter().zip(per_kind) {
            if n > 0 {
                counter.increment(n);
            }
        }
    }
}

impl std::fmt::Debug for QueryCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueryCounters")
    }
}

/// The `query_duration_seconds` histogram of one logical database.
pub fn query_duration(database: &str) -> Histogram {
    metrics::histogram!(QUERY_DURATION, "database" => database.to_string())
}

/// Marks a node removed by a reload: its gauges become NaN, which no alert threshold
/// matches and dashboards show as a gap (the exporter cannot delete a series).
pub fn node_removed(node: &str) {
    for name in [BACKEND_UP, REPLICA_LAG_BYTES, REPLICA_STALENESS] {
        metrics::gauge!(name, "node" => node.to_string()).set(f64::NAN);
    }
    pool_connections_nan(node);
}

fn pool_connections_nan(node: &str) {
    for state in ["active", "idle"] {
        metrics::gauge!(POOL_CONNECTIONS, "node" => node.to_string(), "state" => state)
            .set(f64::NAN);
    }
}

/// Publishes a node's pool occupancy (called when `/metrics` is rendered, so the data
/// path never touches these gauges).
pub fn pool_connections(node: &str, active: u32, idle: u32) {
    metrics::gauge!(POOL_CONNECTIONS, "node" => node.to_string(), "state" => "active")
        .set(f64::from(active));
    metrics::gauge!(POOL_CONNECTIONS, "node" => node.to_string(), "state" => "idle")
        .set(f64::from(idle));
}
