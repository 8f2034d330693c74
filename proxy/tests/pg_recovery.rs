//! Recovery of two-phase commits against two real PostgreSQL shards. Prepared transactions
//! are made by hand on the shard primaries, as a coordinator that died would leave them;
//! the proxy's recovery task (every 200ms, grace 1s) must commit those whose decision row
//! exists, roll back the others once past the grace period, leave foreign GIDs and
//! unresolvable ones alone, and collect old decision rows. A primary that disallows
//! prepared transactions keeps the proxy from starting.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Harness, Spec};
use shardwire_conf::Config;
use shardwire_testbed::Topology;
use shardwire_txn::{Gid, TxnId};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 0,
            pool_size: 4,
            proxy_extra: "recovery_interval = \"200ms\"\ntwopc_grace = \"1s\"",
            tables: "",
            schema: "CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL);",
            admin: true,
        })
    })
}

async fn primary(shard: usize) -> tokio_postgres::Client {
    harness()
        .topo
        .pg(shard)
        .primary()
        .pg_client()
        .await
        .unwrap()
}

fn gid(instance: u64, participant: u32, decision: u32) -> String {
    Gid {
        txn: TxnId {
            instance,
            sequence: 1,
        },
        participant,
        decision,
    }
    .to_string()
}

fn txid(instance: u64) -> String {
    TxnId {
        instance,
        sequence: 1,
    }
    .to_string()
}

/// Inserts item `id` and prepares the transaction as `gid` on `shard`; with `decision`,
/// also inserts that decision row in it, as the coordinator does on the decision shard.
async fn prepare(shard: usize, gid: &str, id: i32, decision: Option<&str>) {
    let record = decision.map_or(String::new(), |txid| {
        format!("INSERT INTO shardwire_2pc_decisions (txid, participants) VALUES ('{txid}', '{{0,1}}');")
    });
    primary(shard)
        .await
        .batch_execute(&format!(
            "BEGIN; INSERT INTO items VALUES ({id}, '{gid}'); {record} PREPARE TRANSACTION '{gid}'"
        ))
        .await
        .unwrap();
}

async fn prepared_gids(shard: usize) -> Vec<String> {
    let rows = primary(shard)
        .await
        .query("SELECT gid FROM pg_prepared_xacts ORDER BY gid", &[])
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

async fn count(shard: usize, sql: &str) -> i64 {
    primary(shard)
        .await
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

async fn item_exists(shard: usize, id: i32) -> bool {
    count(
        shard,
        &format!("SELECT count(*) FROM items WHERE id = {id}"),
    )
    .await
        == 1
}

async fn decision_exists(shard: usize, instance: u64) -> bool {
    let sql = format!(
        "SELECT count(*) FROM shardwire_2pc_decisions WHERE txid = '{}'",
        txid(instance)
    );
    count(shard, &sql).await == 1
}

/// Polls `check` for up to 15 seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No prepared transaction of `instance` is left on either shard.
async fn none_prepared(instance: u64) -> bool {
    let prefix = format!("sw_{instance:012x}_");
    for shard in 0..2 {
        if prepared_gids(shard)
            .await
            .iter()
            .any(|g| g.starts_with(&prefix))
        {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn the_proxy_creates_the_decision_table_on_every_primary() {
    harness();
    for shard in 0..2 {
        let sql = "SELECT count(*) FROM pg_tables WHERE tablename = 'shardwire_2pc_decisions'";
        assert_eq!(count(shard, sql).await, 1, "shard {shard}");
    }
}

#[tokio::test]
async fn decided_transactions_commit_and_abandoned_ones_roll_back() {
    let h = harness();
    eventually("the decision tables exist", || async {
        let sql = "SELECT count(*) FROM pg_tables WHERE tablename = 'shardwire_2pc_decisions'";
        count(0, sql).await == 1 && count(1, sql).await == 1
    })
    .await;
    // Decided: the decision participant (shard 0) committed, shard 1 left prepared.
    let decided = 0x00d0_0000_0001;
    prepare(0, &gid(decided, 0, 0), 100, Some(&txid(decided))).await;
    let commit_point = format!("COMMIT PREPARED '{}'", gid(decided, 0, 0));
    primary(0).await.batch_execute(&commit_point).await.unwrap();
    prepare(1, &gid(decided, 1, 0), 101, None).await;
    // Abandoned before the commit point: both prepared, the decision row not visible.
    let abandoned = 0x00d0_0000_0002;
    prepare(1, &gid(abandoned, 1, 1), 201, Some(&txid(abandoned))).await;
    prepare(0, &gid(abandoned, 0, 1), 202, None).await;
    // Someone else's prepared transaction.
    prepare(0, "app_123", 301, None).await;

    let left = prepared_gids(0).await;
    assert!(
        left.contains(&gid(abandoned, 0, 1)),
        "within the grace period it is left: {left:?}"
    );

    eventually("every sw_ transaction is resolved", || async {
        none_prepared(decided).await && none_prepared(abandoned).await
    })
    .await;
    assert!(item_exists(0, 100).await && item_exists(1, 101).await);
    assert!(!item_exists(1, 201).await && !item_exists(0, 202).await);
    assert!(!decision_exists(1, abandoned).await);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(prepared_gids(0).await.contains(&"app_123".to_string()));
    primary(0)
        .await
        .batch_execute("ROLLBACK PREPARED 'app_123'")
        .await
        .unwrap();
    assert!(!item_exists(0, 301).await);

    eventually("the old decision row is collected", || async {
        !decision_exists(0, decided).await
    })
    .await;

    let text = common::scrape(h.admin_port.unwrap()).await;
    let recovered = "shardwire_twopc_recovered_total";
    assert!(
        common::metric(&text, recovered, &[("action", "commit")]) >= 1.0,
        "{text}"
    );
    assert!(
        common::metric(&text, recovered, &[("action", "rollback")]) >= 2.0,
        "{text}"
    );
    assert!(text.contains("shardwire_twopc_in_doubt"), "{text}");
}

#[tokio::test]
async fn unresolvable_transactions_are_listed_in_doubt() {
    let h = harness();
    eventually("the decision tables exist", || async {
        let sql = "SELECT count(*) FROM pg_tables WHERE tablename = 'shardwire_2pc_decisions'";
        count(1, sql).await == 1
    })
    .await;
    // Its decision shard, 7, is not in the configuration: nobody can know the outcome.
    let unknown = gid(0x00d0_0000_0003, 1, 7);
    prepare(1, &unknown, 401, None).await;
    eventually("recovery lists it in doubt", || async {
        shardwire::recovery::in_doubt()
            .iter()
            .any(|t| t.gid == unknown && t.shard == 1 && t.age > Duration::from_secs(1))
    })
    .await;
    let entry = shardwire::recovery::in_doubt()
        .into_iter()
        .find(|t| t.gid == unknown)
        .unwrap();
    assert_eq!(entry.database, "app");
    assert_eq!(entry.node, "app/shard1/primary");
    assert!(entry.state.contains("configuration"), "{entry:?}");
    let text = common::scrape(h.admin_port.unwrap()).await;
    assert!(
        common::metric(&text, "shardwire_twopc_in_doubt", &[]) >= 1.0,
        "{text}"
    );
    assert!(prepared_gids(1).await.contains(&unknown), "never guessed");
    // Admins see it through the proxy.
    let rows = h
        .client()
        .await
        .simple_query("SHOW shardwire.transactions")
        .await
        .unwrap();
    let listed = rows.iter().any(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => {
            r.get("gid") == Some(unknown.as_str()) && r.get("shard") == Some("1")
        }
        _ => false,
    });
    assert!(listed, "SHOW shardwire.transactions lists {unknown}");

    let cleanup = format!("ROLLBACK PREPARED '{unknown}'");
    primary(1).await.batch_execute(&cleanup).await.unwrap();
}

#[tokio::test]
async fn startup_fails_when_a_primary_disallows_prepared_transactions() {
    let topo = Topology::builder()
        .pg_shards(2)
        .fast(true)
        .start()
        .await
        .unwrap();
    let node = topo.pg(1).primary();
    node.execute("ALTER SYSTEM SET max_prepared_transactions = 0")
        .await
        .unwrap();
    node.stop().await.unwrap();
    node.restart().await.unwrap();
    let toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:0\"\n\n[[users]]\nname = \"app\"\npassword = \"app\"\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n\
         [[databases.shards]]\nprimary = \"{}\"\n[[databases.shards]]\nprimary = \"{}\"\n",
        topo.pg(0).primary().config_addr(),
        node.config_addr()
    );
    let config = Config::from_toml_str(&toml).unwrap();
    let error = shardwire::server::start(config).await.unwrap_err();
    assert_eq!(
        error,
        format!(
            "databases[0].shards[1].primary ({}): max_prepared_transactions = 0; two-phase \
             commit across shards needs it > 0 (set it in postgresql.conf and restart)",
            node.config_addr()
        )
    );
}
