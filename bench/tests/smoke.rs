//! The bench binary against real databases through shardwire: every workload loads its
//! tables through the proxy (`--setup`), runs, and reports sane numbers in its JSON;
//! the money-moving workloads keep their invariants across shards (2PC); inserted rows
//! land on both shards; an open-loop run holds its rate; a comparison of the proxy with
//! a shard reports ratios; one run goes through the MySQL frontend to MariaDB shards.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_intact, assert_sane, bench, bench_json, block_on, serial};

/// Runs `workload` through the PostgreSQL proxy with setup; returns its run report.
fn pg_run(workload: &str, duration: &str, extra: &[&str]) -> serde_json::Value {
    let h = common::pg();
    let mut args = vec![
        "--url",
        &h.url,
        "--workload",
        workload,
        "--setup",
        "--scale",
        "1000",
        "--clients",
        "4",
        "--duration",
        duration,
    ];
    args.extend_from_slice(extra);
    let report = bench_json(&args);
    report["runs"][0].clone()
}

#[test]
fn point_select_through_the_proxy_reports_ordered_percentiles_and_a_page() {
    let _serial = serial();
    let html = common::temp_path("html");
    let run = pg_run(
        "point-select",
        "5s",
        &["--consistency", "session", "--html", html.to_str().unwrap()],
    );
    assert_sane(&run);
    assert_eq!(run["consistency"], "session");
    assert_eq!(run["mode"], "prepared");
    assert!(run["invariant"].is_null());
    assert!(
        !run["url"].as_str().unwrap().contains(":app@"),
        "{}",
        run["url"]
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let _ = std::fs::remove_file(&html);
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(!page.contains("<script"));
}

#[test]
fn read_write_in_simple_mode_keeps_the_total_balance() {
    let _serial = serial();
    let run = pg_run("read-write", "3s", &["--mode", "simple"]);
    assert_sane(&run);
    assert_intact(&run);
}

#[test]
fn tpcb_keeps_its_four_sums_equal_across_shards() {
    let _serial = serial();
    // Scale 1: one branch, 10 tellers, 10,000 accounts.
    let h = common::pg();
    let report = bench_json(&[
        "--url",
        &h.url,
        "--workload",
        "tpcb",
        "--setup",
        "--clients",
        "4",
        "--duration",
        "3s",
        "--mode",
        "extended",
    ]);
    let run = &report["runs"][0];
    assert_sane(run);
    assert_intact(run);
}

#[test]
fn transfer_keeps_the_total_balance_across_shards() {
    let _serial = serial();
    let run = pg_run("transfer", "3s", &[]);
    assert_sane(&run);
    assert_intact(&run);
}

#[test]
fn insert_rows_land_on_every_shard_and_add_up_to_the_report() {
    let _serial = serial();
    // Prepared statements: each single-row INSERT is routed by its bound id.
    let run = pg_run("insert", "5s", &[]);
    assert_sane(&run);
    let transactions = run["transactions"].as_i64().unwrap();
    let h = common::pg();
    let mut total = 0;
    for (i, node) in h.primaries().into_iter().enumerate() {
        let count: i64 = block_on(node.query_value("SELECT count(*) FROM sw_events"))
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert!(count > 0, "shard {i} got no rows");
        total += count;
    }
    assert_eq!(total, transactions, "rows on the shards vs the report");
}

#[test]
fn fan_out_reads_every_shard() {
    let _serial = serial();
    let run = pg_run("fan-out", "5s", &[]);
    assert_sane(&run);
}

#[test]
fn open_loop_holds_the_requested_rate() {
    let _serial = serial();
    let run = pg_run("point-select", "3s", &["--rate", "200"]);
    assert_sane(&run);
    let tps = run["tps"].as_f64().unwrap();
    assert!((150.0..=220.0).contains(&tps), "asked for 200/s, got {tps}");
    assert_eq!(run["rate"], 200.0);
    assert!(run["late"].is_u64(), "{}", run["late"]);
    assert!(run["unissued"].is_u64(), "{}", run["unissued"]);
}

#[test]
fn an_open_loop_rate_the_target_cannot_take_shows_as_unissued_transactions() {
    let _serial = serial();
    // Four clients cannot run 100,000 transactions a second through the proxy here: the
    // schedule they never got to is reported, not silently dropped.
    let run = pg_run("point-select", "2s", &["--rate", "100000"]);
    let done = run["transactions"].as_u64().unwrap() + run["errors"].as_u64().unwrap();
    let unissued = run["unissued"].as_u64().unwrap();
    assert!(unissued > 0, "{run}");
    let scheduled = 100_000 * 2;
    let accounted = done + unissued;
    assert!(
        (scheduled * 9 / 10..=scheduled * 11 / 10).contains(&accounted),
        "{done} run + {unissued} unissued of {scheduled} scheduled"
    );
}

#[test]
fn compare_runs_the_proxy_and_a_shard_and_reports_ratios() {
    let _serial = serial();
    let h = common::pg();
    // The table exists on every shard after a setup through the proxy; this run is
    // counted (--transactions) rather than timed.
    let report = bench_json(&[
        "--url",
        &h.url,
        "--workload",
        "point-select",
        "--setup",
        "--scale",
        "1000",
        "--clients",
        "2",
        "--transactions",
        "200",
    ]);
    let run = &report["runs"][0];
    let attempts = run["transactions"].as_u64().unwrap() + run["errors"].as_u64().unwrap();
    assert_eq!(attempts, 200);
    let direct = format!(
        "direct=postgres://postgres@{}",
        h.topo.pg(0).primary().config_addr()
    );
    let proxy = format!("proxy={}", h.url);
    let report = bench_json(&[
        "--workload",
        "point-select",
        "--clients",
        "2",
        "--duration",
        "2s",
        "--compare",
        &proxy,
        &direct,
    ]);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0]["name"].as_str(), runs[1]["name"].as_str()),
        (Some("proxy"), Some("direct"))
    );
    for run in runs {
        assert_sane(run);
    }
    let ratios = report["comparison"].as_array().unwrap();
    assert_eq!(ratios.len(), 2);
    assert_eq!(ratios[0]["tps_ratio"], 1.0);
    assert!(ratios[1]["tps_ratio"].as_f64().unwrap() > 0.0);
    assert!(ratios[1]["p99_ratio"].as_f64().unwrap() > 0.0);
}

#[test]
fn transfer_through_the_mysql_frontend_keeps_the_total() {
    let _serial = serial();
    let h = common::mysql();
    let report = bench_json(&[
        "--url",
        &h.url,
        "--workload",
        "transfer",
        "--setup",
        "--scale",
        "1000",
        "--clients",
        "4",
        "--duration",
        "3s",
    ]);
    let run = &report["runs"][0];
    assert_sane(run);
    assert_intact(run);
}

#[test]
fn a_missing_table_is_reported_and_exits_2() {
    let _serial = serial();
    let h = common::pg();
    block_on(async {
        for node in h.primaries() {
            node.execute(
                "DROP TABLE IF EXISTS sw_branches, sw_tellers, sw_accounts_tpcb, sw_history",
            )
            .await
            .unwrap();
        }
    });
    let out = bench(&["--url", &h.url, "--workload", "tpcb", "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sw_"), "{stderr}");
    assert!(!stderr.contains(":app@"), "{stderr}");
}
