//! One database's pass: connect to its shard primaries, observe in the order the rules
//! need, plan with `shardwire_txn::recovery`, apply, and report what was left.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use shardwire_txn::recovery::{self as rules, Action, DecisionRow, Observation, Prepared};
use shardwire_txn::TxnId;

use super::primary::{
    control_client, Failed, Primary, DECISION_TABLE_DDL, FIND_DECISIONS, LIST_PREPARED,
    OLD_DECISIONS,
};
use super::{InDoubt, Summary};
use crate::cluster::DatabaseRuntime;

/// What one database's pass did.
#[derive(Default)]
pub(super) struct DatabasePass {
    pub(super) summary: Summary,
    pub(super) in_doubt: Vec<InDoubt>,
    pub(super) unreachable: Vec<String>,
}

/// Recovers one database: every primary looked at, the plan applied.
pub(super) async fn recover_database(
    db: &DatabaseRuntime,
    grace: Duration,
    timeout: Duration,
) -> DatabasePass {
    let mut primaries = Vec::with_capacity(db.shards.len());
    for shard in &db.shards {
        let node = shard.primary.node().clone();
        let client = control_client(&node, timeout, "shardwire-recovery")
            .await
            .ok();
        let mut primary = Primary {
            node,
            client,
            timeout,
        };
        // Retried every pass; the startup check creates it before clients are served.
        if let Err(e) = primary.execute(DECISION_TABLE_DDL).await {
            tracing::debug!(node = %primary.node.name, error = %e, "decision table not ensured");
        }
        primaries.push(primary);
    }
    let observed = observe(&mut primaries, grace).await;
    let mut pass = DatabasePass {
        unreachable: primaries
            .iter()
            .enumerate()
            .filter(|(i, _)| !observed.listed.contains(&(*i as u32)))
            .map(|(_, p)| p.node.name.clone())
            .collect(),
        ..DatabasePass::default()
    };
    for action in rules::plan(&observed, grace) {
        apply(
            &db.config.name,
            &mut primaries,
            &observed,
            action,
            &mut pass,
        )
        .await;
    }
    pass
}

/// Looks at the primaries in the order the rules need: old decision rows, prepared
/// transactions, then the decisions those transactions depend on.
async fn observe(primaries: &mut [Primary], grace: Duration) -> Observation {
    let mut observed = Observation {
        shards: primaries.len() as u32,
        ..Observation::default()
    };
    let secs = grace.as_secs_f64();
    for (shard, primary) in (0u32..).zip(primaries.iter_mut()) {
        if let Some(rows) = primary.query(OLD_DECISIONS, &[&secs]).await {
            let rows = rows.iter().filter_map(|r| {
                Some(DecisionRow {
                    txid: r.try_get(0).ok()?,
                    age: seconds(r.try_get(1).ok()?),
                })
            });
            observed.old_decisions.insert(shard, rows.collect());
        }
    }
    let started = Instant::now();
    for (shard, primary) in (0u32..).zip(primaries.iter_mut()) {
        if let Some(rows) = primary.query(LIST_PREPARED, &[]).await {
            observed.listed.insert(shard);
            observed.prepared.extend(rows.iter().filter_map(|r| {
                Some(Prepared {
                    shard,
                    gid: r.try_get(0).ok()?,
                    age: seconds(r.try_get(1).ok()?),
                })
            }));
        }
    }
    observed.listing_window = started.elapsed();
    for (shard, txns) in rules::lookups(&observed.prepared) {
        let Some(primary) = primaries.get_mut(shard as usize) else {
            continue;
        };
        let texts: Vec<String> = txns.iter().map(TxnId::to_string).collect();
        if let Some(rows) = primary.query(FIND_DECISIONS, &[&texts]).await {
            let found: BTreeSet<TxnId> = rows
                .iter()
                .filter_map(|r| TxnId::parse(r.try_get(0).ok()?))
                .collect();
            observed.decisions.insert(shard, found);
        }
    }
    observed
}

async fn apply(
    database: &str,
    primaries: &mut [Primary],
    observed: &Observation,
    action: Action,
    pass: &mut DatabasePass,
) {
    let (shard, gid, commit) = match action {
        Action::Commit { shard, gid } => (shard, gid, true),
        Action::Rollback { shard, gid } => (shard, gid, false),
        Action::InDoubt {
            shard,
            gid,
            age,
            reason,
        } => {
            tracing::debug!(database, shard, %gid, ?age, %reason, "prepared transaction left");
            let node = node_name(primaries, shard);
            let state = reason.to_string();
            pass.in_doubt.push(InDoubt {
                database: database.to_string(),
                shard,
                node,
                gid,
                age,
                state,
            });
            return;
        }
        Action::DeleteDecisions { shard, txids } => {
            let Some(primary) = primaries.get_mut(shard as usize) else {
                return;
            };
            match primary.delete_decisions(&txids).await {
                Ok(n) => pass.summary.decisions_deleted += n,
                Err(e) => {
                    tracing::warn!(node = %primary.node.name, error = %e, "deleting old 2PC decisions failed")
                }
            }
            return;
        }
    };
    let Some(primary) = primaries.get_mut(shard as usize) else {
        return;
    };
    let verb = if commit { "COMMIT" } else { "ROLLBACK" };
    let sql = format!("{verb} PREPARED '{}'", gid.replace('\'', "''"));
    let node = primary.node.name.clone();
    match primary.execute(&sql).await {
        Ok(()) => {
            let action = if commit { "commit" } else { "rollback" };
            tracing::info!(database, %node, %gid, action, "2PC recovery resolved a prepared transaction");
            metrics::counter!(crate::metrics::TWOPC_RECOVERED, "action" => action).increment(1);
            if commit {
                pass.summary.committed += 1;
            } else {
                pass.summary.rolled_back += 1;
            }
        }
        Err(Failed::Gone) => {
            tracing::debug!(database, %node, %gid, "prepared transaction already resolved elsewhere");
        }
        Err(Failed::Other(e)) => {
            tracing::warn!(database, %node, %gid, error = %e, "{verb} PREPARED failed");
            let age = observed
                .prepared
                .iter()
                .find(|p| p.shard == shard && p.gid == gid)
                .map_or(Duration::ZERO, |p| p.age);
            let state = format!("{} failed: {e}", verb.to_lowercase());
            pass.in_doubt.push(InDoubt {
                database: database.to_string(),
                shard,
                node,
                gid,
                age,
                state,
            });
        }
    }
}

fn node_name(primaries: &[Primary], shard: u32) -> String {
    primaries
        .get(shard as usize)
        .map_or_else(|| format!("shard{shard}"), |p| p.node.name.clone())
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or_default()
}
