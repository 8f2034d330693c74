//! Replica reads with per-session consistency against two real PostgreSQL shards, each with
//! two hot standbys. "Served by a replica" is proven by `pg_is_in_recovery()` evaluated by
//! the node that answered; lag is made with `pg_wal_replay_pause()`.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Harness, Spec};
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Shard;

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 2,
            pool_size: 8,
            proxy_extra: "monitor_interval = \"20ms\"\nmax_replica_lag = \"2s\"",
            tables: "\n  [[databases.tables]]\n  name = \"kv\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n",
            admin: true,
            schema: "CREATE TABLE kv (id bigint PRIMARY KEY, v int NOT NULL);",
        })
    })
}

/// These tests pause and resume replication; one at a time.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn shard_for(key: i64) -> &'static Shard {
    let n = std::num::NonZeroU32::new(2).unwrap();
    harness().topo.pg(shard_of(&ShardKey::Int(key), n) as usize)
}

async fn pause(shard: &Shard) {
    for r in shard.replicas() {
        r.pause_replay().await.unwrap();
    }
}

async fn resume(shard: &Shard) {
    for r in shard.replicas() {
        r.resume_replay().await.unwrap();
    }
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
}

/// (value, served by a replica) for one key, through the proxy.
async fn read(client: &tokio_postgres::Client, key: i64) -> (Option<i32>, bool) {
    let rows = client
        .simple_query(&format!(
            "SELECT v, pg_is_in_recovery() FROM kv WHERE id = {key}"
        ))
        .await
        .unwrap();
    for m in rows {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            return (r.get(0).map(|v| v.parse().unwrap()), r.get(1) == Some("t"));
        }
    }
    (None, false)
}

/// Reads until one is served by a replica (the monitor needs a poll or two).
async fn until_replica_serves(client: &tokio_postgres::Client, key: i64) -> (Option<i32>, bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = read(client, key).await;
        if r.1 || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn session_client(level: &str) -> tokio_postgres::Client {
    let c = harness().client().await;
    c.batch_execute(&format!("SET shardwire.read_consistency = '{level}'"))
        .await
        .unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reads_see_own_writes_while_replicas_paused() {
    let _s = serial().await;
    let key = 101;
    let shard = shard_for(key);
    let client = session_client("session").await;
    pause(shard).await;
    client
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    for i in 0..500 {
        let (v, _) = read(&client, key).await;
        assert_eq!(v, Some(1), "read {i} did not see the session's own write");
    }
    resume(shard).await;
    let (v, by_replica) = until_replica_serves(&client, key).await;
    assert!(
        by_replica,
        "after catch-up, session reads are served by replicas"
    );
    assert_eq!(v, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_reads_are_served_by_replicas_and_may_be_stale() {
    let _s = serial().await;
    let key = 202;
    let shard = shard_for(key);
    let writer = harness().client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let client = session_client("eventual").await;
    assert!(until_replica_serves(&client, key).await.1);
    pause(shard).await;
    writer
        .simple_query(&format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap();
    let mut stale = 0;
    for _ in 0..20 {
        let (v, by_replica) = read(&client, key).await;
        assert!(
            by_replica,
            "eventual reads go to replicas even when they lag"
        );
        if v == Some(1) {
            stale += 1;
        }
    }
    assert_eq!(stale, 20, "paused replicas return the old value");
    resume(shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_staleness_falls_back_to_the_primary_then_returns_to_replicas() {
    let _s = serial().await;
    let key = 303;
    let shard = shard_for(key);
    let client = session_client("bounded").await;
    client
        .batch_execute("SET shardwire.max_staleness = '300ms'")
        .await
        .unwrap();
    client
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    assert!(until_replica_serves(&client, key).await.1);
    pause(shard).await;
    client
        .simple_query(&format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..10 {
        let (v, by_replica) = read(&client, key).await;
        assert!(
            !by_replica,
            "replicas 500 ms behind exceed max_staleness 300ms"
        );
        assert_eq!(v, Some(2));
    }
    resume(shard).await;
    let (v, by_replica) = until_replica_serves(&client, key).await;
    assert!(by_replica);
    assert_eq!(v, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reads_are_monotonic_while_replicas_pause_and_resume() {
    let _s = serial().await;
    let key = 404;
    let shard = shard_for(key);
    let writer = harness().client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 0)"))
        .await
        .unwrap();
    let reader = session_client("session").await;
    let mut seen = 0;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for i in 0..1000 {
        if i % 10 == 0 {
            writer
                .simple_query(&format!("UPDATE kv SET v = v + 1 WHERE id = {key}"))
                .await
                .unwrap();
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng % 50 == 0 {
            let r = &shard.replicas()[(rng >> 8) as usize % 2];
            if rng % 3 == 0 {
                let _ = r.pause_replay().await;
            } else {
                let _ = r.resume_replay().await;
            }
        }
        let (v, _) = read(&reader, key).await;
        let v = v.unwrap();
        assert!(
            v >= seen,
            "read {i} went back in time: saw {seen}, then {v}"
        );
        seen = v;
    }
    resume(shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_carries_read_your_writes_to_another_connection() {
    let _s = serial().await;
    let key = 505;
    let shard = shard_for(key);
    let a = session_client("session").await;
    pause(shard).await;
    a.simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 7)"))
        .await
        .unwrap();
    let token: String = a
        .query_one("SHOW shardwire.session_token", &[])
        .await
        .unwrap()
        .get(0);
    let b = session_client("session").await;
    b.batch_execute(&format!("SET shardwire.session_token = '{token}'"))
        .await
        .unwrap();
    for _ in 0..20 {
        assert_eq!(
            read(&b, key).await.0,
            Some(7),
            "B sees A's write through the token"
        );
    }
    let err = b
        .batch_execute("SET shardwire.session_token = 'sw1.garbage'")
        .await
        .unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "22023");
    assert!(db.message().contains("session_token"), "{}", db.message());
    resume(shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_concern_majority_waits_for_one_of_two_replicas() {
    let _s = serial().await;
    let key = 606;
    let shard = shard_for(key);
    let client = session_client("strong").await;
    client
        .batch_execute("SET shardwire.write_concern = 'majority'; SET shardwire.write_concern_timeout = '700ms'")
        .await
        .unwrap();
    // One replica paused: the other confirms, COMMIT succeeds.
    shard.replica(0).pause_replay().await.unwrap();
    client
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    let confirmed = shard
        .replica(1)
        .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
        .await
        .unwrap();
    assert_eq!(
        confirmed.as_deref(),
        Some("1"),
        "the unpaused replica has the row when COMMIT returns"
    );
    // Both paused: an error after the timeout that says the commit stands on the primary.
    shard.replica(1).pause_replay().await.unwrap();
    let started = Instant::now();
    let err = client
        .simple_query(&format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "58000", "{}", db.message());
    assert!(
        db.message().contains("IS committed on the primary"),
        "{}",
        db.message()
    );
    assert!(db.message().contains("0 of the 1"), "{}", db.message());
    assert!(started.elapsed() >= Duration::from_millis(700));
    let on_primary = shard
        .primary()
        .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
        .await
        .unwrap();
    assert_eq!(
        on_primary.as_deref(),
        Some("2"),
        "the write is committed on the primary"
    );
    resume(shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_transaction_runs_on_one_replica() {
    let _s = serial().await;
    let key = 707;
    let shard = shard_for(key);
    let writer = harness().client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let client = session_client("eventual").await;
    assert!(until_replica_serves(&client, key).await.1);
    client.batch_execute("BEGIN READ ONLY").await.unwrap();
    let q = format!(
        "SELECT pg_is_in_recovery()::text || ':' || inet_server_port() FROM kv WHERE id = {key}"
    );
    let first: String = client.query_one(&q, &[]).await.unwrap().get(0);
    assert!(first.starts_with("true:"), "served by a replica: {first}");
    for _ in 0..10 {
        let again: String = client.query_one(&q, &[]).await.unwrap().get(0);
        assert_eq!(again, first, "the transaction stays on one replica");
    }
    client.batch_execute("COMMIT").await.unwrap();
    // A read-write transaction reads on the primary.
    client.batch_execute("BEGIN").await.unwrap();
    let rw: String = client.query_one(&q, &[]).await.unwrap().get(0);
    assert!(rw.starts_with("false:"), "{rw}");
    client.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_replica_under_eventual_load_costs_no_client_an_error() {
    let _s = serial().await;
    let key = 808;
    let shard = shard_for(key);
    let writer = harness().client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let client = session_client("eventual").await;
            let (mut reads, mut by_replica) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let rows = client
                    .query(
                        "SELECT v, pg_is_in_recovery() FROM kv WHERE id = $1",
                        &[&key],
                    )
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "a client saw an error: {e} {:?}",
                            e.as_db_error().map(|d| (d.code().code(), d.message()))
                        )
                    });
                assert_eq!(rows[0].get::<_, i32>(0), 1);
                reads += 1;
                by_replica += u32::from(rows[0].get::<_, bool>(1));
            }
            (reads, by_replica)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let victim = shard.replica(0);
    let node = format!("app/shard{}/replica0", shard.index());
    let admin = harness().admin_port.unwrap();
    victim.kill9().await.unwrap();
    // The monitor (every 20 ms here) marks it down at its next polls.
    let killed = Instant::now();
    loop {
        let text = common::scrape(admin).await;
        if common::metric(&text, "shardwire_backend_up", &[("node", &node)]) == 0.0 {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(1),
            "backend_up of the killed replica still 1 after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let text = common::scrape(admin).await;
    assert!(
        common::metric(&text, "shardwire_backend_errors_total", &[("node", &node)]) > 0.0,
        "no backend error counted for the killed replica\n{text}"
    );
    assert!(
        common::metric(
            &text,
            "shardwire_clients_connected",
            &[("protocol", "postgres")]
        ) >= 1.0
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        let (reads, by_replica) = t.await.unwrap();
        assert!(reads > 0);
        total += by_replica;
    }
    assert!(total > 0, "replicas served reads");
    // Back after restart: reads reach the restarted replica again.
    victim.restart().await.unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let client = session_client("eventual").await;
    let port = victim.port();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let served: i32 = client
            .query_one("SELECT inet_server_port() FROM kv WHERE id = $1", &[&key])
            .await
            .unwrap()
            .get(0);
        if served == i32::from(port) {
            let text = common::scrape(admin).await;
            assert_eq!(
                common::metric(&text, "shardwire_backend_up", &[("node", &node)]),
                1.0,
                "backend_up of the restarted replica"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted replica is used again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_where_reads_went_and_how_stale_replicas_are() {
    let _s = serial().await;
    let h = harness();
    let admin = h.admin_port.unwrap();
    let key = 909;
    let shard = shard_for(key);
    let writer = h.client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let client = session_client("eventual").await;
    assert!(until_replica_serves(&client, key).await.1);
    let labels = [("level", "eventual"), ("served_by", "replica")];
    let before = common::metric(
        &common::scrape(admin).await,
        "shardwire_consistency_reads_total",
        &labels,
    );
    for _ in 0..100 {
        read(&client, key).await;
    }
    let text = common::scrape(admin).await;
    let after = common::metric(&text, "shardwire_consistency_reads_total", &labels);
    assert!(
        after - before >= 90.0,
        "replica reads rose by {}",
        after - before
    );
    assert_eq!(
        common::metric(&text, "shardwire_consistency_violations_total", &[]),
        0.0
    );
    // A paused replica's staleness grows.
    let node = format!("app/shard{}/replica0", shard.index());
    shard.replica(0).pause_replay().await.unwrap();
    writer
        .simple_query(&format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let text = common::scrape(admin).await;
    let stale = common::metric(
        &text,
        "shardwire_replica_staleness_seconds",
        &[("node", &node)],
    );
    assert!(
        stale >= 0.4,
        "staleness of the paused replica: {stale}\n{text}"
    );
    assert!(common::metric(&text, "shardwire_replica_lag_bytes", &[("node", &node)]) > 0.0);
    assert_eq!(
        common::metric(&text, "shardwire_backend_up", &[("node", &node)]),
        1.0
    );
    resume(shard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_options_set_the_level_and_a_hint_forces_the_primary() {
    let _s = serial().await;
    let h = harness();
    let key = 1001;
    let shard = shard_for(key);
    let writer = h.client().await;
    writer
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    let conn_str = format!(
        "{} options='-c shardwire.read_consistency=eventual'",
        h.conn_str()
    );
    let (client, conn) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let level: String = client
        .query_one("SHOW shardwire.read_consistency", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(level, "eventual");
    assert!(until_replica_serves(&client, key).await.1);
    for sql in [
        format!("/* shardwire:primary */ SELECT pg_is_in_recovery() FROM kv WHERE id = {key}"),
        format!("SELECT pg_is_in_recovery() FROM kv WHERE id = {key} /* shardwire:primary */"),
    ] {
        let in_recovery: bool = client.query_one(sql.as_str(), &[]).await.unwrap().get(0);
        assert!(
            !in_recovery,
            "the hint sends the read to the primary: {sql}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_lagging_past_max_replica_lag_is_banned_until_it_catches_up() {
    let _s = serial().await;
    let h = harness();
    let key = 1101;
    let shard = shard_for(key);
    let client = session_client("eventual").await;
    client
        .simple_query(&format!("INSERT INTO kv (id, v) VALUES ({key}, 1)"))
        .await
        .unwrap();
    shard.wait_caught_up(Duration::from_secs(20)).await.unwrap();
    assert!(until_replica_serves(&client, key).await.1);
    let labels = [("level", "eventual"), ("reason", "no_healthy_replica")];
    let admin = h.admin_port.unwrap();
    let before = common::metric(
        &common::scrape(admin).await,
        "shardwire_consistency_fallbacks_total",
        &labels,
    );
    pause(shard).await;
    client
        .simple_query(&format!("UPDATE kv SET v = 2 WHERE id = {key}"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (v, by_replica) = read(&client, key).await;
    assert!(
        !by_replica,
        "both replicas are past max_replica_lag: the primary serves"
    );
    assert_eq!(v, Some(2));
    let after = common::metric(
        &common::scrape(admin).await,
        "shardwire_consistency_fallbacks_total",
        &labels,
    );
    assert!(after > before, "the fallback is counted with its reason");
    resume(shard).await;
    let (v, by_replica) = until_replica_serves(&client, key).await;
    assert!(by_replica, "re-admitted after catching up");
    assert_eq!(v, Some(2));
}

/// The property end to end: after a COMMIT across shards, `session` reads on both shards
/// see it while the replicas lag: the position that counts is each shard's commit, which
/// the coordinator asks for after COMMIT PREPARED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reads_see_a_two_phase_commit_on_every_shard() {
    let _s = serial().await;
    // Two keys on different shards.
    let a = 7001;
    let b = (7002..)
        .find(|k| !std::ptr::eq(shard_for(*k), shard_for(a)))
        .unwrap();
    let client = session_client("session").await;
    for key in [a, b] {
        pause(shard_for(key)).await;
    }
    client.batch_execute("BEGIN").await.unwrap();
    for key in [a, b] {
        client
            .batch_execute(&format!("INSERT INTO kv (id, v) VALUES ({key}, 2)"))
            .await
            .unwrap();
    }
    client.batch_execute("COMMIT").await.unwrap();
    for i in 0..100 {
        for key in [a, b] {
            let (v, by_replica) = read(&client, key).await;
            assert_eq!(
                v,
                Some(2),
                "read {i} of {key} missed the session's own commit"
            );
            assert!(!by_replica, "a paused replica cannot have the commit");
        }
    }
    for key in [a, b] {
        resume(shard_for(key)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_concern_covers_every_shard_of_a_two_phase_commit() {
    let _s = serial().await;
    let a = 8001;
    let b = (8002..)
        .find(|k| !std::ptr::eq(shard_for(*k), shard_for(a)))
        .unwrap();
    let client = session_client("strong").await;
    client
        .batch_execute(
            "SET shardwire.write_concern = 'all'; SET shardwire.write_concern_timeout = '700ms'",
        )
        .await
        .unwrap();
    let transfer = |v: i32| {
        format!(
            "BEGIN; INSERT INTO kv (id, v) VALUES ({a}, {v}) ON CONFLICT (id) DO UPDATE SET v = {v}"
        )
    };
    // Every replica replays: COMMIT returns when all of them have both rows.
    client.batch_execute(&transfer(1)).await.unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO kv (id, v) VALUES ({b}, 1) ON CONFLICT (id) DO UPDATE SET v = 1"
        ))
        .await
        .unwrap();
    client.batch_execute("COMMIT").await.unwrap();
    for key in [a, b] {
        for r in shard_for(key).replicas() {
            let v = r
                .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
                .await
                .unwrap();
            assert_eq!(
                v.as_deref(),
                Some("1"),
                "replica of key {key} has the commit when COMMIT returns"
            );
        }
    }
    // One replica of the second shard paused: COMMIT says the commit stands but the
    // concern was not met.
    shard_for(b).replica(0).pause_replay().await.unwrap();
    client.batch_execute(&transfer(2)).await.unwrap();
    client
        .batch_execute(&format!("UPDATE kv SET v = 2 WHERE id = {b}"))
        .await
        .unwrap();
    let err = client.batch_execute("COMMIT").await.unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "58000", "{}", db.message());
    assert!(db.message().contains("IS committed"), "{}", db.message());
    resume(shard_for(b)).await;
    for key in [a, b] {
        let v = shard_for(key)
            .primary()
            .query_value(&format!("SELECT v FROM kv WHERE id = {key}"))
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("2"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_views_list_shards_replicas_pools_and_stats() {
    let h = harness();
    let client = h.client().await;
    // Simple protocol.
    let rows: Vec<_> = client
        .simple_query("SHOW shardwire.shards")
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(2).unwrap_or("").to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(rows, ["app/shard0/primary", "app/shard1/primary"]);
    // Extended protocol (Describe gives the columns).
    let replica_count: usize = h.topo.pg_shards().iter().map(|s| s.replicas().len()).sum();
    let replicas = client.query("SHOW shardwire.replicas", &[]).await.unwrap();
    assert_eq!(replicas.len(), replica_count);
    assert_eq!(replicas[0].columns()[2].name(), "node");
    let pools = client.query("SHOW shardwire.pools", &[]).await.unwrap();
    assert_eq!(pools.len(), 2 + replica_count, "every primary and replica");
    client
        .simple_query("SELECT v FROM kv WHERE id = 424242")
        .await
        .unwrap();
    let stats = client.query("SHOW shardwire.stats", &[]).await.unwrap();
    let lookups: i64 = (1..=2)
        .map(|c| stats[0].get::<_, String>(c).parse::<i64>().unwrap())
        .sum();
    assert!(lookups > 0, "the plan cache counted no lookup");
}
