//! `--setup`: drops, creates and loads a workload's tables through the target.
//!
//! Through a sharding proxy this is itself a test: DDL goes to every shard and each
//! multi-row INSERT is split by key. Rows go in batches of [`BATCH_ROWS`] over a few
//! connections at once, so large scales load in reasonable time.

use tokio::task::JoinSet;

use super::tables::{self, Table};
use super::tpcb::{ACCOUNTS_PER_BRANCH, TELLERS_PER_BRANCH};
use super::Workload;
use crate::client::{Client, ConnectSpec, DbError};

/// Rows per INSERT statement.
pub const BATCH_ROWS: u64 = 500;

/// Connections that load at once.
const LOADERS: usize = 4;

/// The balance every account of `sw_accounts` starts with.
pub const INITIAL_BALANCE: i64 = 1000;

/// Rows to generate for one table.
#[derive(Clone, Copy)]
struct Load {
    table: &'static Table,
    columns: &'static str,
    rows: u64,
    /// The VALUES tuple of row number `n` (1-based).
    row: fn(u64) -> String,
}

impl Load {
    fn batches(&self) -> u64 {
        self.rows.div_ceil(BATCH_ROWS)
    }

    /// The INSERT for batch `b` (0-based).
    fn batch_sql(&self, b: u64) -> String {
        let first = b * BATCH_ROWS + 1;
        let last = ((b + 1) * BATCH_ROWS).min(self.rows);
        let values: Vec<String> = (first..=last).map(self.row).collect();
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table.name,
            self.columns,
            values.join(", ")
        )
    }
}

fn loads(workload: Workload, scale: u64) -> Vec<Load> {
    let per = |n: i64| scale.saturating_mul(n.unsigned_abs());
    match workload {
        Workload::Insert => vec![],
        Workload::Tpcb => vec![
            Load {
                table: &tables::BRANCHES,
                columns: "bid, bbalance",
                rows: scale,
                row: |n| format!("({n}, 0)"),
            },
            Load {
                table: &tables::TELLERS,
                columns: "tid, bid, tbalance",
                rows: per(TELLERS_PER_BRANCH),
                row: |n| format!("({n}, {}, 0)", (n - 1) / TELLERS_PER_BRANCH as u64 + 1),
            },
            Load {
                table: &tables::TPCB_ACCOUNTS,
                columns: "aid, bid, abalance",
                rows: per(ACCOUNTS_PER_BRANCH),
                row: |n| format!("({n}, {}, 0)", (n - 1) / ACCOUNTS_PER_BRANCH as u64 + 1),
            },
        ],
        _ => vec![Load {
            table: &tables::ACCOUNTS,
            columns: "id, balance",
            rows: scale,
            row: |n| format!("({n}, {INITIAL_BALANCE})"),
        }],
    }
}

/// What went wrong, and with which table.
#[derive(Debug)]
pub struct SetupError {
    /// The table being created or loaded.
    pub table: &'static str,
    /// The statement's error.
    pub error: DbError,
}

/// Recreates and loads the workload's tables; `say` reports progress lines.
pub async fn run(
    workload: Workload,
    spec: &ConnectSpec,
    scale: u64,
    say: &(dyn Fn(String) + Sync),
) -> Result<(), SetupError> {
    let first_table = workload.tables().first().map_or("", |t| t.name);
    let mut ddl = Client::connect(spec).await.map_err(failed(first_table))?;
    for table in workload.tables() {
        ddl.batch(&table.drop_sql())
            .await
            .map_err(failed(table.name))?;
        ddl.batch(&table.create_sql(spec.target.engine))
            .await
            .map_err(failed(table.name))?;
    }
    ddl.close().await;
    let loads = loads(workload, scale);
    for load in &loads {
        say(format!(
            "setup: loading {} rows into {}",
            load.rows, load.table.name
        ));
    }
    let batches: u64 = loads.iter().map(Load::batches).sum();
    let loaders = LOADERS.min(batches as usize);
    let mut tasks = JoinSet::new();
    for k in 0..loaders {
        let (spec, loads) = (spec.clone(), loads.clone());
        tasks.spawn(async move {
            let mut client = Client::connect(&spec).await.map_err(failed(first_table))?;
            for load in &loads {
                for b in (k as u64..load.batches()).step_by(loaders) {
                    let sql = load.batch_sql(b);
                    client.batch(&sql).await.map_err(failed(load.table.name))?;
                }
            }
            client.close().await;
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        // A loader only ends by returning; a panic is a bug worth seeing.
        done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
    }
    Ok(())
}

fn failed(table: &'static str) -> impl Fn(DbError) -> SetupError {
    move |error| SetupError { table, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_row_once() {
        let load = loads(Workload::PointSelect, 1001)[0];
        assert_eq!(load.batches(), 3);
        let first = load.batch_sql(0);
        assert!(
            first.starts_with("INSERT INTO sw_accounts (id, balance) VALUES (1, 1000), (2, 1000)")
        );
        assert_eq!(first.matches("), (").count(), 499);
        assert_eq!(
            load.batch_sql(2),
            "INSERT INTO sw_accounts (id, balance) VALUES (1001, 1000)"
        );
    }

    #[test]
    fn tpcb_loads_pgbench_proportions() {
        let loads = loads(Workload::Tpcb, 2);
        let rows: Vec<(&str, u64)> = loads.iter().map(|l| (l.table.name, l.rows)).collect();
        assert_eq!(
            rows,
            vec![
                ("sw_branches", 2),
                ("sw_tellers", 20),
                ("sw_accounts_tpcb", 20_000)
            ]
        );
        // Teller 11 and account 10,001 belong to branch 2.
        assert_eq!((loads[1].row)(11), "(11, 2, 0)");
        assert_eq!((loads[2].row)(10_001), "(10001, 2, 0)");
        assert!(super::loads(Workload::Insert, 5).is_empty());
    }
}
