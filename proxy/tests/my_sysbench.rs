//! sysbench through the MySQL frontend on two MariaDB shards (each with a replica):
//! `prepare` loads `sbtest1` through the proxy (table and index on every shard, rows
//! split by id), then `oltp_point_select` and `oltp_read_write` run for 20 s each with
//! server-side prepared statements. Zero errors, and every row on the shard its id names.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::process::Command;

use common::mysql::{rows_on, start_mysql, MySpec};
use shardwire_router::hash::{shard_of, ShardKey};

const TABLES: &str = "
  [[databases.tables]]
  name = \"sbtest1\"
  shard_key = \"id\"
  key_type = \"integer\"
";

const TABLE_SIZE: i64 = 10_000;

fn sysbench(port: u16, args: &[&str]) -> String {
    let port = format!("--mysql-port={port}");
    let size = format!("--table-size={TABLE_SIZE}");
    let mut cmd = Command::new("sysbench");
    cmd.args(args).args([
        "--db-driver=mysql",
        "--mysql-host=127.0.0.1",
        &port,
        "--mysql-user=app",
        "--mysql-password=app",
        "--mysql-db=app",
        "--tables=1",
        &size,
        "--auto_inc=off",
        "--report-interval=0",
    ]);
    let out = cmd.output().unwrap_or_else(|e| panic!("run sysbench: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "sysbench {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// The number after `label` in sysbench's report (e.g. `errors:`).
fn reported(report: &str, label: &str) -> f64 {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label} in the report:\n{report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oltp_point_select_and_read_write_run_without_errors() {
    let h = start_mysql(MySpec {
        shards: 2,
        replicas: 1,
        pool_size: 16,
        proxy_extra: "transaction_lock_timeout = \"1s\"",
        tables: TABLES,
        schema: "",
    });
    let port = h.port;
    tokio::task::spawn_blocking(move || sysbench(port, &["oltp_read_write", "prepare"]))
        .await
        .unwrap();
    // Loaded through the proxy: every row once, on its shard.
    let mut total = 0;
    for s in 0..2 {
        let ids: Vec<i64> = rows_on(h.topo.mysql(s).primary(), "SELECT id FROM sbtest1")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap().parse().unwrap())
            .collect();
        assert!(!ids.is_empty(), "shard {s} got no rows");
        for id in &ids {
            let want = shard_of(&ShardKey::Int(*id), NonZeroU32::new(2).unwrap());
            assert_eq!(want as usize, s, "id {id} on shard {s}");
        }
        total += ids.len() as i64;
    }
    assert_eq!(total, TABLE_SIZE);
    for workload in ["oltp_point_select", "oltp_read_write"] {
        let report = tokio::task::spawn_blocking(move || {
            sysbench(port, &[workload, "run", "--threads=4", "--time=20"])
        })
        .await
        .unwrap();
        let transactions = reported(&report, "transactions:");
        let errors = reported(&report, "ignored errors:");
        eprintln!("{workload}: {transactions} transactions, {errors} ignored errors");
        assert!(
            transactions > 100.0,
            "{workload}: too few transactions\n{report}"
        );
        // Deadlocks and lock wait timeouts are retried by sysbench ("ignored"), as on one
        // server; a cycle across shards is only broken by the lock wait timeout (1 s
        // here), so a few are expected under oltp_read_write. Anything else aborts the run
        // (`sysbench` above asserts it succeeded).
        assert!(
            errors <= transactions / 100.0,
            "{workload}: {errors} retried deadlocks or lock waits\n{report}"
        );
    }
    let sum_after: i64 = {
        let mut n = 0;
        for s in 0..2 {
            let rows = rows_on(h.topo.mysql(s).primary(), "SELECT count(*) FROM sbtest1").await;
            n += rows[0][0].clone().unwrap().parse::<i64>().unwrap();
        }
        n
    };
    // oltp_read_write deletes and re-inserts the same ids: the table keeps its size.
    assert_eq!(sum_after, TABLE_SIZE);
    for s in 0..2 {
        let prepared = rows_on(h.topo.mysql(s).primary(), "XA RECOVER").await;
        assert!(prepared.is_empty(), "shard {s}: {prepared:?}");
    }
}
