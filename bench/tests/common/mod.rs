//! Fixtures of the bench's integration tests: real PostgreSQL and MariaDB shards from the
//! test bed with an in-process shardwire in front (the proxy's own tests do the same),
//! and a way to run the `shardwire-bench` binary against them and read its JSON report.
//!
//! The proxy is configured with the tables the bench itself prints (`--print-tables`),
//! so the test also checks that those stanzas are what a proxy needs.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock, PoisonError};

use serde_json::Value;
use shardwire_conf::Config;
use shardwire_testbed::{Node, Topology};

/// The bench binary built for this test run.
pub const BENCH: &str = env!("CARGO_BIN_EXE_shardwire-bench");

/// Shards behind each proxy.
pub const SHARDS: usize = 2;

/// A topology with a proxy in front of it.
pub struct Harness {
    /// The databases.
    pub topo: Topology,
    /// Where the bench connects: the proxy.
    pub url: String,
}

impl Harness {
    /// The shard primaries.
    pub fn primaries(&self) -> Vec<&Node> {
        self.topo
            .pg_shards()
            .iter()
            .chain(self.topo.mysql_shards())
            .map(|s| s.primary())
            .collect()
    }
}

/// Runs one bench at a time: they share tables and two CPUs.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Two PostgreSQL shards (no replicas) and the proxy's PostgreSQL frontend.
pub fn pg() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| start(Engine::Postgres))
}

/// Two MariaDB shards (no replicas) and the proxy's MySQL frontend.
pub fn mysql() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| start(Engine::Mysql))
}

#[derive(Clone, Copy)]
enum Engine {
    Postgres,
    Mysql,
}

fn start(engine: Engine) -> Harness {
    let tables = print_tables();
    in_background(move || async move {
        let builder = Topology::builder().fast(true);
        let builder = match engine {
            Engine::Postgres => builder.pg_shards(SHARDS).pg_replicas(0),
            Engine::Mysql => builder.mysql_shards(SHARDS).mysql_replicas(0),
        };
        let topo = builder
            .start()
            .await
            .unwrap_or_else(|e| panic!("testbed: {e}"));
        let (listen, database) = match engine {
            Engine::Postgres => (
                "postgres_listen",
                "protocol = \"postgres\"\nbackend_user = \"postgres\"\n",
            ),
            Engine::Mysql => (
                "mysql_listen",
                "protocol = \"mysql\"\nbackend_user = \"app\"\nbackend_password = \"app\"\n",
            ),
        };
        let mut toml = format!(
            "[proxy]\n{listen} = \"127.0.0.1:0\"\npool_size = 12\n\n\
             [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
             [[databases]]\nname = \"app\"\n{database}"
        );
        let shards = match engine {
            Engine::Postgres => topo.pg_shards(),
            Engine::Mysql => topo.mysql_shards(),
        };
        for shard in shards {
            toml.push_str(&format!(
                "\n[[databases.shards]]\nprimary = \"{}\"\n",
                shard.primary().config_addr()
            ));
        }
        toml.push('\n');
        toml.push_str(&tables);
        let config = Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let handle = shardwire::server::start(config).await.unwrap();
        let url = match engine {
            Engine::Postgres => format!(
                "postgres://app:app@127.0.0.1:{}/app",
                handle.postgres_addr.unwrap().port()
            ),
            Engine::Mysql => format!(
                "mysql://app:app@127.0.0.1:{}/app",
                handle.mysql_addr.unwrap().port()
            ),
        };
        (Harness { topo, url }, handle)
    })
}

/// The bench's `[[databases.tables]]` stanzas for every workload.
pub fn print_tables() -> String {
    let out = Command::new(BENCH).arg("--print-tables").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `start` on a runtime of its own that lives as long as the process (each test's
/// runtime must not own the proxy's tasks); returns what it made once the proxy serves.
fn in_background<T, F>(start: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = (T, shardwire::server::ProxyHandle)>,
{
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (made, handle) = start().await;
            tx.send(made).unwrap();
            handle.wait().await;
        });
    });
    rx.recv().expect("the harness started")
}

/// Runs a future to completion on a small runtime of its own (for checks on the nodes).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Runs the bench quietly with `args`; returns its output, printed for the test log.
pub fn bench(args: &[&str]) -> Output {
    let out = Command::new(BENCH)
        .args(args)
        .arg("--quiet")
        .output()
        .unwrap();
    eprintln!(
        "$ shardwire-bench {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh path in the temp directory.
pub fn temp_path(ext: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "shardwire-bench-test-{}-{}.{ext}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Runs the bench with `--json` and returns the parsed report; the run must succeed.
pub fn bench_json(args: &[&str]) -> Value {
    let path = temp_path("json");
    let mut all = args.to_vec();
    let path_text = path.to_str().unwrap();
    all.extend_from_slice(&["--json", path_text]);
    let out = bench(&all);
    assert!(
        out.status.success(),
        "bench failed ({}): {args:?}",
        out.status
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    serde_json::from_str(&text).unwrap()
}

/// The checks every measured run must pass: transactions happened, percentiles are
/// ordered and positive, at most 1 % errors, a timeline.
pub fn assert_sane(run: &Value) {
    let name = format!("{} on {}", run["workload"], run["name"]);
    let transactions = run["transactions"].as_u64().unwrap();
    assert!(transactions > 0, "{name}: no transactions");
    assert!(run["tps"].as_f64().unwrap() > 0.0, "{name}: tps");
    let l = &run["latency_ms"];
    let [p50, p95, p99, p999, max] =
        ["p50", "p95", "p99", "p999", "max"].map(|k| l[k].as_f64().unwrap());
    assert!(
        0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= p999 && p999 <= max,
        "{name}: percentiles out of order: {l}"
    );
    let errors = run["errors"].as_u64().unwrap();
    assert!(
        errors * 100 <= transactions,
        "{name}: {errors} errors in {transactions} transactions: {}",
        run["errors_by_code"]
    );
    assert!(
        !run["timeline"].as_array().unwrap().is_empty(),
        "{name}: empty timeline"
    );
}

/// The invariant of a run that has one held.
pub fn assert_intact(run: &Value) {
    let invariant = &run["invariant"];
    assert_eq!(
        invariant["intact"], true,
        "{} broke its invariant: {invariant}",
        run["workload"]
    );
}
