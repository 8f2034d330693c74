//! Topologies started at the same time do not clash, and no server outlives the process
//! that started it — whether the test ends, panics, or the process aborts.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use shardwire_testbed::Topology;

fn small() -> shardwire_testbed::TopologyBuilder {
    Topology::builder().pg_shards(1).mysql_shards(1).fast(true)
}

async fn mark(topo: &Topology, tag: &str) {
    for shard in topo.pg_shards().iter().chain(topo.mysql_shards()) {
        let node = shard.primary();
        node.execute("CREATE TABLE owner (tag varchar(40))")
            .await
            .unwrap();
        node.execute(&format!("INSERT INTO owner VALUES ('{tag}')"))
            .await
            .unwrap();
    }
}

async fn owners(topo: &Topology) -> Vec<String> {
    let mut out = Vec::new();
    for shard in topo.pg_shards().iter().chain(topo.mysql_shards()) {
        for row in shard
            .primary()
            .query("SELECT tag FROM owner")
            .await
            .unwrap()
        {
            out.push(row[0].clone().unwrap());
        }
    }
    out
}

fn start_in_own_runtime(
    tag: &'static str,
) -> std::thread::JoinHandle<(Vec<u16>, PathBuf, Vec<String>)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let topo = small().start().await.unwrap_or_else(|e| panic!("{e}"));
            mark(&topo, tag).await;
            // Hold both topologies up at the same time before reading back.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let ports = topo.nodes().map(|n| n.port()).collect();
            (ports, topo.dir().to_path_buf(), owners(&topo).await)
        })
    })
}

#[test]
fn concurrent_topologies_get_distinct_ports_and_dirs() {
    let a = start_in_own_runtime("a");
    let b = start_in_own_runtime("b");
    let (ports_a, dir_a, owners_a) = a.join().unwrap();
    let (ports_b, dir_b, owners_b) = b.join().unwrap();
    assert_ne!(dir_a, dir_b);
    let all: HashSet<u16> = ports_a.iter().chain(&ports_b).copied().collect();
    assert_eq!(all.len(), ports_a.len() + ports_b.len(), "ports clash");
    assert_eq!(
        owners_a,
        ["a", "a"],
        "each topology only saw its own writes"
    );
    assert_eq!(owners_b, ["b", "b"]);
    assert!(!dir_a.exists() && !dir_b.exists(), "dirs removed on drop");
}

const CHILD_ENV: &str = "SHARDWIRE_TESTBED_CHILD";

/// Not a test by itself: run by `no_server_outlives_*` in a child process, which then dies
/// the way the environment variable says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper for the leak tests; runs in a child process"]
async fn child_starts_topology_and_dies() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (how, out) = spec.split_once(':').unwrap();
    let topo = Topology::builder()
        .pg_shards(1)
        .pg_replicas(1)
        .mysql_shards(1)
        .mysql_replicas(1)
        .fast(true)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pids: Vec<String> = topo.pids().iter().map(u32::to_string).collect();
    std::fs::write(out, format!("{}\n{}", topo.dir().display(), pids.join(" "))).unwrap();
    match how {
        "panic" => panic!("child test panics on purpose, holding a topology"),
        "abort" => std::process::abort(),
        other => panic!("unknown mode {other}"),
    }
}

fn run_child_and_check(how: &str) {
    let out = std::env::temp_dir().join(format!(
        "shardwire-testbed-child-{}-{how}",
        std::process::id()
    ));
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_starts_topology_and_dies", "--ignored"])
        .env(CHILD_ENV, format!("{how}:{}", out.display()))
        .output()
        .unwrap();
    assert!(!child.status.success(), "the child is meant to fail");
    let text = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!(
            "child wrote no pids; its output:\n{}{}",
            String::from_utf8_lossy(&child.stdout),
            String::from_utf8_lossy(&child.stderr)
        )
    });
    let _ = std::fs::remove_file(&out);
    let (dir, pids) = text.split_once('\n').unwrap();
    let pids: Vec<u32> = pids
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 4, "child started 4 servers");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let alive: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|&p| shardwire_testbed::is_alive(p))
            .collect();
        let dir_left = std::path::Path::new(dir).exists();
        if alive.is_empty() && !dir_left {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the child {how}ed: alive pids {alive:?}, dir left: {dir_left}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn no_server_outlives_a_panicking_test() {
    run_child_and_check("panic");
}

#[test]
fn no_server_outlives_an_aborted_test_process() {
    run_child_and_check("abort");
}
