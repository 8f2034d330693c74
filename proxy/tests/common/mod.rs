//! Shared fixtures for the proxy's integration tests: a real test-bed topology and an
//! in-process proxy on it, started once per test binary on a runtime of their own (each
//! `#[tokio::test]` has its own runtime, which must not own the proxy's tasks).

#![allow(dead_code, clippy::unwrap_used)]

pub mod certs;
pub mod faults;
pub mod mysql;
pub mod process;
pub mod raw;

use std::sync::mpsc;

use shardwire_conf::Config;
use shardwire_testbed::Topology;

/// A topology with a proxy in front of it.
pub struct Harness {
    /// The databases.
    pub topo: Topology,
    /// Proxy PostgreSQL port.
    pub port: u16,
    /// The config the proxy runs.
    pub config_toml: String,
    /// Where `/metrics` is served, when asked for.
    pub admin_port: Option<u16>,
    _admin_lease: Option<shardwire_testbed::PortLease>,
}

/// What to start.
pub struct Spec {
    pub shards: usize,
    pub replicas: usize,
    pub pool_size: u32,
    /// Extra `[proxy]` lines.
    pub proxy_extra: &'static str,
    /// `[[databases.tables]]` sections.
    pub tables: &'static str,
    /// SQL run on every shard primary before the proxy starts.
    pub schema: &'static str,
    /// Serve `/metrics` on a free port.
    pub admin: bool,
}

impl Harness {
    /// A connection string for tokio-postgres / libpq.
    pub fn conn_str(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=app password=app dbname=app",
            self.port
        )
    }

    /// A libpq URL.
    pub fn url(&self) -> String {
        format!("postgres://app:app@127.0.0.1:{}/app", self.port)
    }

    /// A tokio-postgres client through the proxy.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.conn_str(), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect through the proxy: {e}"));
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }
}

/// Starts the topology and the proxy on a background runtime that lives as long as the
/// process. Call once per binary (from a `OnceLock`).
pub fn start(spec: Spec) -> Harness {
    in_background(move || async move {
        let admin_lease = spec.admin.then(|| shardwire_testbed::lease_port().unwrap());
        let admin_line = admin_lease
            .as_ref()
            .map(|l| format!("admin_listen = \"127.0.0.1:{}\"\n", l.port()))
            .unwrap_or_default();
        let topo = Topology::builder()
            .pg_shards(spec.shards)
            .pg_replicas(spec.replicas)
            .fast(true)
            .start()
            .await
            .unwrap_or_else(|e| panic!("testbed: {e}"));
        let mut toml = format!(
                "[proxy]\npostgres_listen = \"127.0.0.1:0\"\n{admin_line}pool_size = {}\n{}\n\
                 [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
                 [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n",
                spec.pool_size, spec.proxy_extra
            );
        for shard in topo.pg_shards() {
            if !spec.schema.is_empty() {
                shard.primary().execute(spec.schema).await.unwrap();
            }
            toml.push_str(&shard.config_stanza(usize::MAX));
        }
        toml.push_str(spec.tables);
        let config = Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let handle = shardwire::server::start(config).await.unwrap();
        let port = handle.postgres_addr.unwrap().port();
        let harness = Harness {
            topo,
            port,
            config_toml: toml,
            admin_port: admin_lease.as_ref().map(|l| l.port()),
            _admin_lease: admin_lease,
        };
        (harness, handle)
    })
}

/// Runs `start` on a runtime of its own that lives as long as the process (each
/// `#[tokio::test]` has its own runtime, which must not own the proxy's tasks), and
/// returns what it made once the proxy it started is serving.
pub fn in_background<T, F>(start: impl FnOnce() -> F + Send + 'static) -> T
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
            // Serve for the rest of the process.
            handle.wait().await;
        });
    });
    rx.recv().expect("the harness started")
}

/// Runs a client program (psql, pgbench) with the proxy's password; returns its output.
pub fn run(program: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(program)
        .args(args)
        .env("PGPASSWORD", "app")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// The `/metrics` text of the harness's proxy.
pub async fn scrape(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body
}

/// The value of a metric line with all the given labels (0 when absent).
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
