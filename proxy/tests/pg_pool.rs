//! Transaction pooling's edges against a real PostgreSQL: an exhausted pool answers 53300
//! naming the node, a client that vanishes inside a transaction leaves nothing behind for
//! the next client, and a server connection that dies mid-query reaches the client as
//! 08006 while the pool heals.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{Harness, Spec};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 1,
            replicas: 0,
            pool_size: 2,
            proxy_extra: "pool_timeout = \"300ms\"",
            tables: "",
            admin: false,
            schema: "CREATE TABLE notes (id int PRIMARY KEY, v text);",
        })
    })
}

/// Tests here hold connections of a pool of two; run them one at a time.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_answers_53300_naming_the_node() {
    let _serial = serial().await;
    let h = harness();
    let a = h.client().await;
    let b = h.client().await;
    // Two open transactions hold both server connections.
    for c in [&a, &b] {
        c.batch_execute("BEGIN; SELECT 1").await.unwrap();
    }
    let c = h.client().await;
    let err = c.simple_query("SELECT 1").await.unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "53300");
    assert!(
        db.message().contains("app/shard0/primary"),
        "{}",
        db.message()
    );
    for x in [&a, &b] {
        x.batch_execute("COMMIT").await.unwrap();
    }
    // Free again.
    c.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_vanishing_inside_a_transaction_leaves_nothing_behind() {
    let _serial = serial().await;
    let h = harness();
    {
        let doomed = h.client().await;
        doomed
            .batch_execute("BEGIN; INSERT INTO notes VALUES (1, 'uncommitted')")
            .await
            .unwrap();
        // Dropped here without COMMIT: the socket closes mid-transaction.
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Every pooled connection a new client can get is outside any transaction, and the
    // row was never committed.
    let clients = [h.client().await, h.client().await];
    for c in &clients {
        c.batch_execute("BEGIN").await.unwrap();
        let rows = c
            .query("SELECT count(*) FROM notes WHERE id = 1", &[])
            .await
            .unwrap();
        assert_eq!(rows[0].get::<_, i64>(0), 0);
    }
    for c in &clients {
        c.batch_execute("COMMIT").await.unwrap();
    }
    let direct = h.topo.pg(0).primary();
    assert_eq!(
        direct
            .query_value("SELECT count(*) FROM notes")
            .await
            .unwrap()
            .as_deref(),
        Some("0")
    );
    let idle_in_txn = direct
        .query_value(
            "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'",
        )
        .await
        .unwrap();
    assert_eq!(idle_in_txn.as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dying_mid_query_is_08006_and_the_pool_heals() {
    let _serial = serial().await;
    let h = harness();
    let mut raw = common::raw::Raw::login(h.port).await;
    raw.send_frame(b'Q', b"SELECT pg_sleep(5)\0").await;
    let direct = h.topo.pg(0).primary();
    // Kill the server process serving the sleep.
    let mut killed = false;
    for _ in 0..100 {
        let n = direct
            .query_value(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE query = 'SELECT pg_sleep(5)' AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        if n.as_deref() == Some("1") {
            killed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(killed, "the sleeping backend was found and terminated");
    let (tags, codes) = raw.read_until_ready().await;
    assert_eq!(tags.last(), Some(&b'Z'), "{tags:?}");
    assert!(codes.contains(&"08006".to_string()), "{codes:?}");
    // The same client goes on, on a fresh server connection.
    raw.send_frame(b'Q', b"SELECT 41 + 1\0").await;
    let (tags, codes) = raw.read_until_ready().await;
    assert!(codes.is_empty(), "{codes:?}");
    assert!(tags.contains(&b'D'), "{tags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_status_changes_reach_the_client() {
    let _serial = serial().await;
    let h = harness();
    let mut raw = common::raw::Raw::login(h.port).await;
    raw.send_frame(b'Q', b"SET application_name = 'renamed'\0")
        .await;
    let mut reported = None;
    while let Some((tag, body)) = raw.read_frame().await {
        if tag == b'S' {
            let text = String::from_utf8_lossy(&body).to_string();
            let mut parts = text.split('\0');
            if parts.next() == Some("application_name") {
                reported = parts.next().map(str::to_string);
            }
        }
        if tag == b'Z' {
            break;
        }
    }
    assert_eq!(reported.as_deref(), Some("renamed"));
}
