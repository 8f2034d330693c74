//! Observability and operations against a real test bed (2 PostgreSQL shards, 2 streaming
//! replicas each; the proxy starts with one replica per shard in its config file):
//! `/metrics` follows a mixed workload, `SHOW shardwire.replicas` shows a paused replica's
//! lag, a killed replica's `backend_up` drops within two monitor intervals and comes back,
//! `RELOAD shardwire` adds the second replica without a restart and refuses an invalid
//! file while traffic continues, and the docker dashboard and alert rules only query
//! metrics a live proxy exports.
//!
//! The tests change shared state (paused and killed replicas, the config file), so they
//! take turns through `SERIAL`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{metric, scrape};
use shardwire_conf::Config;
use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::Topology;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How often the replica monitor polls in these tests.
const MONITOR_INTERVAL: Duration = Duration::from_millis(250);

struct Bed {
    topo: Topology,
    port: u16,
    admin_port: u16,
    config_path: PathBuf,
    _admin_lease: shardwire_testbed::PortLease,
}

/// The config text with `replicas_of_shard0` of shard 0's replicas listed.
fn config_text(topo: &Topology, admin_port: u16, replicas_of_shard0: usize) -> String {
    let mut toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:{admin_port}\"\n\
         pool_size = 8\nmonitor_interval = \"{}ms\"\nslow_query_threshold = \"200ms\"\n\n\
         [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
         [[users]]\nname = \"plain\"\npassword = \"plain\"\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n",
        MONITOR_INTERVAL.as_millis()
    );
    for (i, shard) in topo.pg_shards().iter().enumerate() {
        let listed = if i == 0 { replicas_of_shard0 } else { 1 };
        toml.push_str(&shard.config_stanza(listed));
    }
    toml.push_str(
        "\n  [[databases.tables]]\n  name = \"obs\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n",
    );
    toml
}

fn bed() -> &'static Bed {
    static BED: OnceLock<Bed> = OnceLock::new();
    BED.get_or_init(|| {
        common::in_background(|| async {
            let admin_lease = shardwire_testbed::lease_port().unwrap();
            let admin_port = admin_lease.port();
            let topo = Topology::builder()
                .pg_shards(2)
                .pg_replicas(2)
                .fast(true)
                .start()
                .await
                .unwrap_or_else(|e| panic!("testbed: {e}"));
            for shard in topo.pg_shards() {
                shard
                    .primary()
                    .execute("CREATE TABLE obs (id bigint PRIMARY KEY, v int NOT NULL)")
                    .await
                    .unwrap();
            }
            let dir = std::env::temp_dir().join(format!("shardwire-obs-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let config_path = dir.join("shardwire.toml");
            let text = config_text(&topo, admin_port, 1);
            std::fs::write(&config_path, &text).unwrap();
            let config = Config::load(&config_path).unwrap();
            let handle = shardwire::server::start_with_source(config, Some(config_path.clone()))
                .await
                .unwrap();
            let bed = Bed {
                port: handle.postgres_addr.unwrap().port(),
                topo,
                admin_port,
                config_path,
                _admin_lease: admin_lease,
            };
            (bed, handle)
        })
    })
}

impl Bed {
    async fn client_as(&self, user: &str) -> tokio_postgres::Client {
        let conn = format!(
            "host=127.0.0.1 port={} user={user} password={user} dbname=app",
            self.port
        );
        let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    async fn client(&self) -> tokio_postgres::Client {
        self.client_as("app").await
    }

    async fn metrics(&self) -> String {
        scrape(self.admin_port).await
    }

    /// Undoes what a failed test may have left: every replica replaying.
    async fn reset(&self) {
        for shard in self.topo.pg_shards() {
            for replica in shard.replicas() {
                let _ = replica.resume_replay().await;
            }
        }
    }
}

/// A key that lives on `shard` (of 2).
fn key_on(shard: u32, from: i64) -> i64 {
    (from..)
        .find(|k| shard_of(&ShardKey::Int(*k), std::num::NonZeroU32::new(2).unwrap()) == shard)
        .unwrap()
}

/// One text value of a simple query's only row.
async fn value(client: &tokio_postgres::Client, sql: &str) -> String {
    let messages = client.simple_query(sql).await.unwrap();
    messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// Rows of an admin view as (column name → value) maps.
async fn admin_view(
    client: &tokio_postgres::Client,
    view: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let messages = client.simple_query(&format!("SHOW {view}")).await.unwrap();
    messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                row.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name().to_string(), row.get(i).unwrap_or("").to_string()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn metrics_follow_a_mixed_workload() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let c = bed.client().await;
    let (k0, k1) = (key_on(0, 1), key_on(1, 1));
    c.batch_execute(&format!(
        "INSERT INTO obs (id, v) VALUES ({k0}, 0), ({k1}, 0) ON CONFLICT (id) DO NOTHING"
    ))
    .await
    .unwrap();
    // Replicas must have the rows before eventual reads are counted.
    tokio::time::sleep(MONITOR_INTERVAL * 4).await;
    let before = bed.metrics().await;
    let replica_reads = |text: &str| {
        metric(
            text,
            "shardwire_consistency_reads_total",
            &[("level", "eventual"), ("served_by", "replica")],
        )
    };
    let two_phase_commits = |text: &str| {
        metric(
            text,
            "shardwire_transactions_total",
            &[("kind", "2pc"), ("outcome", "commit")],
        )
    };
    c.batch_execute("SET shardwire.read_consistency = 'eventual'")
        .await
        .unwrap();
    for i in 0..100 {
        let k = if i % 2 == 0 { k0 } else { k1 };
        c.simple_query(&format!("SELECT v FROM obs WHERE id = {k}"))
            .await
            .unwrap();
    }
    c.batch_execute("SET shardwire.read_consistency = 'strong'")
        .await
        .unwrap();
    for statement in [
        "BEGIN".to_string(),
        format!("UPDATE obs SET v = v + 1 WHERE id = {k0}"),
        format!("UPDATE obs SET v = v - 1 WHERE id = {k1}"),
        "COMMIT".to_string(),
    ] {
        c.batch_execute(&statement).await.unwrap();
    }
    let after = bed.metrics().await;
    let served = replica_reads(&after) - replica_reads(&before);
    assert!(
        served >= 90.0,
        "{served} of 100 eventual reads counted as replica reads"
    );
    assert_eq!(
        two_phase_commits(&after) - two_phase_commits(&before),
        1.0,
        "one 2PC commit"
    );
    // Every statement is counted on the node that ran it.
    let replica_statements = |text: &str| {
        metric(
            text,
            "shardwire_queries_total",
            &[("database", "app"), ("role", "replica"), ("kind", "read")],
        )
    };
    assert!(replica_statements(&after) - replica_statements(&before) >= 90.0);
    let durations = |text: &str| {
        metric(
            text,
            "shardwire_query_duration_seconds_count",
            &[("database", "app")],
        )
    };
    assert!(durations(&after) - durations(&before) >= 100.0);
    assert!(
        after.contains("shardwire_pool_connections{"),
        "pool gauges missing"
    );
    assert!(
        metric(
            &after,
            "shardwire_clients_connected",
            &[("protocol", "postgres")]
        ) >= 1.0
    );

    // A paused replica's staleness grows while its primary takes writes.
    let replica = &bed.topo.pg_shards()[1].replicas()[0];
    replica.pause_replay().await.unwrap();
    let staleness = |text: &str| {
        metric(
            text,
            "shardwire_replica_staleness_seconds",
            &[("node", "app/shard1/replica0")],
        )
    };
    c.batch_execute(&format!("UPDATE obs SET v = v + 1 WHERE id = {k1}"))
        .await
        .unwrap();
    tokio::time::sleep(MONITOR_INTERVAL * 4).await;
    let first = staleness(&bed.metrics().await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = staleness(&bed.metrics().await);
    // SHOW shardwire.replicas shows the lag too, in bytes and milliseconds.
    let rows = admin_view(&c, "shardwire.replicas").await;
    let paused = rows
        .iter()
        .find(|r| r["node"] == "app/shard1/replica0")
        .unwrap_or_else(|| panic!("{rows:?}"));
    // A bounded read with a tight bound cannot use the paused replica: a fallback.
    c.batch_execute(
        "SET shardwire.read_consistency = 'bounded'; SET shardwire.max_staleness = '100ms'",
    )
    .await
    .unwrap();
    c.simple_query(&format!("SELECT v FROM obs WHERE id = {k1}"))
        .await
        .unwrap();
    c.batch_execute("SET shardwire.read_consistency = 'strong'")
        .await
        .unwrap();
    replica.resume_replay().await.unwrap();
    assert!(
        second > first && second >= 1.0,
        "staleness of the paused replica: {first} then {second}"
    );
    let lag_bytes: u64 = paused["lag"].parse().unwrap_or(0);
    let staleness_ms: u64 = paused["staleness_ms"].parse().unwrap_or(0);
    assert!(lag_bytes > 0, "{paused:?}");
    assert!(staleness_ms >= 1000, "{paused:?}");
    let fallbacks = bed.metrics().await;
    assert!(
        metric(
            &fallbacks,
            "shardwire_consistency_fallbacks_total",
            &[("level", "bounded")]
        ) >= 1.0
    );
}

#[tokio::test]
async fn admin_console_lists_clients_and_refuses_non_admins() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let admin = bed.client().await;
    let plain = bed.client_as("plain").await;
    plain.simple_query("SELECT 1").await.unwrap();
    // The session marks itself idle just after its answer went out: look until it has.
    let deadline = Instant::now() + Duration::from_secs(5);
    let clients = loop {
        let clients = admin_view(&admin, "shardwire.clients").await;
        let idle = clients
            .iter()
            .any(|c| c["user"] == "plain" && c["state"] == "idle");
        if idle || Instant::now() > deadline {
            break clients;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mine: Vec<_> = clients.iter().filter(|c| c["user"] == "plain").collect();
    assert_eq!(mine.len(), 1, "{clients:?}");
    assert_eq!(mine[0]["protocol"], "postgres");
    assert_eq!(mine[0]["database"], "app");
    assert_eq!(mine[0]["state"], "idle");
    assert!(mine[0]["requests"].parse::<u64>().unwrap() >= 1);
    let asking = clients
        .iter()
        .find(|c| c["user"] == "app" && c["state"] == "active");
    assert!(
        asking.is_some(),
        "the admin's own connection is active: {clients:?}"
    );
    for statement in [
        "SHOW shardwire.clients",
        "SHOW shardwire.pools",
        "RELOAD shardwire",
    ] {
        let err = plain.simple_query(statement).await.unwrap_err();
        let db = err
            .as_db_error()
            .unwrap_or_else(|| panic!("{statement}: {err}"));
        assert_eq!(db.code().code(), "42501", "{statement}: {}", db.message());
    }
    drop(plain);
    // The closed connection leaves the list.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let clients = admin_view(&admin, "shardwire.clients").await;
        if !clients.iter().any(|c| c["user"] == "plain") {
            break;
        }
        assert!(Instant::now() < deadline, "plain still listed: {clients:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shards = admin_view(&admin, "shardwire.shards").await;
    assert_eq!(shards.len(), 2);
    assert!(
        shards.iter().all(|s| s["primary_up"] == "true"),
        "{shards:?}"
    );
    // Primaries are health-checked too, not only replicas.
    let text = bed.metrics().await;
    for node in ["app/shard0/primary", "app/shard1/primary"] {
        assert_eq!(
            metric(&text, "shardwire_backend_up", &[("node", node)]),
            1.0,
            "{node}"
        );
    }
}

#[tokio::test]
async fn statements_any_shard_may_run_go_to_a_live_shard_while_shard_zero_is_down() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let node = "app/shard0/primary";
    let up = |text: &str| metric(text, "shardwire_backend_up", &[("node", node)]);
    let c = bed.client().await;
    let primary = bed.topo.pg_shards()[0].primary();
    primary.kill9().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while up(&bed.metrics().await) != 0.0 {
        assert!(Instant::now() < deadline, "{node} still up after kill -9");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // What connectors send at connect, and other table-less reads, are served by
    // shard 1; a row of shard 1 reads as before; only shard 0's rows are out of reach.
    for sql in ["SELECT 1", "SELECT now()", "SHOW server_version"] {
        c.simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql} with shard 0 down: {e}"));
    }
    let k1 = key_on(1, 1000);
    c.simple_query(&format!("SELECT v FROM obs WHERE id = {k1}"))
        .await
        .unwrap();
    let k0 = key_on(0, 1000);
    let e = c
        .simple_query(&format!("SELECT v FROM obs WHERE id = {k0}"))
        .await
        .unwrap_err();
    assert!(e.as_db_error().is_some(), "shard 0's row: {e}");
    primary.restart().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while up(&bed.metrics().await) != 1.0 {
        assert!(
            Instant::now() < deadline,
            "{node} not back up after restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bed.topo.pg_shards()[0]
        .wait_caught_up(Duration::from_secs(30))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_killed_replica_is_down_within_two_monitor_intervals_and_back_after_restart() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let node = "app/shard0/replica0";
    let up = |text: &str| metric(text, "shardwire_backend_up", &[("node", node)]);
    let errors_before = metric(
        &bed.metrics().await,
        "shardwire_backend_errors_total",
        &[("node", node)],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while up(&bed.metrics().await) != 1.0 {
        assert!(Instant::now() < deadline, "{node} never up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let replica = &bed.topo.pg_shards()[0].replicas()[0];
    replica.kill9().await.unwrap();
    let killed = Instant::now();
    // Two intervals, plus a scrape's and a scheduler's slack on a busy machine.
    let allowed = MONITOR_INTERVAL * 2 + Duration::from_secs(1);
    loop {
        if up(&bed.metrics().await) == 0.0 {
            break;
        }
        assert!(
            killed.elapsed() <= allowed,
            "{node} still up {:?} after kill -9",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("{node}: backend_up 0 after {:?}", killed.elapsed());
    let errors_after = metric(
        &bed.metrics().await,
        "shardwire_backend_errors_total",
        &[("node", node)],
    );
    assert!(
        errors_after > errors_before,
        "the lost connection is counted"
    );
    // Reads go on, from the primary, while the replica is down.
    let c = bed.client().await;
    c.batch_execute("SET shardwire.read_consistency = 'eventual'")
        .await
        .unwrap();
    let k0 = key_on(0, 1000);
    c.simple_query(&format!("SELECT v FROM obs WHERE id = {k0}"))
        .await
        .unwrap();
    replica.restart().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while up(&bed.metrics().await) != 1.0 {
        assert!(
            Instant::now() < deadline,
            "{node} not back up after restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reload_adds_a_replica_and_refuses_an_invalid_config_while_traffic_continues() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let shard0 = &bed.topo.pg_shards()[0];
    let added_port = shard0.replicas()[1].port().to_string();
    let c = bed.client().await;
    let k0 = key_on(0, 2000);
    c.batch_execute(&format!(
        "INSERT INTO obs (id, v) VALUES ({k0}, 1) ON CONFLICT (id) DO NOTHING"
    ))
    .await
    .unwrap();
    c.batch_execute("SET shardwire.read_consistency = 'eventual'")
        .await
        .unwrap();
    let before = read_ports(&c, k0).await;
    assert!(
        !before.contains(&added_port),
        "the unlisted replica served reads before the reload"
    );
    // A transaction open across the reload, and a statement prepared before it.
    let k1 = key_on(1, 2000);
    c.batch_execute(&format!(
        "INSERT INTO obs (id, v) VALUES ({k1}, 1) ON CONFLICT (id) DO NOTHING"
    ))
    .await
    .unwrap();
    // (Its own row on shard 0: k0's row is updated below by another client.)
    let k0b = key_on(0, k0 + 1);
    c.batch_execute(&format!(
        "INSERT INTO obs (id, v) VALUES ({k0b}, 1) ON CONFLICT (id) DO NOTHING"
    ))
    .await
    .unwrap();
    let in_flight = bed.client().await;
    in_flight.batch_execute("BEGIN").await.unwrap();
    in_flight
        .batch_execute(&format!("UPDATE obs SET v = 500 WHERE id = {k0b}"))
        .await
        .unwrap();
    let prepared_by = bed.client().await;
    prepared_by
        .batch_execute("SET shardwire.read_consistency = 'eventual'")
        .await
        .unwrap();
    let port_of = prepared_by
        .prepare("SELECT current_setting('port') FROM obs WHERE id = $1")
        .await
        .unwrap();

    // Replica 0 of shard 0 falls behind (replay paused, a write on the primary): among
    // healthy replicas the policy prefers the most advanced, so once the reload lists
    // replica 1, eventual reads go there.
    shard0.replicas()[0].pause_replay().await.unwrap();
    c.batch_execute(&format!("UPDATE obs SET v = v + 1 WHERE id = {k0}"))
        .await
        .unwrap();
    std::fs::write(&bed.config_path, config_text(&bed.topo, bed.admin_port, 2)).unwrap();
    let reloaded = c.simple_query("RELOAD shardwire").await;
    assert!(reloaded.is_ok(), "{reloaded:?}");
    // The transaction goes on across the reload, to a second shard, and commits on both.
    in_flight
        .batch_execute(&format!("UPDATE obs SET v = 501 WHERE id = {k1}"))
        .await
        .unwrap();
    in_flight.batch_execute("COMMIT").await.unwrap();
    for (shard, k, v) in [(0, k0b, "500"), (1, k1, "501")] {
        let on_shard = bed.topo.pg_shards()[shard]
            .primary()
            .query_value(&format!("SELECT v::text FROM obs WHERE id = {k}"))
            .await
            .unwrap();
        assert_eq!(on_shard.as_deref(), Some(v), "shard {shard}");
    }
    let shown = admin_view(&c, "shardwire.shards").await;
    let row0 = shown.iter().find(|r| r["shard"] == "0").unwrap();
    assert_eq!(row0["replicas"], "2", "{shown:?}");
    // The new replica's monitor proves it healthy within a few intervals.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ports = read_ports(&c, k0).await;
        if ports.contains(&added_port) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica 1 serves no eventual read after RELOAD: {ports:?}"
        );
        tokio::time::sleep(MONITOR_INTERVAL).await;
    }
    let after = read_ports(&c, k0).await;
    let from_added = after.iter().filter(|p| **p == added_port).count();
    assert!(
        from_added >= 30,
        "{from_added} of 40 reads from the added replica"
    );
    // The statement prepared before the reload follows the new replica set too.
    let mut prepared_ports = Vec::new();
    for _ in 0..10 {
        let row = prepared_by.query_one(&port_of, &[&k0]).await.unwrap();
        prepared_ports.push(row.get::<_, String>(0));
    }
    assert!(
        prepared_ports.iter().filter(|p| **p == added_port).count() >= 8,
        "{prepared_ports:?}"
    );

    // An invalid file is refused with the validation error; the running config stays.
    let good = std::fs::read_to_string(&bed.config_path).unwrap();
    std::fs::write(
        &bed.config_path,
        good.replace("pool_size = 8", "pool_size = \"many\""),
    )
    .unwrap();
    let err = c.simple_query("RELOAD shardwire").await.unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "F0000", "{}", db.message());
    assert!(db.message().contains("proxy.pool_size"), "{}", db.message());
    // A config that would move rows is refused too, naming the key.
    std::fs::write(
        &bed.config_path,
        good.replace("shard_key = \"id\"", "shard_key = \"v\""),
    )
    .unwrap();
    let err = c.simple_query("RELOAD shardwire").await.unwrap_err();
    let message = err.as_db_error().unwrap().message().to_string();
    assert!(message.contains("databases[0].tables[0]"), "{message}");
    // Traffic continues on the config that was running.
    let still = read_ports(&c, k0).await;
    assert!(still.iter().filter(|p| **p == added_port).count() >= 30);
    assert!(!value(&c, &format!("SELECT v FROM obs WHERE id = {k0}"))
        .await
        .is_empty());
    std::fs::write(&bed.config_path, good).unwrap();
    shard0.replicas()[0].resume_replay().await.unwrap();
}

#[tokio::test]
async fn dashboard_and_alert_rules_parse_and_query_only_exported_metrics() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let docker = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docker");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(docker.join("grafana/dashboards/shardwire.json")).unwrap(),
    )
    .unwrap_or_else(|e| panic!("dashboard JSON: {e}"));
    let mut expressions = Vec::new();
    collect_exprs(&dashboard, &mut expressions);
    assert!(expressions.len() >= 10, "{expressions:?}");
    let rules_text = std::fs::read_to_string(docker.join("prometheus/alerts.yml")).unwrap();
    let rules = yaml_rust2::YamlLoader::load_from_str(&rules_text)
        .unwrap_or_else(|e| panic!("alerts.yml: {e}"));
    let mut alerts = Vec::new();
    for group in rules[0]["groups"].as_vec().unwrap() {
        for rule in group["rules"].as_vec().unwrap() {
            let name = rule["alert"].as_str().unwrap().to_string();
            let expr = rule["expr"].as_str().unwrap().to_string();
            alerts.push((name, expr));
        }
    }
    let names: Vec<&str> = alerts.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "ShardwireReplicaStale",
        "ShardwireConsistencyViolation",
        "ShardwireTwoPhaseInDoubt",
        "ShardwireBackendDown",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    expressions.extend(alerts.into_iter().map(|(_, e)| e));

    // A short workload so the counters that appear on first use exist.
    let c = bed.client().await;
    let k = key_on(1, 3000);
    for statement in [
        format!("INSERT INTO obs (id, v) VALUES ({k}, 0) ON CONFLICT (id) DO NOTHING"),
        "UPDATE obs SET v = v WHERE v < 0".to_string(),
        "SELECT count(*) FROM obs".to_string(),
    ] {
        c.batch_execute(&statement).await.unwrap();
    }
    c.batch_execute("SET shardwire.read_consistency = 'session'")
        .await
        .unwrap();
    c.simple_query(&format!("SELECT v FROM obs WHERE id = {k}"))
        .await
        .unwrap();
    c.batch_execute(
        "SET shardwire.read_consistency = 'bounded'; SET shardwire.max_staleness = '1ms'",
    )
    .await
    .unwrap();
    shard_replica_paused_read(bed, &c, k).await;
    let live = bed.metrics().await;
    let exported: std::collections::HashSet<&str> = live
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for expr in &expressions {
        for name in metric_names(expr) {
            let found = exported.contains(name.as_str())
                || ["_bucket", "_count", "_sum"]
                    .iter()
                    .any(|s| exported.contains(format!("{name}{s}").as_str()));
            assert!(found, "{name} (in `{expr}`) is not in a live scrape");
        }
    }
}

/// The ports of the nodes that serve 40 reads of key `k`.
async fn read_ports(c: &tokio_postgres::Client, k: i64) -> Vec<String> {
    let sql = format!("SELECT current_setting('port') FROM obs WHERE id = {k}");
    let mut ports = Vec::new();
    for _ in 0..40 {
        ports.push(value(c, &sql).await);
    }
    ports
}

/// A bounded read on a shard whose replica is paused behind a write: a fallback.
async fn shard_replica_paused_read(bed: &Bed, c: &tokio_postgres::Client, k: i64) {
    let replica = &bed.topo.pg_shards()[1].replicas()[0];
    replica.pause_replay().await.unwrap();
    c.batch_execute(&format!("UPDATE obs SET v = v + 1 WHERE id = {k}"))
        .await
        .unwrap();
    tokio::time::sleep(MONITOR_INTERVAL * 6).await;
    c.simple_query(&format!("SELECT v FROM obs WHERE id = {k}"))
        .await
        .unwrap();
    replica.resume_replay().await.unwrap();
}

/// Every `expr` string in a Grafana dashboard.
fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// The `shardwire_*` metric names a PromQL expression mentions, without histogram
/// suffixes.
fn metric_names(expr: &str) -> Vec<String> {
    let bytes = expr.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(at) = expr[i..].find("shardwire_") {
        let start = i + at;
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let mut name = &expr[start..end];
        for suffix in ["_bucket", "_count", "_sum"] {
            if let Some(stripped) = name.strip_suffix(suffix) {
                name = stripped;
            }
        }
        names.push(name.to_string());
        i = end;
    }
    names
}

#[tokio::test]
async fn max_client_connections_refuses_with_53300_while_others_go_on() {
    let _turn = SERIAL.lock().await;
    let bed = bed();
    bed.reset().await;
    let admin = bed.client().await;
    let connected = admin_view(&admin, "shardwire.clients").await.len();
    let max = connected + 3;
    let good = std::fs::read_to_string(&bed.config_path).unwrap();
    let limited = good.replacen(
        "pool_size = 8",
        &format!("pool_size = 8\nmax_client_connections = {max}"),
        1,
    );
    std::fs::write(&bed.config_path, &limited).unwrap();
    admin.simple_query("RELOAD shardwire").await.unwrap();
    // Open clients until one is refused: at most `max` are ever connected.
    let conn_str = format!(
        "host=127.0.0.1 port={} user=app password=app dbname=app",
        bed.port
    );
    let mut held = Vec::new();
    let refusal = loop {
        match tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                held.push(client);
                assert!(
                    held.len() <= max,
                    "{} clients accepted past {max}",
                    held.len()
                );
            }
            Err(e) => break e,
        }
    };
    let db = refusal
        .as_db_error()
        .unwrap_or_else(|| panic!("refused without an error: {refusal}"));
    assert_eq!(db.code().code(), "53300", "{}", db.message());
    assert!(
        db.message().contains("max_client_connections"),
        "{}",
        db.message()
    );
    // Everyone already connected goes on.
    for client in held.iter().chain([&admin]) {
        client.simple_query("SELECT 1").await.unwrap();
    }
    // A freed slot is usable again, and the limit goes with the config.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                held.push(client);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "no slot after a close: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&bed.config_path, &good).unwrap();
    admin.simple_query("RELOAD shardwire").await.unwrap();
}
