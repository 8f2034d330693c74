//! Scattered reads against real PostgreSQL: the same dataset in one standalone database
//! (the reference) and, through the proxy, in 2 and in 3 shards; a seeded corpus of
//! queries must give the reference's answers. Also: the shapes refused with 0A000, the
//! extended protocol, an error on one shard, and pgbench's branch count.
//!
//! Replay a failure with `SHARDWIRE_SEED=<printed seed> cargo test -p shardwire --test pg_scatter`.

#![allow(clippy::unwrap_used)]

mod common;
mod scatter_support;

use std::sync::OnceLock;

use common::{Harness, Spec};
use scatter_support::{answer, corpus, dataset, same};

/// Corpus size per sharded topology.
const QUERIES: usize = 360;

fn start(shards: usize) -> Harness {
    let schema: &'static str =
        Box::leak(format!("{}{};", dataset::SCHEMA, dataset::REGIONS).into_boxed_str());
    let harness = common::start(Spec {
        shards,
        replicas: 0,
        pool_size: 8,
        proxy_extra: "",
        tables: dataset::TABLES,
        schema,
        admin: true,
    });
    let port = harness.port;
    let reference = (shards == 1).then(|| harness.topo.pg(0).primary().config_addr());
    // Loaded on a runtime of its own: this runs inside a test's runtime.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(load(port, shards as u32, reference))
    })
    .join()
    .unwrap();
    harness
}

/// Inserts the dataset: into the reference directly, into sharded topologies through the
/// proxy (each INSERT's rows on one shard).
async fn load(port: u16, shards: u32, reference: Option<String>) {
    let conn = match &reference {
        Some(addr) => {
            let (host, rest) = addr.split_once(':').unwrap();
            let (p, db) = rest.split_once('/').unwrap();
            format!("host={host} port={p} user=postgres dbname={db}")
        }
        None => format!("host=127.0.0.1 port={port} user=app password=app dbname=app"),
    };
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for rows in dataset::generate() {
        let by_shard = reference.is_none().then_some(shards);
        for insert in dataset::inserts(&rows, by_shard, 200) {
            client
                .batch_execute(&insert)
                .await
                .unwrap_or_else(|e| panic!("load {}: {e}", rows.table));
        }
    }
    client.batch_execute("ANALYZE").await.ok();
}

static REFERENCE: OnceLock<Harness> = OnceLock::new();
static TWO: OnceLock<Harness> = OnceLock::new();
static THREE: OnceLock<Harness> = OnceLock::new();

fn reference() -> &'static Harness {
    REFERENCE.get_or_init(|| start(1))
}

fn two() -> &'static Harness {
    TWO.get_or_init(|| start(2))
}

fn three() -> &'static Harness {
    THREE.get_or_init(|| start(3))
}

/// Scattered reads so far, process-wide: the metrics recorder is global and served by
/// whichever proxy of this binary started first.
async fn scattered_reads() -> f64 {
    for h in [&REFERENCE, &TWO, &THREE]
        .into_iter()
        .filter_map(|h| h.get())
    {
        let port = h.admin_port.unwrap();
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            let metrics = common::scrape(port).await;
            return common::metric(&metrics, "shardwire_scatter_reads_total", &[]);
        }
    }
    panic!("no proxy serves /metrics");
}

async fn reference_client() -> tokio_postgres::Client {
    reference().topo.pg(0).primary().pg_client().await.unwrap()
}

fn seed() -> u64 {
    let seed = std::env::var("SHARDWIRE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("corpus seed: {seed} (replay with SHARDWIRE_SEED={seed})");
    seed
}

/// Runs the corpus against `harness` and the reference; panics listing every difference.
async fn differential(harness: &Harness, label: &str) {
    let seed = seed();
    let queries = corpus::generate(seed, QUERIES);
    let reference = reference_client().await;
    let proxy = harness.client().await;
    let scattered_before = scattered_reads().await;
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in &queries {
        let want = answer(&reference, &q.sql).await;
        let got = answer(&proxy, &q.sql).await;
        match (&want, &got) {
            (Ok(w), Ok(g)) => {
                compared += 1;
                if let Err(diff) = same(w, g, q.ordered, &q.float_columns) {
                    failures.push(format!("{}\n  {diff}", q.sql));
                }
            }
            (Ok(_), Err(e)) => failures.push(format!("{}\n  proxy error {e:?}", q.sql)),
            (Err(e), Ok(_)) => failures.push(format!(
                "{}\n  reference error {e:?}, proxy answered",
                q.sql
            )),
            (Err(w), Err(g)) => {
                if w.0 != g.0 {
                    failures.push(format!(
                        "{}\n  reference error {w:?}, proxy error {g:?}",
                        q.sql
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{label}, seed {seed}: {} of {} queries differ:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n\n")
    );
    assert!(
        compared * 10 >= queries.len() * 9,
        "{label}: only {compared} of {} queries ran on the reference",
        queries.len()
    );
    let scattered = scattered_reads().await - scattered_before;
    assert!(
        scattered >= (queries.len() / 2) as f64,
        "{label}: only {scattered} reads were scattered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_on_two_shards_matches_one_database() {
    differential(two(), "2 shards").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_on_three_shards_matches_one_database() {
    differential(three(), "3 shards").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_really_is_spread_over_the_shards() {
    let h = three();
    let mut total = 0;
    for i in 0..3 {
        let n: i64 = h
            .topo
            .pg(i)
            .primary()
            .query_value("SELECT count(*) FROM orders")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert!(n > 5_000, "shard {i} holds only {n} orders");
        total += n;
    }
    assert_eq!(total, 30_000);
    let proxy = h.client().await;
    let rows = answer(&proxy, "SELECT count(*) FROM orders").await.unwrap();
    assert_eq!(rows[0][0].as_deref(), Some("30000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_shapes_are_refused_with_0a000() {
    let proxy = two().client().await;
    let refused = [
        ("SELECT * FROM customers c JOIN events e ON e.customer_id = c.id", "events"),
        ("SELECT * FROM orders o JOIN customers c ON o.id = c.id", "orders"),
        ("SELECT string_agg(name, ',') FROM customers", "string_agg"),
        ("SELECT sum(qty) / count(*) FROM orders", "orders"),
        ("SELECT count(DISTINCT status) FROM orders", "orders"),
        ("SELECT id, rank() OVER (ORDER BY score) FROM customers", "customers"),
        ("SELECT id FROM customers UNION SELECT customer_id FROM orders", "customers"),
        ("SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty > 3)", "orders"),
        ("WITH big AS (SELECT * FROM orders WHERE qty > 40) SELECT count(*) FROM big", "orders"),
        ("SELECT * FROM (SELECT customer_id, sum(qty) s FROM orders GROUP BY customer_id) x ORDER BY s", "orders"),
        ("SELECT DISTINCT ON (city) city, name FROM customers ORDER BY city, name", "customers"),
        ("SELECT city, count(*) FROM customers GROUP BY ROLLUP (city)", "customers"),
        ("SELECT * FROM customers ORDER BY id FETCH FIRST 3 ROWS WITH TIES", "customers"),
        ("SELECT round(avg(score), 2) FROM customers", "customers"),
    ];
    for (sql, named) in refused {
        match answer(&proxy, sql).await {
            Err((code, message)) => {
                assert_eq!(code, "0A000", "{sql}: {message}");
                assert!(
                    message.contains(named),
                    "{sql}: the message should name {named}: {message}"
                );
            }
            Ok(rows) => panic!("{sql}: answered {} rows instead of refusing", rows.len()),
        }
    }
    // The session still works.
    assert_eq!(
        answer(&proxy, "SELECT count(*) FROM customers")
            .await
            .unwrap()[0][0]
            .as_deref(),
        Some("10000")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_on_one_shard_reaches_the_client_once() {
    let proxy = two().client().await;
    // Division by zero only where id = 17 lives.
    let err = proxy
        .simple_query("SELECT id, 100 / (id - 17) FROM customers ORDER BY id")
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "22012");
    // Nothing is left over on the session or in the pool.
    for _ in 0..20 {
        let rows = answer(&proxy, "SELECT count(*), min(id), max(id) FROM customers")
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![vec![
                Some("10000".into()),
                Some("-2500".into()),
                Some("7499".into())
            ]]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_and_prepared_statements_take_the_same_path() {
    let proxy = two().client().await;
    let reference = reference_client().await;
    let top = "SELECT id, name, score FROM customers WHERE score > $1 ORDER BY score DESC NULLS LAST, id LIMIT $2 OFFSET $3";
    let p1 = proxy.prepare(top).await.unwrap();
    let r1 = reference.prepare(top).await.unwrap();
    for (min, limit, offset) in [
        (0i32, 10i64, 0i64),
        (50, 25, 5),
        (-100, 3, 200),
        (99, 100, 0),
    ] {
        let want: Vec<(i64, String, Option<i32>)> = reference
            .query(&r1, &[&min, &limit, &offset])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let got: Vec<(i64, String, Option<i32>)> = proxy
            .query(&p1, &[&min, &limit, &offset])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(got, want, "{top} with {min} {limit} {offset}");
    }
    let agg =
        "SELECT status, count(*), sum(qty), min(weight), max(weight), avg(weight) FROM orders \
               WHERE customer_id = ANY($1) GROUP BY status ORDER BY status NULLS FIRST";
    let keys: Vec<i64> = (-2500..7500).step_by(37).collect();
    let p2 = proxy.prepare(agg).await.unwrap();
    let r2 = reference.prepare(agg).await.unwrap();
    type Group = (
        Option<String>,
        i64,
        Option<i64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let read = |rows: Vec<tokio_postgres::Row>| -> Vec<Group> {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
            .collect()
    };
    let want = read(reference.query(&r2, &[&keys]).await.unwrap());
    let got = read(proxy.query(&p2, &[&keys]).await.unwrap());
    assert_eq!(want.len(), got.len());
    for (w, g) in want.iter().zip(&got) {
        assert_eq!((&w.0, w.1, w.2, w.3, w.4), (&g.0, g.1, g.2, g.3, g.4));
        match (w.5, g.5) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}"),
            (a, b) => assert_eq!(a, b),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_branch_count_equals_the_scale() {
    let h = two();
    let proxy = h.client().await;
    let scale = 40;
    for bid in 1..=scale {
        proxy
            .simple_query(&format!(
                "INSERT INTO pgbench_branches (bid, bbalance) VALUES ({bid}, 0)"
            ))
            .await
            .unwrap();
    }
    let on_shard_0: i64 = h
        .topo
        .pg(0)
        .primary()
        .query_value("SELECT count(*) FROM pgbench_branches")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        on_shard_0 > 0 && on_shard_0 < scale,
        "branches are not spread: {on_shard_0} on shard 0"
    );
    let rows = answer(&proxy, "SELECT count(*) FROM pgbench_branches")
        .await
        .unwrap();
    assert_eq!(rows[0][0].as_deref(), Some(scale.to_string().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_the_read_on_every_shard() {
    let h = two();
    let proxy = h.client().await;
    let token = proxy.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        token.cancel_query(tokio_postgres::NoTls).await
    });
    let began = std::time::Instant::now();
    // About 50 s per shard if nothing stops it.
    let err = proxy
        .simple_query("SELECT id, pg_sleep(0.01) FROM customers ORDER BY id")
        .await
        .unwrap_err();
    canceller.await.unwrap().unwrap();
    assert_eq!(err.as_db_error().unwrap().code().code(), "57014", "{err}");
    assert!(began.elapsed() < std::time::Duration::from_secs(10));
    // No shard is still sleeping through it.
    for shard in h.topo.pg_shards() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let running: i64 = shard
                .primary()
                .query_value("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.01)%' AND state = 'active' AND pid <> pg_backend_pid()")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap();
            if running == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the read still runs on a shard"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        answer(&proxy, "SELECT count(*) FROM customers")
            .await
            .unwrap()[0][0]
            .as_deref(),
        Some("10000")
    );
}
