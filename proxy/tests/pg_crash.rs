//! The two-phase-commit crash matrix: a proxy process (the real binary) is aborted by a
//! failpoint at each step of a commit across two shards; a fresh proxy instance then
//! resolves what was left. Every transaction ends on both shards or on none, the ones
//! past the commit point are present, and no `sw_` prepared transaction remains. Also:
//! a shard primary killed with prepared transactions and restarted.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use common::process::ProxyProcess;
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Topology;

const SCHEMA: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL)";

/// The binary on its own port, PostgreSQL frontend only, in front of `topo`.
struct Proxy(ProxyProcess);

impl Proxy {
    fn start(topo: &Topology, failpoint: Option<&str>) -> Proxy {
        let toml = |port: u16, _admin: u16| {
            let mut toml = format!(
                "[proxy]\npostgres_listen = \"127.0.0.1:{port}\"\npool_size = 4\nrecovery_interval = \"100ms\"\ntwopc_grace = \"1s\"\n\n\
                 [[users]]\nname = \"app\"\npassword = \"app\"\n\n\
                 [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n"
            );
            for shard in topo.pg_shards() {
                toml.push_str(&shard.config_stanza(0));
            }
            toml.push_str("\n  [[databases.tables]]\n  name = \"accounts\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n");
            toml
        };
        Proxy(ProxyProcess::start(toml, failpoint))
    }

    async fn client(&self) -> tokio_postgres::Client {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let conn = format!(
                "host=127.0.0.1 port={} user=app password=app dbname=app",
                self.0.port.port()
            );
            match tokio_postgres::connect(&conn, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return client;
                }
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
    topo.pg(shard)
        .primary()
        .query_value(sql)
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

async fn prepared(topo: &Topology) -> i64 {
    let mut n = 0;
    for s in 0..2 {
        n += count(
            topo,
            s,
            "SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'sw\\_%'",
        )
        .await;
    }
    n
}

/// Runs one cross-shard transaction through a proxy that dies at `point`; returns the
/// two keys it wrote.
async fn crash_at(topo: &Topology, point: &str, base: i64) -> (i64, i64) {
    let (a, b) = (key_on(0, base), key_on(1, base));
    let mut proxy = Proxy::start(topo, Some(point));
    let client = proxy.client().await;
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({a}, 1)"
        ))
        .await
        .unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({b}, 1)"
        ))
        .await
        .unwrap();
    let result = client.batch_execute("COMMIT").await;
    assert!(
        result.is_err(),
        "{point}: COMMIT cannot succeed when the proxy dies during it"
    );
    proxy.wait_dead();
    (a, b)
}

/// A fresh proxy resolves everything; returns whether the transaction's rows exist.
async fn recovered(topo: &Topology, a: i64, b: i64) -> bool {
    let _fresh = Proxy::start(topo, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    while prepared(topo).await > 0 {
        assert!(
            Instant::now() < deadline,
            "prepared transactions were not resolved"
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
    on_a == 1
}

async fn topology() -> Topology {
    let topo = Topology::builder()
        .pg_shards(2)
        .fast(true)
        .start()
        .await
        .unwrap();
    for s in topo.pg_shards() {
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
        assert_eq!(
            recovered(&topo, a, b).await,
            committed,
            "crash point {point}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_killed_with_prepared_transactions_is_resolved_after_restart() {
    let topo = topology().await;
    // Past the commit point: shard 1 still holds a prepared participant.
    let (a, b) = crash_at(&topo, "decided", 50_000).await;
    assert!(count(&topo, 1, "SELECT count(*) FROM pg_prepared_xacts").await >= 1);
    topo.pg(1).primary().kill9().await.unwrap();
    topo.pg(1).primary().restart().await.unwrap();
    assert!(
        recovered(&topo, a, b).await,
        "the decided transaction must be completed"
    );
    // Before the commit point: rolled back everywhere.
    let (a, b) = crash_at(&topo, "prepared_all", 60_000).await;
    topo.pg(1).primary().kill9().await.unwrap();
    topo.pg(1).primary().restart().await.unwrap();
    assert!(
        !recovered(&topo, a, b).await,
        "an undecided transaction must be rolled back"
    );
}
