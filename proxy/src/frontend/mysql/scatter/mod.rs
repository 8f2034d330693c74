//! Scattered reads on the MySQL frontend: a `SELECT` the router planned across shards
//! ([`Target::Scatter`](shardwire_router::Target)) runs on each shard as the plan's
//! shard SQL, and the shards' text result sets are merged into one result set for the
//! client (text rows for `COM_QUERY`, binary rows for `COM_STMT_EXECUTE`).
//!
//! - `shard` — one shard's answer, read packet by packet;
//! - `drive` — the merge loop and error handling;
//! - `values` — literal and parameter values for the merge.
//!
//! Outside a transaction each shard lends a pooled primary connection for the read;
//! inside one the read runs on the transaction's XA branches (enlisting shards it did not
//! touch yet), so it sees the transaction's own writes. A branch whose answer had to be
//! abandoned mid-stream is closed, which dooms the transaction.
//!
//! Prepared statements run on the shards as text with their parameters written in as
//! literals (see [`crate::merge::mysql::params`] for why).

mod drive;
mod shard;
mod values;

use std::sync::Arc;

use shardwire_router::{ScatterPlan, Scattered};

use super::backend::checkout_node;
use super::reply;
use super::session::Session;
use super::xa::ClientTxn;
use crate::backend::mysql::pool::{discard, PooledMyConn};
use crate::frontend::replica_choice::forces_primary;
use crate::merge::mysql::params::{self, ParamLiteral};
use crate::protocol::mysql::errcode;
use crate::protocol::mysql::execute::Execute;
use drive::Job;
use shard::ShardAnswer;
use values::ExecValues;

impl Session {
    /// Runs a scattered read of a `COM_QUERY`: `sql` is the client's text, whose
    /// literals fill the shard SQL.
    pub(super) async fn run_scatter(&mut self, scattered: &Scattered, sql: &str) {
        let normalized = self.db.router.normalize(sql);
        let shard_sql = match scattered.plan.shard_sql.render(&normalized.literals) {
            Ok(text) => text,
            Err(e) => {
                reply::route_err(self, &e);
                return;
            }
        };
        let values = ExecValues::of_literals(&normalized.literals);
        self.scatter(
            &scattered.plan,
            &scattered.shards,
            &shard_sql,
            &values,
            false,
        )
        .await;
    }

    /// Runs a scattered read of a `COM_STMT_EXECUTE` on `shards`, with the execute's
    /// parameters (`literals`, from [`param_literals`]); the client gets binary rows.
    pub(super) async fn run_scatter_prepared(
        &mut self,
        plan: &Arc<ScatterPlan>,
        shards: &[u32],
        literals: &[ParamLiteral],
    ) {
        let filled = plan
            .shard_sql
            .render(&[])
            .map_err(|e| e.message)
            .and_then(|text| {
                let ordered = plan
                    .shard_sql
                    .params()
                    .iter()
                    .map(|&n| {
                        let i = usize::from(n).checked_sub(1);
                        i.and_then(|i| literals.get(i))
                            .map(|l| l.sql.as_str())
                            .ok_or_else(|| format!("the statement has no parameter {n}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                params::fill(&text, &ordered)
            });
        let shard_sql = match filled {
            Ok(text) => text,
            Err(message) => {
                let message =
                    format!("shardwire: cannot run the statement across shards: {message}");
                reply::err(self, 1, errcode::ER_WRONG_ARGUMENTS, &message);
                return;
            }
        };
        let values = ExecValues::of_params(literals);
        self.scatter(plan, shards, &shard_sql, &values, true).await;
    }

    /// Runs `shard_sql` on `shards` and merges by `plan`.
    async fn scatter(
        &mut self,
        plan: &ScatterPlan,
        shards: &[u32],
        shard_sql: &str,
        values: &ExecValues,
        binary: bool,
    ) {
        if let Some(pinned) = &self.pinned {
            let message = format!(
                "shardwire: the open transaction runs on shard {} (a statement the proxy does \
                 not track opened it); a read across shards cannot join it",
                pinned.shard
            );
            reply::err(self, 1, errcode::ER_NOT_SUPPORTED_YET, &message);
            return;
        }
        if self.txn.is_none() && !self.autocommit {
            // autocommit = 0: the statement begins a transaction.
            self.txn = Some(self.new_transaction(false));
        }
        crate::metrics::scatter_read(shards.len());
        let job = Job {
            spec: &plan.merge,
            sql: shard_sql,
            values,
            binary,
        };
        match self.txn.take() {
            Some(txn) => self.scatter_in_transaction(txn, shards, job).await,
            None => self.scatter_pooled(shards, job).await,
        }
    }

    async fn scatter_pooled(&mut self, shards: &[u32], job: Job<'_>) {
        let mut conns: Vec<(u32, PooledMyConn)> = Vec::with_capacity(shards.len());
        // Each shard's part is a read like any other: the consistency level picks the
        // node, shard by shard.
        let hinted = forces_primary(job.sql);
        for &shard in shards {
            let replica = self.choose_replica_for(shard, || hinted).await;
            if let Some(i) = replica {
                self.observe_replica_read(shard, i);
            }
            match checkout_node(&self.db, shard, replica, &self.settings).await {
                Ok(conn) => {
                    conn.node.queries.count(crate::metrics::QueryKind::Read);
                    conns.push((shard, conn))
                }
                Err(e) => {
                    self.conn_failed(shard, &e);
                    return;
                }
            }
        }
        let mut answers: Vec<ShardAnswer<'_>> = conns
            .iter_mut()
            .map(|(shard, conn)| ShardAnswer::new(*shard, conn))
            .collect();
        self.drive(&mut answers, job).await;
        drop(answers);
        for (_, conn) in conns {
            if conn.broken || conn.in_transaction() {
                discard(conn);
            }
        }
    }

    async fn scatter_in_transaction(&mut self, mut txn: ClientTxn, shards: &[u32], job: Job<'_>) {
        for &shard in shards {
            // A READ ONLY transaction reads where the consistency level allows.
            let replica = if txn.read_only && !txn.has_branch(shard) {
                self.choose_replica_for(shard, || false).await
            } else {
                None
            };
            if let Err(e) = txn
                .branch_on(&self.db, shard, replica, &self.settings)
                .await
            {
                self.txn = Some(txn);
                let message = format!(
                    "shardwire: shard {shard} could not join the transaction for a read \
                     across shards: {e}"
                );
                reply::err(self, 1, errcode::ER_XAER_RMFAIL, &message);
                return;
            }
        }
        let mut answers: Vec<ShardAnswer<'_>> = txn
            .branches
            .iter_mut()
            .filter(|b| shards.contains(&b.shard))
            .map(|b| ShardAnswer::new(b.shard, &mut b.conn))
            .collect();
        answers.sort_by_key(|a| a.shard);
        self.drive(&mut answers, job).await;
        let lost: Vec<u32> = answers
            .iter()
            .filter(|a| a.broken())
            .map(|a| a.shard)
            .collect();
        drop(answers);
        if let Some(shard) = lost.first() {
            txn.doomed = Some(format!(
                "the connection to shard {shard} was closed during a read across shards"
            ));
        }
        self.txn = Some(txn);
    }
}

/// An execute's parameters as SQL literals (long data from `long_data`).
pub(super) fn param_literals(
    exec: &Execute<'_>,
    long_data: &[Option<Vec<u8>>],
) -> Result<Vec<ParamLiteral>, String> {
    let types = exec.types.unwrap_or_default();
    exec.values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let t = types.get(2 * i).copied().unwrap_or_default();
            let flag = types.get(2 * i + 1).copied().unwrap_or_default();
            let long = long_data.get(i).and_then(Option::as_deref);
            params::literal(t, flag, *value, long)
        })
        .collect()
}
