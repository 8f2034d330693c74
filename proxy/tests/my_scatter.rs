//! Reads across MariaDB shards through the MySQL frontend, compared with one MariaDB
//! holding all the rows: a seeded corpus of ORDER BY / LIMIT / aggregates / GROUP BY /
//! HAVING / DISTINCT / IN queries in the text protocol, sysbench's range reads as
//! prepared statements inside a transaction, and the refusal of a shape that cannot be
//! merged.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "my_scatter_support/mod.rs"]
mod support;

use std::sync::OnceLock;

use common::mysql::{start_mysql, MyHarness, MySpec};
use mysql_async::prelude::*;
use support::rng::Rng;
use support::{answer, collect, corpus, inserts, same, SCHEMA, TABLES};

/// The proxy on two shards, and a one-shard harness whose server is the reference.
struct Beds {
    sharded: MyHarness,
    reference: MyHarness,
}

fn beds() -> &'static Beds {
    static B: OnceLock<Beds> = OnceLock::new();
    B.get_or_init(|| {
        let spec = |shards| MySpec {
            shards,
            replicas: 0,
            pool_size: 8,
            proxy_extra: "",
            tables: TABLES,
            schema: SCHEMA,
        };
        Beds {
            sharded: start_mysql(spec(2)),
            reference: start_mysql(spec(1)),
        }
    })
}

async fn reference_conn() -> mysql_async::Conn {
    let node = beds().reference.topo.mysql_shards()[0].primary();
    mysql_async::Conn::new(node.mysql_app_opts()).await.unwrap()
}

/// Loads the dataset once (through the proxy and into the reference).
async fn loaded() -> (mysql_async::Conn, mysql_async::Conn) {
    static LOADED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let mut proxy = beds().sharded.conn().await;
    let mut reference = reference_conn().await;
    LOADED
        .get_or_init(|| async {
            let mut rng = Rng::new(7);
            let mut p = beds().sharded.conn().await;
            let mut r = reference_conn().await;
            for sql in inserts(&mut rng, 3000, 1500) {
                p.query_drop(&sql).await.unwrap();
                r.query_drop(&sql).await.unwrap();
            }
        })
        .await;
    proxy.query_drop("SET NAMES utf8mb4").await.unwrap();
    reference.query_drop("SET NAMES utf8mb4").await.unwrap();
    (proxy, reference)
}

async fn selects_on_shards() -> u64 {
    let mut total = 0;
    for shard in beds().sharded.topo.mysql_shards() {
        let v = shard
            .primary()
            .query_value("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'COM_SELECT'")
            .await
            .unwrap();
        total += v.unwrap_or_default().parse::<u64>().unwrap_or(0);
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scattered_reads_answer_like_one_mariadb() {
    let (mut proxy, mut reference) = loaded().await;
    let seed = std::env::var("SHARDWIRE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        });
    println!("corpus seed {seed} (SHARDWIRE_SEED={seed} replays it)");
    let mut rng = Rng::new(seed);
    let queries = corpus(&mut rng, 150);
    let before = selects_on_shards().await;
    let (mut checked, mut failures) = (0, Vec::new());
    for q in &queries {
        let want = answer(&mut reference, &q.sql).await;
        let got = answer(&mut proxy, &q.sql).await;
        if want.is_ok() {
            checked += 1;
        }
        if let Err(why) = same(&want, &got, q.ordered) {
            failures.push(format!("{}\n  {why}", q.sql));
        }
    }
    let after = selects_on_shards().await;
    assert!(
        failures.is_empty(),
        "{} of {} differ (seed {seed}):\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
    assert!(
        checked * 10 >= queries.len() * 9,
        "only {checked} of {} checked",
        queries.len()
    );
    // Every query but those pinned to one shard by an IN list ran on both shards.
    assert!(
        after - before >= 2 * (queries.len() as u64) * 8 / 10,
        "scatter path not taken: {} SELECTs on the shards",
        after - before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysbench_range_reads_prepared_in_a_transaction() {
    let (mut proxy, mut reference) = loaded().await;
    let statements = [
        "SELECT name FROM items WHERE id BETWEEN ? AND ?",
        "SELECT SUM(qty) FROM items WHERE id BETWEEN ? AND ?",
        "SELECT name FROM items WHERE id BETWEEN ? AND ? ORDER BY name",
        "SELECT DISTINCT name FROM items WHERE id BETWEEN ? AND ? ORDER BY name",
        "SELECT id, amount, score, made, at, big, took FROM items WHERE id BETWEEN ? AND ? ORDER BY id LIMIT ?",
        "SELECT grp, AVG(amount), COUNT(*) FROM items WHERE id BETWEEN ? AND ? GROUP BY grp ORDER BY grp",
    ];
    for conn in [&mut proxy, &mut reference] {
        conn.query_drop("BEGIN").await.unwrap();
        conn.query_drop("UPDATE items SET qty = qty + 1000 WHERE id = 5")
            .await
            .unwrap();
    }
    for (lo, hi) in [(1i64, 100i64), (3, 5), (250, 2900)] {
        for sql in statements {
            let params: Vec<mysql_async::Value> = if sql.ends_with("LIMIT ?") {
                vec![lo.into(), hi.into(), 7.into()]
            } else {
                vec![lo.into(), hi.into()]
            };
            let want = collect(reference.exec(sql, params.clone()).await);
            let got = collect(proxy.exec(sql, params).await);
            let ordered = sql.contains("ORDER BY");
            same(&want, &got, ordered).unwrap_or_else(|e| panic!("{sql} [{lo}, {hi}]: {e}"));
            assert!(want.is_ok(), "{sql}: {want:?}");
        }
    }
    // The transaction's own write is seen by the scattered read.
    let sql = "SELECT SUM(qty) FROM items WHERE id BETWEEN ? AND ?";
    let want = collect(reference.exec(sql, (1, 10)).await);
    assert_eq!(collect(proxy.exec(sql, (1, 10)).await), want);
    for conn in [&mut proxy, &mut reference] {
        conn.query_drop("ROLLBACK").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmergeable_shapes_are_refused_with_1235_naming_the_table() {
    let (mut proxy, _) = loaded().await;
    let err = proxy
        .query_drop("SELECT COUNT(DISTINCT name) FROM items")
        .await
        .unwrap_err();
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!(e.code, 1235, "{}", e.message);
            assert!(e.message.contains("items"), "{}", e.message);
        }
        other => panic!("{other}"),
    }
    // The connection still works.
    let n: Option<i64> = proxy
        .query_first("SELECT COUNT(*) FROM notes")
        .await
        .unwrap();
    assert_eq!(n, Some(1500));
}
