//! The PostgreSQL frontend against two real PostgreSQL shards: rows land on the shard
//! PostgreSQL's own hash partitioning names, by every protocol path; session settings
//! survive transaction pooling; many clients share a small pool; cancel works; bad input
//! hurts only the client that sent it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Harness, Spec};
use shardwire_router::hash::{shard_of, ShardKey};

const SCHEMA: &str = "
CREATE TABLE acc_bigint (id bigint PRIMARY KEY, note text);
CREATE TABLE acc_text (id text PRIMARY KEY, note text);
CREATE TABLE acc_uuid (id uuid PRIMARY KEY, note text);
CREATE TABLE ph_bigint (k bigint) PARTITION BY HASH (k);
CREATE TABLE ph_text (k text) PARTITION BY HASH (k);
CREATE TABLE ph_uuid (k uuid) PARTITION BY HASH (k);
CREATE TABLE plain (id int, v text);
CREATE SCHEMA s1;
CREATE TABLE s1.only_in_s1 (x int);
INSERT INTO s1.only_in_s1 VALUES (1), (2), (3);
";

const TABLES: &str = "
  [[databases.tables]]
  name = \"acc_bigint\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"acc_text\"
  shard_key = \"id\"
  key_type = \"text\"

  [[databases.tables]]
  name = \"acc_uuid\"
  shard_key = \"id\"
  key_type = \"uuid\"
";

const TWO: std::num::NonZeroU32 = match std::num::NonZeroU32::new(2) {
    Some(n) => n,
    None => unreachable!(),
};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 0,
            pool_size: 10,
            proxy_extra: "",
            tables: TABLES,
            admin: false,
            schema: SCHEMA,
        })
    })
}

fn bigint_key(i: usize) -> i64 {
    match i {
        0 => i64::MIN,
        1 => i64::MAX,
        _ => (i as i64 - 1000) * 7_919_000_003,
    }
}

fn text_key(i: usize) -> String {
    match i % 4 {
        0 => format!("user-{i}"),
        1 => format!("Ünïcødé-{i}-日本"),
        2 => format!("{i}"),
        _ => format!("a much longer key that spans several hash blocks #{i}"),
    }
}

fn uuid_key(i: usize) -> uuid::Uuid {
    let x = (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    uuid::Uuid::from_u128(x)
}

/// Inserts rows 0..n of one table, a third by each protocol path.
async fn insert_all<K, F>(
    h: &Harness,
    table: &str,
    n: usize,
    key: F,
    literal: fn(&K) -> String,
    shard: fn(&K) -> u32,
) where
    K: tokio_postgres::types::ToSql + Sync + Send + Clone,
    F: Fn(usize) -> K,
{
    let client = h.client().await;
    // (a) simple protocol with literals
    for i in (0..n).filter(|i| i % 3 == 0) {
        let k = key(i);
        client
            .simple_query(&format!(
                "INSERT INTO {table} (id, note) VALUES ({}, 'simple')",
                literal(&k)
            ))
            .await
            .unwrap_or_else(|e| panic!("simple insert {}: {e}", literal(&k)));
    }
    // (b) extended protocol with parameters
    for i in (0..n).filter(|i| i % 3 == 1) {
        let k = key(i);
        client
            .execute(
                &format!("INSERT INTO {table} (id, note) VALUES ($1, $2)"),
                &[&k, &"extended"],
            )
            .await
            .unwrap_or_else(|e| panic!("extended insert: {e}"));
    }
    // (c) one named prepared statement over 50 transactions, each on one shard
    let stmt = client
        .prepare(&format!("INSERT INTO {table} (id, note) VALUES ($1, $2)"))
        .await
        .unwrap();
    let mut by_shard: [Vec<K>; 2] = [Vec::new(), Vec::new()];
    for i in (0..n).filter(|i| i % 3 == 2) {
        let k = key(i);
        by_shard[shard(&k) as usize].push(k);
    }
    let mut txns = 0;
    for keys in &by_shard {
        for j in 0..25 {
            let chunk = keys.iter().skip(j).step_by(25);
            client.batch_execute("BEGIN").await.unwrap();
            for k in chunk {
                client.execute(&stmt, &[k, &"prepared"]).await.unwrap();
            }
            client.batch_execute("COMMIT").await.unwrap();
            txns += 1;
        }
    }
    assert!(txns >= 50, "{table}: only {txns} transactions");
}

/// On each shard directly: n rows in total, none where PostgreSQL's hash partitioning
/// would not put it.
async fn assert_placement(h: &Harness, table: &str, partitioned: &str, n: usize) {
    let mut total = 0;
    for shard in h.topo.pg_shards() {
        let row = shard
            .primary()
            .query(&format!(
                "SELECT count(*), count(*) FILTER (WHERE NOT satisfies_hash_partition('{partitioned}'::regclass, 2, {}, id)) FROM {table}",
                shard.index()
            ))
            .await
            .unwrap();
        let count: usize = row[0][0].as_deref().unwrap().parse().unwrap();
        let misplaced: usize = row[0][1].as_deref().unwrap().parse().unwrap();
        assert_eq!(
            misplaced,
            0,
            "{table}: rows on the wrong shard {}",
            shard.index()
        );
        assert!(
            count > n / 4,
            "{table}: shard {} got only {count} rows",
            shard.index()
        );
        total += count;
    }
    assert_eq!(total, n, "{table}: every row exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_land_on_postgres_hash_shard_by_every_protocol_path() {
    let h = harness();
    let n = 2000;
    insert_all(
        h,
        "acc_bigint",
        n,
        bigint_key,
        |k| k.to_string(),
        |k| shard_of(&ShardKey::Int(*k), TWO),
    )
    .await;
    insert_all(
        h,
        "acc_text",
        n,
        text_key,
        |k| format!("'{k}'"),
        |k| shard_of(&ShardKey::Text(k.as_bytes()), TWO),
    )
    .await;
    insert_all(
        h,
        "acc_uuid",
        n,
        uuid_key,
        |k| format!("'{k}'"),
        |k| shard_of(&ShardKey::Uuid(*k.as_bytes()), TWO),
    )
    .await;
    assert_placement(h, "acc_bigint", "ph_bigint", n).await;
    assert_placement(h, "acc_text", "ph_text", n).await;
    assert_placement(h, "acc_uuid", "ph_uuid", n).await;

    // Every row is read back by key through the proxy.
    let client = h.client().await;
    let by_bigint = client
        .prepare("SELECT note FROM acc_bigint WHERE id = $1")
        .await
        .unwrap();
    let by_text = client
        .prepare("SELECT note FROM acc_text WHERE id = $1")
        .await
        .unwrap();
    let by_uuid = client
        .prepare("SELECT note FROM acc_uuid WHERE id = $1")
        .await
        .unwrap();
    for i in 0..n {
        assert_eq!(
            client
                .query(&by_bigint, &[&bigint_key(i)])
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            client.query(&by_text, &[&text_key(i)]).await.unwrap().len(),
            1
        );
        assert_eq!(
            client.query(&by_uuid, &[&uuid_key(i)]).await.unwrap().len(),
            1
        );
    }
    // And by literal, through the simple protocol.
    let rows = client
        .simple_query(&format!(
            "SELECT note FROM acc_text WHERE id = '{}'",
            text_key(1)
        ))
        .await
        .unwrap();
    assert!(rows
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_runs_a_multi_statement_string() {
    let h = harness();
    let out = common::run(
        "psql",
        &[
            &h.url(),
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "INSERT INTO plain VALUES (1, 'a'); INSERT INTO plain VALUES (2, 'b'); SELECT count(*) FROM plain WHERE id IN (1, 2)",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "psql failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim().lines().last(), Some("2"), "{stdout}");
    // A string whose statements need different shards is refused with 0A000, not split.
    let client = h.client().await;
    let err = client
        .simple_query(
            "INSERT INTO acc_bigint VALUES (1, 'x'); INSERT INTO acc_bigint VALUES (2, 'y')",
        )
        .await;
    if let Err(e) = err {
        assert_eq!(e.code().map(|c| c.code()), Some("0A000"), "{e}");
    } else {
        // Both keys happen to share a shard: then it must have succeeded on that shard.
        assert_eq!(
            shard_of(&ShardKey::Int(1), TWO),
            shard_of(&ShardKey::Int(2), TWO)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_path_stays_in_effect_across_pooled_transactions() {
    let h = harness();
    let client = h.client().await;
    client
        .batch_execute("SET search_path = s1, public")
        .await
        .unwrap();
    // Another client churns the pool with its own settings meanwhile.
    let other = h.client().await;
    let churn = tokio::spawn(async move {
        for _ in 0..100 {
            other
                .batch_execute("SET application_name = 'churn'")
                .await
                .unwrap();
            let rows = other.query("SHOW search_path", &[]).await.unwrap();
            assert_eq!(rows[0].get::<_, String>(0), "\"$user\", public");
        }
    });
    for _ in 0..100 {
        let tx_rows = {
            client.batch_execute("BEGIN").await.unwrap();
            let rows = client
                .query("SELECT count(*) FROM only_in_s1", &[])
                .await
                .unwrap();
            client.batch_execute("COMMIT").await.unwrap();
            rows
        };
        assert_eq!(tx_rows[0].get::<_, i64>(0), 3);
        let path = client.query("SHOW search_path", &[]).await.unwrap();
        assert_eq!(path[0].get::<_, String>(0), "s1, public");
    }
    churn.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_share_a_pool_of_ten() {
    let h = harness();
    let mut tasks = Vec::new();
    for i in 0..200 {
        tasks.push(tokio::spawn(async move {
            let client = harness().client().await;
            for _ in 0..3 {
                let row = client
                    .query_one("SELECT $1::int + 1, pg_sleep(0.005)::text", &[&i])
                    .await
                    .unwrap();
                assert_eq!(row.get::<_, i32>(0), i + 1);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let _ = h;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_sleeping_query_within_a_second() {
    let h = harness();
    let client = h.client().await;
    let token = client.cancel_token();
    let sleeper = tokio::spawn(async move {
        let started = Instant::now();
        let err = client
            .simple_query("SELECT pg_sleep(10)")
            .await
            .unwrap_err();
        (err.code().map(|c| c.code().to_string()), started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled_at = Instant::now();
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let (code, took) = sleeper.await.unwrap();
    assert_eq!(code.as_deref(), Some("57014"));
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        cancelled_at.elapsed()
    );
    assert!(took < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_database_are_refused() {
    let h = harness();
    let bad = format!(
        "host=127.0.0.1 port={} user=app password=nope dbname=app",
        h.port
    );
    let err = tokio_postgres::connect(&bad, tokio_postgres::NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code().map(|c| c.code()), Some("28P01"), "{err}");
    let unknown = format!(
        "host=127.0.0.1 port={} user=ghost password=x dbname=app",
        h.port
    );
    let err = tokio_postgres::connect(&unknown, tokio_postgres::NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code().map(|c| c.code()), Some("28P01"), "{err}");
    let nodb = format!(
        "host=127.0.0.1 port={} user=app password=app dbname=nope",
        h.port
    );
    let err = tokio_postgres::connect(&nodb, tokio_postgres::NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code().map(|c| c.code()), Some("3D000"), "{err}");
}
