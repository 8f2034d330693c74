//! pgbench against two sharded PostgreSQL shards through the proxy: `pgbench -i` (DDL on
//! every shard, TRUNCATE, single-row INSERTs in one transaction, COPY split by key,
//! VACUUM, ALTER TABLE) and the TPC-B run, whose transactions touch both shards and
//! commit with two-phase commit. Checked on the shards directly: every row on the shard
//! its key hashes to, and the three balance sums equal afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::OnceLock;

use common::{Harness, Spec};
use shardwire_router::hash::{shard_of, ShardKey};

const TABLES: &str = "
  [[databases.tables]]
  name = \"pgbench_accounts\"
  shard_key = \"aid\"
  key_type = \"integer\"

  [[databases.tables]]
  name = \"pgbench_tellers\"
  shard_key = \"tid\"
  key_type = \"integer\"

  [[databases.tables]]
  name = \"pgbench_branches\"
  shard_key = \"bid\"
  key_type = \"integer\"

  [[databases.tables]]
  name = \"pgbench_history\"
  shard_key = \"aid\"
  key_type = \"integer\"
";

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 0,
            pool_size: 24,
            proxy_extra: "",
            tables: TABLES,
            admin: true,
            schema: "",
        })
    })
}

fn pgbench(args: &[&str]) -> String {
    let h = harness();
    let port = h.port.to_string();
    let mut all = vec!["-h", "127.0.0.1", "-p", &port, "-U", "app"];
    all.extend_from_slice(args);
    all.push("app");
    let out = common::run("pgbench", &all);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

async fn on_shard(i: usize, sql: &str) -> String {
    harness()
        .topo
        .pg(i)
        .primary()
        .query_value(sql)
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_initializes_and_runs_tpcb_through_the_proxy() {
    let scale = 4;
    pgbench(&["-i", "-s", &scale.to_string(), "-q"]);
    // Every row sits on the shard its key hashes to.
    let n = NonZeroU32::new(2).unwrap();
    for (table, key, rows) in [
        ("pgbench_accounts", "aid", 100_000 * scale),
        ("pgbench_tellers", "tid", 10 * scale),
        ("pgbench_branches", "bid", scale),
    ] {
        let mut total = 0;
        for s in 0..2 {
            let client = harness().topo.pg(s).primary().pg_client().await.unwrap();
            let keys = client
                .query(&format!("SELECT {key} FROM {table}"), &[])
                .await
                .unwrap();
            for row in &keys {
                let k: i32 = row.get(0);
                assert_eq!(
                    shard_of(&ShardKey::Int(k.into()), n) as usize,
                    s,
                    "{table}.{key} = {k} on shard {s}"
                );
            }
            total += keys.len() as i64;
        }
        assert_eq!(total, rows, "{table}");
    }
    // Branches are counted through a scattered read at start, then TPC-B with 2PC.
    let out = pgbench(&["-c", "8", "-j", "2", "-T", "30", "-n"]);
    assert!(out.contains("number of failed transactions: 0"), "{out}");
    let sum = |table: &'static str, col: &'static str| async move {
        let mut s = 0i64;
        for i in 0..2 {
            s += on_shard(
                i,
                &format!("SELECT coalesce(sum({col}), 0)::bigint FROM {table}"),
            )
            .await
            .parse::<i64>()
            .unwrap();
        }
        s
    };
    let a = sum("pgbench_accounts", "abalance").await;
    let t = sum("pgbench_tellers", "tbalance").await;
    let b = sum("pgbench_branches", "bbalance").await;
    assert_eq!(
        (a, t),
        (b, b),
        "balances diverge: accounts {a}, tellers {t}, branches {b}"
    );
    for i in 0..2 {
        assert_eq!(
            on_shard(i, "SELECT count(*) FROM pg_prepared_xacts").await,
            "0"
        );
    }
    println!("{out}");
}
