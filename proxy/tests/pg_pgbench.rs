//! pgbench through the proxy on a one-shard config: the select-only script in all three
//! query modes, 16 clients, 10 seconds each, zero failed transactions. `-M prepared` is the
//! mode PgBouncer before 1.21 breaks under transaction pooling.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::{Harness, Spec};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let h = common::start(Spec {
            shards: 1,
            replicas: 0,
            pool_size: 8,
            proxy_extra: "",
            tables: "",
            admin: false,
            schema: "",
        });
        // Load the pgbench tables on the shard directly.
        let shard = h.topo.pg(0).primary();
        let out = std::process::Command::new("pgbench")
            .args(["-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p"])
            .arg(shard.port().to_string())
            .args(["-U", "postgres", "app"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pgbench -i: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        h
    })
}

fn run_select_only(mode: &str) {
    let h = harness();
    let out = common::run(
        "pgbench",
        &[
            "-S",
            "-M",
            mode,
            "-c",
            "16",
            "-j",
            "2",
            "-T",
            "10",
            "-n",
            "-h",
            "127.0.0.1",
            "-p",
            &h.port.to_string(),
            "-U",
            "app",
            "app",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pgbench -M {mode} failed:\n{stdout}\n{stderr}"
    );
    let processed: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.split('/').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no transaction count in:\n{stdout}"));
    assert!(processed > 0);
    let failed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .unwrap_or("0");
    assert!(
        failed.starts_with("0 "),
        "-M {mode}: failed transactions: {failed}\n{stdout}"
    );
    let tps = stdout.lines().find(|l| l.starts_with("tps")).unwrap_or("");
    println!("pgbench -S -M {mode} -c 16 through shardwire: {processed} transactions; {tps}");
}

#[test]
fn pgbench_select_only_simple() {
    run_select_only("simple");
}

#[test]
fn pgbench_select_only_extended() {
    run_select_only("extended");
}

#[test]
fn pgbench_select_only_prepared() {
    run_select_only("prepared");
}
