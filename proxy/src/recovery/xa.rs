//! One MySQL database's recovery pass: the same rules as PostgreSQL's
//! (`shardwire_txn::recovery::plan`) over XA. Prepared branches come from `XA RECOVER`,
//! decisions from `shardwire_2pc_decisions` on the decision shard, and the actions are
//! `XA COMMIT` / `XA ROLLBACK` on fresh connections (MariaDB lets a connection finish a
//! branch another one prepared once that one has disconnected: a crashed coordinator's
//! connections are gone).
//!
//! `XA RECOVER` tells no age, so a branch's age is the time since this process first saw
//! it: a fresh proxy waits a whole grace period before rolling anything back, which is
//! only ever later than needed, never earlier.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shardwire_txn::recovery::{self as rules, Action, DecisionRow, Observation, Prepared};
use shardwire_txn::TxnId;

use super::pass::DatabasePass;
use super::InDoubt;
use crate::backend::mysql::conn::MyConn;
use crate::cluster::MyDatabaseRuntime;
use crate::frontend::mysql::DECISION_TABLE_DDL;

/// When this process first saw each prepared branch, by (node, xid).
static FIRST_SEEN: Mutex<Option<HashMap<(String, String), Instant>>> = Mutex::new(None);

/// Recovers one MySQL database.
pub(super) async fn recover_database(
    db: &MyDatabaseRuntime,
    grace: Duration,
    timeout: Duration,
) -> DatabasePass {
    let mut primaries: Vec<Option<MyConn>> = Vec::with_capacity(db.shards.len());
    for shard in &db.shards {
        let node = shard.primary.node().clone();
        let conn = match tokio::time::timeout(timeout, MyConn::connect(node.clone())).await {
            Ok(Ok(mut conn)) => {
                if let Err(e) = run(&mut conn, DECISION_TABLE_DDL, timeout).await {
                    tracing::debug!(node = %node.name, error = %e, "decision table not ensured");
                }
                Some(conn)
            }
            _ => None,
        };
        primaries.push(conn);
    }
    let observed = observe(&mut primaries, grace, timeout).await;
    let mut pass = DatabasePass {
        unreachable: db
            .shards
            .iter()
            .enumerate()
            .filter(|(i, _)| !observed.listed.contains(&(*i as u32)))
            .map(|(_, s)| s.primary.node().name.clone())
            .collect(),
        ..DatabasePass::default()
    };
    for action in rules::plan(&observed, grace) {
        apply(db, &mut primaries, &observed, action, timeout, &mut pass).await;
    }
    pass
}

/// A control statement's rows, or its error as text.
async fn run(
    conn: &mut MyConn,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<Vec<Option<String>>>, String> {
    match tokio::time::timeout(timeout, conn.query(sql)).await {
        Ok(Ok(answer)) => match answer.error {
            None => Ok(answer.rows),
            Some(err) => Err(format!("{} ({})", err.message, err.code)),
        },
        Ok(Err(e)) => {
            conn.broken = true;
            Err(e.to_string())
        }
        Err(_) => {
            conn.broken = true;
            Err("timed out".into())
        }
    }
}

/// Rows of `sql` on shard `i`'s primary; `None` (and the connection dropped) on failure.
async fn rows(
    primaries: &mut [Option<MyConn>],
    i: usize,
    sql: &str,
    timeout: Duration,
) -> Option<Vec<Vec<Option<String>>>> {
    let conn = primaries.get_mut(i)?.as_mut()?;
    match run(conn, sql, timeout).await {
        Ok(rows) => Some(rows),
        Err(e) => {
            tracing::debug!(node = %conn.node.name, error = %e, sql, "recovery query failed");
            if conn.broken {
                primaries[i] = None;
            }
            None
        }
    }
}

async fn observe(
    primaries: &mut [Option<MyConn>],
    grace: Duration,
    timeout: Duration,
) -> Observation {
    let mut observed = Observation {
        shards: primaries.len() as u32,
        ..Observation::default()
    };
    let old = format!(
        "SELECT txid, TIMESTAMPDIFF(MICROSECOND, decided_at, NOW(6)) / 1000000 \
         FROM shardwire_2pc_decisions WHERE decided_at < NOW(6) - INTERVAL {} MICROSECOND",
        grace.as_micros()
    );
    for i in 0..primaries.len() {
        if let Some(found) = rows(primaries, i, &old, timeout).await {
            let decisions = found.into_iter().filter_map(|r| {
                Some(DecisionRow {
                    txid: r.first()?.clone()?,
                    age: seconds(r.get(1)?.as_deref()?),
                })
            });
            observed.old_decisions.insert(i as u32, decisions.collect());
        }
    }
    let started = Instant::now();
    let now = Instant::now();
    let mut listed_now = BTreeSet::new();
    for i in 0..primaries.len() {
        let node = match primaries[i].as_ref() {
            Some(conn) => conn.node.name.clone(),
            None => continue,
        };
        let Some(found) = rows(primaries, i, "XA RECOVER", timeout).await else {
            continue;
        };
        observed.listed.insert(i as u32);
        let mut seen = FIRST_SEEN.lock().unwrap_or_else(|e| e.into_inner());
        let first_seen = seen.get_or_insert_with(HashMap::new);
        for row in found {
            // formatID, gtrid_length, bqual_length, data
            let Some(Some(xid)) = row.get(3).cloned() else {
                continue;
            };
            let key = (node.clone(), xid.clone());
            let since = *first_seen.entry(key.clone()).or_insert(now);
            listed_now.insert(key);
            observed.prepared.push(Prepared {
                shard: i as u32,
                gid: xid,
                age: now.saturating_duration_since(since),
            });
        }
    }
    forget_resolved(&listed_now);
    observed.listing_window = started.elapsed();
    for (shard, txns) in rules::lookups(&observed.prepared) {
        let list: Vec<String> = txns.iter().map(|t| format!("'{t}'")).collect();
        let sql = format!(
            "SELECT txid FROM shardwire_2pc_decisions WHERE txid IN ({})",
            list.join(", ")
        );
        if let Some(found) = rows(primaries, shard as usize, &sql, timeout).await {
            let found: BTreeSet<TxnId> = found
                .iter()
                .filter_map(|r| TxnId::parse(r.first()?.as_deref()?))
                .collect();
            observed.decisions.insert(shard, found);
        }
    }
    observed
}

/// Forgets branches that nodes listed this pass no longer hold.
fn forget_resolved(listed_now: &BTreeSet<(String, String)>) {
    let listed_nodes: BTreeSet<&String> = listed_now.iter().map(|(n, _)| n).collect();
    let mut seen = FIRST_SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(first_seen) = seen.as_mut() {
        first_seen.retain(|key, _| listed_now.contains(key) || !listed_nodes.contains(&key.0));
    }
}

async fn apply(
    db: &MyDatabaseRuntime,
    primaries: &mut [Option<MyConn>],
    observed: &Observation,
    action: Action,
    timeout: Duration,
    pass: &mut DatabasePass,
) {
    let database = db.config.name.as_str();
    let node_name = |shard: u32| {
        db.shard(shard).map_or_else(
            || format!("shard{shard}"),
            |s| s.primary.node().name.clone(),
        )
    };
    let (shard, gid, commit) = match action {
        Action::Commit { shard, gid } => (shard, gid, true),
        Action::Rollback { shard, gid } => (shard, gid, false),
        Action::InDoubt {
            shard,
            gid,
            age,
            reason,
        } => {
            tracing::debug!(database, shard, %gid, ?age, %reason, "prepared XA branch left");
            pass.in_doubt.push(InDoubt {
                database: database.to_string(),
                shard,
                node: node_name(shard),
                gid,
                age,
                state: reason.to_string(),
            });
            return;
        }
        Action::DeleteDecisions { shard, txids } => {
            let list: Vec<String> = txids.iter().map(|t| format!("'{t}'")).collect();
            let sql = format!(
                "DELETE FROM shardwire_2pc_decisions WHERE txid IN ({})",
                list.join(", ")
            );
            if rows(primaries, shard as usize, &sql, timeout)
                .await
                .is_some()
            {
                pass.summary.decisions_deleted += txids.len() as u64;
            }
            return;
        }
    };
    if gid.contains('\'') {
        return;
    }
    let verb = if commit { "COMMIT" } else { "ROLLBACK" };
    let sql = format!("XA {verb} '{gid}'");
    let node = node_name(shard);
    let Some(Some(conn)) = primaries.get_mut(shard as usize) else {
        return;
    };
    match run(conn, &sql, timeout).await {
        Ok(_) => {
            let action = if commit { "commit" } else { "rollback" };
            tracing::info!(database, %node, %gid, action, "2PC recovery resolved a prepared XA branch");
            metrics::counter!(crate::metrics::TWOPC_RECOVERED, "action" => action).increment(1);
            if commit {
                pass.summary.committed += 1;
            } else {
                pass.summary.rolled_back += 1;
            }
        }
        Err(e) if e.ends_with("(1397)") => {
            tracing::debug!(database, %node, %gid, "XA branch already resolved elsewhere");
        }
        Err(e) => {
            tracing::warn!(database, %node, %gid, error = %e, "XA {verb} failed");
            let age = observed
                .prepared
                .iter()
                .find(|p| p.shard == shard && p.gid == gid)
                .map_or(Duration::ZERO, |p| p.age);
            pass.in_doubt.push(InDoubt {
                database: database.to_string(),
                shard,
                node,
                gid,
                age,
                state: format!("{} failed: {e}", verb.to_lowercase()),
            });
        }
    }
}

fn seconds(text: &str) -> Duration {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok())
        .unwrap_or_default()
}

/// Creates the decision table on every primary of every MySQL database with several
/// shards, all at once, before clients are served; a primary that does not answer is
/// only warned about (recovery passes retry).
pub(crate) async fn ensure_decision_tables(cluster: &crate::cluster::Cluster) {
    let mut work = tokio::task::JoinSet::new();
    for db in cluster.mysql_databases().filter(|db| db.shards.len() > 1) {
        for shard in &db.shards {
            let node = shard.primary.node().clone();
            work.spawn(async move {
                let timeout = Duration::from_secs(5);
                let result = match tokio::time::timeout(timeout, MyConn::connect(node.clone())).await
                {
                    Ok(Ok(mut conn)) => run(&mut conn, DECISION_TABLE_DDL, timeout).await.map(drop),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("connect timed out".to_string()),
                };
                if let Err(e) = result {
                    tracing::warn!(node = %node.name, error = %e, "cannot create the 2PC decision table");
                }
            });
        }
    }
    while work.join_next().await.is_some() {}
}
