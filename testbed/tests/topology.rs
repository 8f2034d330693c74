//! The test bed's own acceptance: real PostgreSQL and MariaDB shards with replicas come up,
//! replicate, honour paused replay, die on kill -9 and come back on restart.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

use std::time::Duration;

use shardwire_testbed::{Engine, Node, Shard, Topology};

const CATCH_UP: Duration = Duration::from_secs(20);

async fn rows(node: &Node, sql: &str) -> Vec<String> {
    node.query(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

/// Proves a PostgreSQL standby has *received* (not replayed) everything the primary wrote,
/// so "not visible" below means "held back by the pause", not "not yet shipped".
async fn wait_received(shard: &Shard, replica: &Node) {
    let lsn = shard
        .primary()
        .query_value("SELECT pg_current_wal_lsn()")
        .await
        .unwrap()
        .unwrap();
    for _ in 0..2000 {
        let got = replica
            .query_value(&format!(
                "SELECT pg_last_wal_receive_lsn() >= '{lsn}'::pg_lsn"
            ))
            .await
            .unwrap();
        if got.as_deref() == Some("t") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} never received WAL up to {lsn}", replica.name());
}

/// MariaDB: the IO thread has fetched the event into the relay log (SQL thread stopped).
async fn wait_fetched(shard: &Shard, replica: &Node) {
    let pos = shard
        .primary()
        .query_value("SELECT @@gtid_binlog_pos")
        .await
        .unwrap()
        .unwrap_or_default();
    let seq = pos.rsplit('-').next().unwrap_or("0").to_string();
    for _ in 0..2000 {
        let status = replica.mysql_conn().await.unwrap();
        let mut status = status;
        use mysql_async::prelude::Queryable;
        let row: Option<mysql_async::Row> = status.query_first("SHOW SLAVE STATUS").await.unwrap();
        let row = row.expect("replica has slave status");
        let io_pos: String = row.get("Gtid_IO_Pos").unwrap_or_default();
        if io_pos.rsplit('-').next() == Some(seq.as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} never fetched GTID {pos}", replica.name());
}

async fn check_shard(shard: &Shard) {
    let primary = shard.primary();
    let replica = shard.replica(0);
    let engine = primary.engine();
    primary
        .execute("CREATE TABLE probe (id int PRIMARY KEY, note text)")
        .await
        .unwrap();
    primary
        .execute("INSERT INTO probe VALUES (1, 'first')")
        .await
        .unwrap();
    shard.wait_caught_up(CATCH_UP).await.unwrap();
    assert_eq!(
        rows(replica, "SELECT note FROM probe ORDER BY id").await,
        ["first"],
        "{}: row written on the primary is read on the replica",
        replica.name()
    );

    replica.pause_replay().await.unwrap();
    primary
        .execute("INSERT INTO probe VALUES (2, 'second')")
        .await
        .unwrap();
    match engine {
        Engine::Postgres => wait_received(shard, replica).await,
        Engine::MariaDb => wait_fetched(shard, replica).await,
    }
    assert_eq!(
        rows(replica, "SELECT note FROM probe ORDER BY id").await,
        ["first"],
        "{}: with replay paused the new row is NOT visible",
        replica.name()
    );
    assert!(shard
        .wait_caught_up(Duration::from_millis(300))
        .await
        .is_err());

    replica.resume_replay().await.unwrap();
    shard.wait_caught_up(CATCH_UP).await.unwrap();
    assert_eq!(
        rows(replica, "SELECT note FROM probe ORDER BY id").await,
        ["first", "second"],
        "{}: visible after resume",
        replica.name()
    );
}

async fn check_kill_and_restart(node: &Node) {
    let pid = node.pid().expect("running");
    node.kill9().await.unwrap();
    assert!(
        !shardwire_testbed::is_alive(pid),
        "{} pid {pid} survived kill -9",
        node.name()
    );
    let err = node
        .query("SELECT 1")
        .await
        .expect_err("a killed primary must refuse connections");
    eprintln!("{} after kill -9: {err}", node.name());
    node.restart().await.unwrap();
    assert_eq!(
        rows(node, "SELECT note FROM probe ORDER BY id").await,
        ["first", "second"],
        "{}: data survives kill -9 and restart",
        node.name()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_replicate_pause_and_survive_kill9() {
    let topo = Topology::builder()
        .pg_shards(2)
        .pg_replicas(1)
        .mysql_shards(2)
        .mysql_replicas(1)
        .fast(true)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "bring-up of 2 PG shards x (1+1) and 2 MariaDB shards x (1+1): {:.2} s",
        topo.startup_time().as_secs_f64()
    );
    assert_eq!(topo.pids().len(), 8);
    let all: Vec<&Shard> = topo.pg_shards().iter().chain(topo.mysql_shards()).collect();
    futures_util::future::join_all(all.iter().map(|s| check_shard(s))).await;

    // The MariaDB replica really is read-only for the application user.
    let replica = topo.mysql(0).replica(0);
    let mut app = mysql_async::Conn::new(replica.mysql_app_opts())
        .await
        .unwrap();
    use mysql_async::prelude::Queryable;
    let denied = app.query_drop("INSERT INTO probe VALUES (9, 'x')").await;
    assert!(
        denied.is_err(),
        "app user must not write to a read-only replica"
    );

    check_kill_and_restart(topo.pg(1).primary()).await;
    check_kill_and_restart(topo.mysql(1).primary()).await;
    // Replication continues after the primary's restart.
    for shard in [topo.pg(1), topo.mysql(1)] {
        shard
            .primary()
            .execute("INSERT INTO probe VALUES (3, 'third')")
            .await
            .unwrap();
        shard.wait_caught_up(CATCH_UP).await.unwrap();
        assert_eq!(
            rows(shard.replica(0), "SELECT count(*) FROM probe").await,
            ["3"]
        );
    }
}
