//! Replica reads on the MySQL frontend, on MariaDB GTID replicas: `session` reads see the
//! session's writes while replicas stand still, `eventual` reads are served by replicas
//! (the serving node's `@@server_id` says which), `strong` reads by the primary.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::mysql::{start_mysql, MyHarness, MySpec};
use mysql_async::prelude::*;
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Shard;

const SCHEMA: &str = "CREATE TABLE kv (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)";

const TABLES: &str = "
  [[databases.tables]]
  name = \"kv\"
  shard_key = \"id\"
  key_type = \"bigint\"
";

fn harness() -> &'static MyHarness {
    static H: OnceLock<MyHarness> = OnceLock::new();
    H.get_or_init(|| {
        start_mysql(MySpec {
            shards: 2,
            replicas: 1,
            pool_size: 8,
            proxy_extra: "monitor_interval = \"20ms\"",
            tables: TABLES,
            schema: SCHEMA,
        })
    })
}

/// Tests pause replication; they must not overlap.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn shard_for(key: i64) -> &'static Shard {
    let n = shard_of(&ShardKey::Int(key), NonZeroU32::new(2).unwrap());
    harness().topo.mysql(n as usize)
}

async fn server_id(node: &shardwire_testbed::Node) -> String {
    node.query_value("SELECT @@server_id")
        .await
        .unwrap()
        .unwrap()
}

async fn session(level: &str) -> mysql_async::Conn {
    let mut conn = harness().conn().await;
    conn.query_drop(format!("SET shardwire.read_consistency = '{level}'"))
        .await
        .unwrap();
    conn
}

/// The value of `key` (`None` when the serving node has no such row) and the
/// `@@server_id` of the node that answered (empty when no row came back).
async fn read(conn: &mut mysql_async::Conn, key: i64) -> (Option<i64>, String) {
    let row: Option<(i64, String)> = conn
        .query_first(format!(
            "SELECT v, CAST(@@server_id AS CHAR) FROM kv WHERE id = {key}"
        ))
        .await
        .unwrap();
    match row {
        Some((v, id)) => (Some(v), id),
        None => (None, String::new()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reads_see_own_writes_while_replicas_stand_still() {
    let _s = serial().await;
    let key = 101;
    let shard = shard_for(key);
    let replica_id = server_id(shard.replica(0)).await;
    let mut conn = session("session").await;
    conn.query_drop("SET shardwire.max_wait = '2ms'")
        .await
        .unwrap();
    shard.replica(0).pause_replay().await.unwrap();
    conn.query_drop(format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    for i in 0..500 {
        let (v, _) = read(&mut conn, key).await;
        assert_eq!(v, Some(1), "read {i} did not see the session's own write");
    }
    shard.replica(0).resume_replay().await.unwrap();
    // Once the replica has replayed the write, session reads go back to it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (v, served_by) = read(&mut conn, key).await;
        assert_eq!(v, Some(1));
        if served_by == replica_id {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "session reads never returned to the replica"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    conn.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_reads_are_served_by_replicas_and_strong_by_primaries() {
    let _s = serial().await;
    let shard0 = harness().topo.mysql(0);
    let replica_id = server_id(shard0.replica(0)).await;
    let primary_id = server_id(shard0.primary()).await;
    assert_ne!(replica_id, primary_id);
    let mut eventual = session("eventual").await;
    // The monitor needs a poll or two before it trusts the replica.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut served_by_replica = 0;
    let mut reads = 0;
    while served_by_replica < 100 {
        let id: String = eventual
            .query_first("SELECT CAST(@@server_id AS CHAR)")
            .await
            .unwrap()
            .unwrap();
        reads += 1;
        if id == replica_id {
            served_by_replica += 1;
        } else {
            assert!(
                Instant::now() < deadline,
                "eventual reads never reached the replica"
            );
        }
    }
    assert!(reads < 200, "{reads} reads for 100 on the replica");
    let mut strong = session("strong").await;
    for _ in 0..20 {
        let id: String = strong
            .query_first("SELECT CAST(@@server_id AS CHAR)")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(id, primary_id, "a strong read was served by a replica");
    }
    // Writes always go to the primary, whatever the level.
    eventual
        .query_drop("INSERT INTO kv (id, v) VALUES (303, @@server_id)")
        .await
        .unwrap();
    let rows = shard_for(303)
        .primary()
        .query("SELECT v FROM kv WHERE id = 303")
        .await
        .unwrap();
    let writer = server_id(shard_for(303).primary()).await;
    assert_eq!(rows, vec![vec![Some(writer)]]);
    eventual.disconnect().await.unwrap();
    strong.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_concern_holds_the_ok_until_a_replica_replayed_the_write() {
    let _s = serial().await;
    let key = 404;
    let shard = shard_for(key);
    let mut conn = session("strong").await;
    conn.query_drop("SET shardwire.write_concern = '1'")
        .await
        .unwrap();
    conn.query_drop("SET shardwire.write_concern_timeout = '300ms'")
        .await
        .unwrap();
    // Replicas replaying: the write is acknowledged once one has it.
    conn.query_drop(format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    let on_replica = shard
        .replica(0)
        .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
        .await
        .unwrap();
    assert_eq!(
        on_replica.as_deref(),
        Some("1"),
        "acknowledged before the replica had it"
    );
    // Replica stopped: the client hears that the write IS committed on the primary only.
    shard.replica(0).pause_replay().await.unwrap();
    let err = conn
        .query_drop(format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap_err();
    shard.replica(0).resume_replay().await.unwrap();
    match err {
        mysql_async::Error::Server(e) => {
            assert!(e.message.contains("IS committed"), "{e:?}");
        }
        other => panic!("expected a write concern error, got {other:?}"),
    }
    let on_primary = shard
        .primary()
        .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
        .await
        .unwrap();
    assert_eq!(on_primary.as_deref(), Some("2"));
    // In a transaction across shards, COMMIT waits for every written shard.
    let other = (key + 1..)
        .find(|k| shard_for(*k).index() != shard.index())
        .unwrap();
    conn.query_drop("BEGIN").await.unwrap();
    conn.query_drop(format!("INSERT INTO kv (id, v) VALUES ({}, 3)", key + 1000))
        .await
        .unwrap();
    conn.query_drop(format!("INSERT INTO kv (id, v) VALUES ({other}, 3)"))
        .await
        .unwrap();
    conn.query_drop("COMMIT").await.unwrap();
    for k in [key + 1000, other] {
        let v = shard_for(k)
            .replica(0)
            .query_value(&format!("SELECT v FROM kv WHERE id = {k}"))
            .await
            .unwrap();
        assert_eq!(
            v.as_deref(),
            Some("3"),
            "key {k} not on its replica at COMMIT's OK"
        );
    }
    conn.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_carries_read_your_writes_to_another_connection() {
    let _s = serial().await;
    let key = 505;
    let shard = shard_for(key);
    let mut writer = session("session").await;
    shard.replica(0).pause_replay().await.unwrap();
    writer
        .query_drop(format!("INSERT INTO kv (id, v) VALUES ({key}, 5)"))
        .await
        .unwrap();
    let token: String = writer
        .query_first("SHOW shardwire.session_token")
        .await
        .unwrap()
        .unwrap();
    let mut reader = session("session").await;
    reader
        .query_drop("SET shardwire.max_wait = '2ms'")
        .await
        .unwrap();
    reader
        .query_drop(format!("SET shardwire.session_token = '{token}'"))
        .await
        .unwrap();
    for _ in 0..20 {
        let (v, _) = read(&mut reader, key).await;
        assert_eq!(v, Some(5), "the token's write was not visible");
    }
    let bad = reader
        .query_drop("SET shardwire.session_token = 'garbage'")
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("session_token"), "{bad}");
    shard.replica(0).resume_replay().await.unwrap();
    writer.disconnect().await.unwrap();
    reader.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_reads_skip_a_replica_staler_than_the_bound() {
    let _s = serial().await;
    let key = 606;
    let shard = shard_for(key);
    let primary_id = server_id(shard.primary()).await;
    let replica_id = server_id(shard.replica(0)).await;
    let mut writer = session("strong").await;
    writer
        .query_drop(format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    shard.replica(0).pause_replay().await.unwrap();
    writer
        .query_drop(format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut bounded = session("bounded").await;
    bounded
        .query_drop("SET shardwire.max_staleness = '300ms'")
        .await
        .unwrap();
    for _ in 0..10 {
        let (v, by) = read(&mut bounded, key).await;
        assert_eq!(
            (v, by.as_str()),
            (Some(2), primary_id.as_str()),
            "a replica 700 ms behind served a 300ms-bounded read"
        );
    }
    let mut eventual = session("eventual").await;
    let (v, by) = read(&mut eventual, key).await;
    assert_eq!(
        (v, by.as_str()),
        (Some(1), replica_id.as_str()),
        "eventual reads may be stale"
    );
    // The admin view shows the paused replica behind its primary.
    let node = format!("app/shard{}/replica0", shard.index());
    let rows: Vec<mysql_async::Row> = writer.query("SHOW shardwire.replicas").await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.get::<String, _>(2).as_deref() == Some(node.as_str()))
        .unwrap_or_else(|| panic!("{node} not listed"));
    let lag: u64 = row.get::<String, _>(6).unwrap().parse().unwrap();
    let staleness: u64 = row.get::<String, _>(7).unwrap().parse().unwrap();
    assert!(lag >= 1, "lag {lag}");
    assert!(staleness >= 400, "staleness {staleness} ms");
    for view in ["shardwire.shards", "shardwire.pools", "shardwire.stats"] {
        let rows: Vec<mysql_async::Row> = writer.query(format!("SHOW {view}")).await.unwrap();
        assert!(!rows.is_empty(), "{view}");
    }
    let mut plain = mysql_async::Conn::new(harness().opts("sha2", "sha2pass"))
        .await
        .unwrap();
    let refused = plain.query_drop("SHOW shardwire.pools").await.unwrap_err();
    assert!(refused.to_string().contains("admin"), "{refused}");
    plain.disconnect().await.unwrap();
    shard.replica(0).resume_replay().await.unwrap();
    for conn in [writer, bounded, eventual] {
        conn.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_transactions_run_on_replicas_and_refuse_writes() {
    let _s = serial().await;
    let shard0 = harness().topo.mysql(0);
    let replica_id = server_id(shard0.replica(0)).await;
    let primary_id = server_id(shard0.primary()).await;
    let mut eventual = session("eventual").await;
    // Until the monitor trusts the replica, the first transactions may use the primary.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        eventual
            .query_drop("START TRANSACTION READ ONLY")
            .await
            .unwrap();
        let first: String = eventual
            .query_first("SELECT CAST(@@server_id AS CHAR)")
            .await
            .unwrap()
            .unwrap();
        let second: String = eventual
            .query_first("SELECT CAST(@@server_id AS CHAR)")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first, second, "a READ ONLY transaction moved between nodes");
        let write = eventual
            .query_drop("INSERT INTO kv (id, v) VALUES (707, 1)")
            .await
            .unwrap_err();
        assert!(write.to_string().contains("READ ONLY"), "{write}");
        eventual.query_drop("COMMIT").await.unwrap();
        if first == replica_id {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "READ ONLY transactions never used the replica"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut strong = session("strong").await;
    strong
        .query_drop("START TRANSACTION READ ONLY")
        .await
        .unwrap();
    let id: String = strong
        .query_first("SELECT CAST(@@server_id AS CHAR)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id, primary_id);
    strong.query_drop("COMMIT").await.unwrap();
    for conn in [eventual, strong] {
        conn.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_reads_across_shards_are_served_by_replicas() {
    let _s = serial().await;
    // A row on each shard, replicated.
    let mut writer = session("strong").await;
    for key in [
        808,
        (809..)
            .find(|k| shard_for(*k).index() != shard_for(808).index())
            .unwrap(),
    ] {
        writer
            .query_drop(format!(
                "INSERT INTO kv (id, v) VALUES ({key}, 8) ON DUPLICATE KEY UPDATE v = 8"
            ))
            .await
            .unwrap();
        shard_for(key)
            .wait_caught_up(Duration::from_secs(20))
            .await
            .unwrap();
    }
    writer.disconnect().await.unwrap();
    let mut eventual = session("eventual").await;
    let replica_ids = [
        server_id(harness().topo.mysql(0).replica(0)).await,
        server_id(harness().topo.mysql(1).replica(0)).await,
    ];
    // A read of every shard, grouped by the node that answered (server ids are unique
    // within a shard: the primaries' differ from their replicas').
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut ids: Vec<String> = eventual
            .query("SELECT DISTINCT CAST(@@server_id AS CHAR) FROM kv")
            .await
            .unwrap();
        ids.sort();
        let mut want = replica_ids.to_vec();
        want.sort();
        want.dedup();
        if ids == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scattered eventual reads never used both replicas: {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eventual.disconnect().await.unwrap();
}
