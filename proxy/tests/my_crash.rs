//! The XA crash matrix on MariaDB: a proxy process (the real binary) is aborted by a
//! failpoint at each step of a commit across two shards; a fresh proxy instance then
//! resolves what was left. Every transaction ends on both shards or on none, the ones
//! past the commit point are present, and `XA RECOVER` is empty on every primary.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use common::process::ProxyProcess;
use mysql_async::prelude::*;
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Topology;

const SCHEMA: &str = "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)";

/// The binary on its own ports, MySQL frontend only, in front of `topo`.
struct Proxy(ProxyProcess);

impl Proxy {
    fn start(topo: &Topology, failpoint: Option<&str>) -> Proxy {
        let toml = |port: u16, admin: u16| {
            let mut toml = format!(
                "[proxy]\nmysql_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin}\"\npool_size = 4\nrecovery_interval = \"100ms\"\ntwopc_grace = \"1s\"\n\n\
                 [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
                 [[databases]]\nname = \"app\"\nprotocol = \"mysql\"\nbackend_user = \"app\"\nbackend_password = \"app\"\n"
            );
            for shard in topo.mysql_shards() {
                toml.push_str(&shard.config_stanza(0));
            }
            toml.push_str("\n  [[databases.tables]]\n  name = \"accounts\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n");
            toml
        };
        Proxy(ProxyProcess::start(toml, failpoint))
    }

    /// `GET /health`: the status line and the body.
    async fn health(&self) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.0.admin.port()))
            .await
            .unwrap();
        s.write_all(b"GET /health HTTP/1.0\r\n\r\n").await.unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        let status = text.lines().next().unwrap_or_default().to_string();
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (status, body)
    }

    async fn conn(&self) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.0.port.port())
            .user(Some("app"))
            .pass(Some("app"))
            .db_name(Some("app"))
            .prefer_socket(false);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match mysql_async::Conn::new(opts.clone()).await {
                Ok(conn) => return conn,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("proxy did not come up: {e}"),
            }
        }
    }

    /// Waits for the process to end (a failpoint aborted it).
    fn wait_dead(&mut self) {
        self.0.wait_dead();
    }
}

fn key_on(shard: usize, from: i64) -> i64 {
    (from..)
        .find(|k| shard_of(&ShardKey::Int(*k), NonZeroU32::new(2).unwrap()) as usize == shard)
        .unwrap()
}

async fn count(topo: &Topology, shard: usize, sql: &str) -> i64 {
    topo.mysql(shard)
        .primary()
        .query_value(sql)
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

/// Prepared `sw_` XA branches on both primaries.
async fn prepared(topo: &Topology) -> usize {
    let mut n = 0;
    for s in 0..2 {
        let rows = topo.mysql(s).primary().query("XA RECOVER").await.unwrap();
        n += rows
            .iter()
            .filter(|r| {
                r.get(3)
                    .cloned()
                    .flatten()
                    .is_some_and(|x| x.starts_with("sw_"))
            })
            .count();
    }
    n
}

/// Runs one cross-shard transaction through a proxy that dies at `point`; returns the
/// two keys it wrote.
async fn crash_at(topo: &Topology, point: &str, base: i64) -> (i64, i64) {
    let (a, b) = (key_on(0, base), key_on(1, base));
    let mut proxy = Proxy::start(topo, Some(point));
    let mut conn = proxy.conn().await;
    conn.query_drop("BEGIN").await.unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({a}, 1)"
    ))
    .await
    .unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({b}, 1)"
    ))
    .await
    .unwrap();
    let result = conn.query_drop("COMMIT").await;
    assert!(
        result.is_err(),
        "{point}: COMMIT cannot succeed when the proxy dies during it"
    );
    proxy.wait_dead();
    if !matches!(point, "begun" | "committing_rest") {
        // Between the first prepare and the last commit something is prepared, and it
        // survives the crash (with two shards nothing is left at `committing_rest`).
        assert!(prepared(topo).await > 0, "{point}: nothing left prepared");
    }
    (a, b)
}

/// A fresh proxy resolves everything; returns whether the transaction's rows exist.
/// Meanwhile its `SHOW shardwire.transactions` lists what is still prepared.
async fn recovered(topo: &Topology, a: i64, b: i64) -> (bool, bool) {
    let fresh = Proxy::start(topo, None);
    let mut listed = false;
    if prepared(topo).await > 0 {
        let mut conn = fresh.conn().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let rows: Vec<(String, String, String, String, String)> =
                conn.query("SHOW shardwire.transactions").await.unwrap();
            listed = rows.iter().any(|r| r.0.starts_with("sw_"));
            if listed || prepared(topo).await == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "in-doubt branches were never listed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        conn.disconnect().await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while prepared(topo).await > 0 {
        assert!(
            Instant::now() < deadline,
            "prepared XA branches were not resolved"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let on_a = count(
        topo,
        0,
        &format!("SELECT count(*) FROM accounts WHERE id = {a}"),
    )
    .await;
    let on_b = count(
        topo,
        1,
        &format!("SELECT count(*) FROM accounts WHERE id = {b}"),
    )
    .await;
    assert_eq!(on_a, on_b, "keys {a}/{b}: on one shard but not the other");
    (on_a == 1, listed)
}

/// Two MariaDB shards (no replicas) with `accounts` on both.
async fn topology() -> Topology {
    let topo = Topology::builder()
        .mysql_shards(2)
        .fast(true)
        .start()
        .await
        .unwrap();
    for s in topo.mysql_shards() {
        s.primary().execute(SCHEMA).await.unwrap();
    }
    topo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_crash_point_ends_on_all_shards_or_none() {
    let topo = topology().await;
    let matrix = [
        ("begun", false),
        ("prepared_some", false),
        ("prepared_all", false),
        ("decided", true),
        ("committing_rest", true),
    ];
    for (i, (point, committed)) in matrix.into_iter().enumerate() {
        let (a, b) = crash_at(&topo, point, 1000 * (i as i64 + 1)).await;
        let (present, listed) = recovered(&topo, a, b).await;
        assert_eq!(present, committed, "crash point {point}");
        if matches!(point, "prepared_some" | "prepared_all") {
            // Rolled back only after the grace period: listed as in doubt meanwhile.
            assert!(
                listed,
                "{point}: SHOW shardwire.transactions listed nothing"
            );
        }
    }
    for s in 0..2 {
        let left = topo.mysql(s).primary().query("XA RECOVER").await.unwrap();
        assert!(left.is_empty(), "shard {s}: {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_shard_fails_its_statements_and_the_others_keep_working() {
    let topo = topology().await;
    let proxy = Proxy::start(&topo, None);
    let mut conn = proxy.conn().await;
    let (a, b) = (key_on(0, 100), key_on(1, 100));
    for k in [a, b] {
        conn.query_drop(format!(
            "INSERT INTO accounts (id, balance) VALUES ({k}, 1)"
        ))
        .await
        .unwrap();
    }
    assert_eq!(proxy.health().await.0, "HTTP/1.0 200 OK");
    topo.mysql(1).primary().kill9().await.unwrap();
    let (status, body) = proxy.health().await;
    assert_eq!(status, "HTTP/1.0 503 Service Unavailable", "{body}");
    assert!(body.contains("\"app/shard1/primary\""), "{body}");
    assert!(!body.contains("shard0"), "{body}");
    let err = conn
        .query_drop(format!("UPDATE accounts SET balance = 2 WHERE id = {b}"))
        .await
        .unwrap_err();
    match &err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1927, "{e:?}"),
        other => panic!("expected error 1927, got {other:?}"),
    }
    // The session and the other shard are fine.
    let v: Option<i64> = conn
        .query_first(format!("SELECT balance FROM accounts WHERE id = {a}"))
        .await
        .unwrap();
    assert_eq!(v, Some(1));
    topo.mysql(1).primary().restart().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The test bed's fast servers may lose their last commits to kill -9: upsert.
        match conn
            .query_drop(format!(
                "INSERT INTO accounts (id, balance) VALUES ({b}, 3) \
                 ON DUPLICATE KEY UPDATE balance = 3"
            ))
            .await
        {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "shard 1 never came back: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = count(
        &topo,
        1,
        &format!("SELECT balance FROM accounts WHERE id = {b}"),
    )
    .await;
    assert_eq!(v, 3);
    assert_eq!(proxy.health().await.0, "HTTP/1.0 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_statements_per_connection_are_capped() {
    let topo = topology().await;
    let proxy = Proxy::start(&topo, None);
    let mut conn = proxy.conn().await;
    // 1,200 distinct texts, each prepared and executed once (pool_size = 4).
    for i in 0..1200 {
        let v: Option<i64> = conn
            .exec_first(format!("SELECT {i} + ?"), (1,))
            .await
            .unwrap();
        assert_eq!(v, Some(i + 1));
    }
    let count: i64 = topo
        .mysql(0)
        .primary()
        .query_value("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'PREPARED_STMT_COUNT'")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        count <= 4 * 256,
        "{count} statements prepared on the server"
    );
    conn.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_settings_never_reach_another() {
    let topo = topology().await;
    let proxy = Proxy::start(&topo, None);
    // Clients whose only statement is a SET: their connections go back to the pool
    // carrying it.
    for set in [
        "SET @secret = 'a-secret'",
        "SET SESSION sql_mode = 'ANSI_QUOTES'",
    ] {
        let mut a = proxy.conn().await;
        a.query_drop(set).await.unwrap();
        a.disconnect().await.unwrap();
    }
    // A transaction caps innodb_lock_wait_timeout on its branches, then puts it back.
    let mut t = proxy.conn().await;
    t.query_drop("BEGIN").await.unwrap();
    for k in [key_on(0, 70), key_on(1, 70)] {
        t.query_drop(format!(
            "INSERT INTO accounts (id, balance) VALUES ({k}, 1)"
        ))
        .await
        .unwrap();
    }
    t.query_drop("COMMIT").await.unwrap();
    t.disconnect().await.unwrap();
    // pool_size = 4: these reads go through every pooled connection of shard 0.
    let mut b = proxy.conn().await;
    for _ in 0..12 {
        let wait: Option<i64> = b
            .query_first("SELECT @@innodb_lock_wait_timeout")
            .await
            .unwrap();
        assert_eq!(
            wait,
            Some(50),
            "a transaction's lock wait cap stayed on the connection"
        );
    }
    for _ in 0..12 {
        let (secret, mode): (Option<String>, String) = b
            .query_first("SELECT @secret, @@sql_mode")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(secret, None, "another client's user variable");
        assert!(
            !mode.contains("ANSI_QUOTES"),
            "another client's sql_mode: {mode}"
        );
    }
    b.disconnect().await.unwrap();
}
