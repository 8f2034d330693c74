//! Recovery of two-phase commits (DESIGN §7), the I/O half: at start and every
//! `recovery_interval`, per database with several shards (PostgreSQL in `pass`, MySQL
//! XA in `xa`), look at every shard
//! primary and resolve the prepared `sw_` transactions coordinators left behind —
//! commit those whose decision row exists, roll back those without one once older than
//! `twopc_grace` — then delete decision rows nobody needs any more. What to do is decided
//! by `shardwire_txn::recovery::plan`; this module only observes, in the order that plan's
//! safety argument needs (old decision rows, then prepared transactions, then decision
//! lookups), and applies.
//!
//! Any proxy instance may run it at any time, concurrently with coordinators and other
//! proxies: a transaction someone else resolved first is simply gone. Control plane, so
//! tokio-postgres on connections of its own, opened per pass.

mod pass;
mod primary;
mod xa;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::backend::pg::NodeInfo;
use crate::cluster::{Cluster, DatabaseRuntime};

pub(crate) use primary::control_client;
pub use primary::DECISION_TABLE_DDL;
pub(crate) use xa::ensure_decision_tables;

/// A prepared transaction the last pass saw and did not resolve; the rows of the admin
/// statement `SHOW shardwire.transactions` (see [`in_doubt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InDoubt {
    /// The logical database.
    pub database: String,
    /// The shard where it is prepared.
    pub shard: u32,
    /// That shard's primary, e.g. `app/shard1/primary`.
    pub node: String,
    /// Its GID.
    pub gid: String,
    /// How long it had been prepared when the pass looked.
    pub age: Duration,
    /// Why it is left: the recovery rule's reason, or the error of a failed attempt.
    pub state: String,
}

/// What one pass did, over all databases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Prepared transactions committed.
    pub committed: usize,
    /// Prepared transactions rolled back.
    pub rolled_back: usize,
    /// Prepared `sw_` transactions seen and left unresolved.
    pub in_doubt: usize,
    /// Decision rows deleted.
    pub decisions_deleted: u64,
}

/// A pass that could not look everywhere: what it did anyway, and what it could not reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recovery pass incomplete: {}", problems.join("; "))]
pub struct Incomplete {
    /// What the pass did.
    pub summary: Summary,
    /// One line per primary not reached or database not looked at.
    pub problems: Vec<String>,
}

/// The last pass's unresolved transactions per database.
static LAST_PASS: RwLock<BTreeMap<String, Vec<InDoubt>>> = RwLock::new(BTreeMap::new());

/// The prepared `sw_` transactions the last recovery pass left unresolved, by database,
/// shard and GID: in the grace period, waiting for their decision participant, or in doubt
/// because the decision shard did not answer. Process-wide (every proxy started in this
/// process publishes here, by database name). For `SHOW shardwire.transactions`.
pub fn in_doubt() -> Vec<InDoubt> {
    let last = LAST_PASS.read().unwrap_or_else(|e| e.into_inner());
    last.values().flatten().cloned().collect()
}

/// The columns of `SHOW shardwire.transactions`: in-doubt two-phase-commit participants as
/// the last recovery pass saw them.
pub const TRANSACTION_COLUMNS: [&str; 5] = ["gid", "shard", "node", "age", "state"];

/// The rows of `SHOW shardwire.transactions` for `database`, in [`TRANSACTION_COLUMNS`]
/// order, as text.
pub fn in_doubt_rows(database: &str) -> Vec<Vec<Option<String>>> {
    in_doubt()
        .into_iter()
        .filter(|t| t.database == database)
        .map(|t| {
            vec![
                Some(t.gid),
                Some(t.shard.to_string()),
                Some(t.node),
                Some(format!("{:.1}s", t.age.as_secs_f64())),
                Some(t.state),
            ]
        })
        .collect()
}

/// Runs [`recover_once`] now and then every `recovery_interval` of the current config,
/// forever.
pub async fn run(live: Arc<crate::live::LiveCluster>) {
    for action in ["commit", "rollback"] {
        metrics::counter!(crate::metrics::TWOPC_RECOVERED, "action" => action).increment(0);
    }
    metrics::gauge!(crate::metrics::TWOPC_IN_DOUBT).set(0.0);
    let mut last_problems = Vec::new();
    loop {
        // The current cluster each pass: a reload's new nodes and intervals apply.
        let cluster = live.load();
        let problems = match recover_once(&cluster, cluster.config.proxy.twopc_grace).await {
            Ok(_) => Vec::new(),
            Err(incomplete) => incomplete.problems,
        };
        if problems != last_problems {
            if problems.is_empty() {
                tracing::info!("2PC recovery reaches every primary again");
            } else {
                tracing::warn!(problems = %problems.join("; "), "2PC recovery pass incomplete");
            }
        }
        last_problems = problems;
        let interval = cluster.config.proxy.recovery_interval;
        drop(cluster);
        tokio::time::sleep(interval).await;
    }
}

/// One recovery pass over every PostgreSQL database with several shards. `Err` when some
/// primary could not be reached (what could be resolved safely was; decision rows were not
/// collected in that database).
pub async fn recover_once(cluster: &Cluster, grace: Duration) -> Result<Summary, Incomplete> {
    let timeout = (grace / 2).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let mut summary = Summary::default();
    let mut problems = Vec::new();
    let databases: Vec<&Arc<DatabaseRuntime>> = cluster
        .databases()
        .filter(|db| db.shards.len() > 1)
        .collect();
    let shared = shared_primaries(&databases);
    for db in databases {
        let name = db.config.name.clone();
        if let Some(node) = db
            .shards
            .iter()
            .find_map(|s| shared.get(&key(s.primary.node())))
        {
            problems.push(format!(
                "database {name}: primary {node} is also a primary of another database, \
                 whose GIDs would be ambiguous; not recovered"
            ));
            continue;
        }
        let pass = pass::recover_database(db, grace, timeout).await;
        summary.committed += pass.summary.committed;
        summary.rolled_back += pass.summary.rolled_back;
        summary.decisions_deleted += pass.summary.decisions_deleted;
        summary.in_doubt += pass.in_doubt.len();
        problems.extend(pass.unreachable.iter().map(|n| format!("{n} unreachable")));
        let mut last = LAST_PASS.write().unwrap_or_else(|e| e.into_inner());
        last.insert(name, pass.in_doubt);
    }
    for db in cluster.mysql_databases().filter(|db| db.shards.len() > 1) {
        let pass = xa::recover_database(db, grace, timeout).await;
        summary.committed += pass.summary.committed;
        summary.rolled_back += pass.summary.rolled_back;
        summary.decisions_deleted += pass.summary.decisions_deleted;
        summary.in_doubt += pass.in_doubt.len();
        problems.extend(pass.unreachable.iter().map(|n| format!("{n} unreachable")));
        let mut last = LAST_PASS.write().unwrap_or_else(|e| e.into_inner());
        last.insert(db.config.name.clone(), pass.in_doubt);
    }
    metrics::gauge!(crate::metrics::TWOPC_IN_DOUBT).set(summary.in_doubt as f64);
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(Incomplete { summary, problems })
    }
}

fn key(node: &NodeInfo) -> (String, String) {
    (node.addr.clone(), node.dbname.clone())
}

/// Primaries (host:port/dbname) named by more than one database: a GID does not say which
/// database's shard numbering it uses, so those databases are left alone.
fn shared_primaries(databases: &[&Arc<DatabaseRuntime>]) -> HashMap<(String, String), String> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for db in databases {
        for shard in &db.shards {
            *seen.entry(key(shard.primary.node())).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((addr, dbname), _)| ((addr.clone(), dbname.clone()), format!("{addr}/{dbname}")))
        .collect()
}
