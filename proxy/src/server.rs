//! The listeners: accept client connections and hand each to its frontend. A running
//! proxy is a [`ProxyHandle`], which tests and `shardwire demo` start in-process.

use std::net::SocketAddr;
use std::sync::Arc;

use shardwire_conf::Config;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cancel::CancelRegistry;
use crate::cluster::Cluster;

/// A running proxy; dropping it stops accepting (sessions in flight finish on their own).
#[derive(Debug)]
pub struct ProxyHandle {
    /// Where the PostgreSQL frontend listens.
    pub postgres_addr: Option<SocketAddr>,
    /// Where the MySQL frontend listens, when enabled.
    pub mysql_addr: Option<SocketAddr>,
    /// The shared run-time state.
    pub cluster: Arc<Cluster>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ProxyHandle {
    /// Waits until the listeners stop (they run until the handle is dropped or the process
    /// ends).
    pub async fn wait(mut self) {
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

/// Starts the listeners of `config`. A listen port of 0 picks a free port (see
/// [`ProxyHandle::postgres_addr`]).
pub async fn start(config: Config) -> Result<ProxyHandle, String> {
    let cluster = Arc::new(Cluster::build(config)?);
    crate::startup_check::check(&cluster.config).await?;
    crate::recovery::ensure_decision_tables(&cluster).await;
    crate::admin_http::watch(&cluster);
    if let Some(addr) = cluster.config.proxy.admin_listen {
        crate::metrics::install(addr)?;
    }
    let cancels = Arc::new(CancelRegistry::default());
    let mut tasks = Vec::new();
    let mut postgres_addr = None;
    let mut mysql_addr = None;
    for db in cluster.databases() {
        for shard in db.shards.iter().filter(|s| !s.replicas.is_empty()) {
            tasks.push(tokio::spawn(crate::monitor::run(
                shard.monitor.clone(),
                crate::monitor::Engine::Postgres,
                shard.primary.node().clone(),
                shard.replicas.iter().map(|r| r.node().clone()).collect(),
                cluster.config.proxy.monitor_interval,
                cluster.config.proxy.max_replica_lag,
            )));
        }
    }
    for db in cluster.mysql_databases() {
        for shard in db.shards.iter().filter(|s| !s.replicas.is_empty()) {
            tasks.push(tokio::spawn(crate::monitor::run(
                shard.monitor.clone(),
                crate::monitor::Engine::MariaDb,
                shard.primary.node().clone(),
                shard.replicas.iter().map(|r| r.node().clone()).collect(),
                cluster.config.proxy.monitor_interval,
                cluster.config.proxy.max_replica_lag,
            )));
        }
    }
    tasks.push(tokio::spawn(crate::recovery::run(
        cluster.clone(),
        cluster.config.proxy.recovery_interval,
        cluster.config.proxy.twopc_grace,
    )));
    if let Some(addr) = cluster.config.proxy.postgres_listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("proxy.postgres_listen: cannot listen on {addr}: {e}"))?;
        postgres_addr = listener.local_addr().ok();
        tracing::info!(addr = %postgres_addr.unwrap_or(addr), "PostgreSQL frontend listening");
        let cluster = cluster.clone();
        tasks.push(tokio::spawn(accept_pg(listener, cluster, cancels)));
    }
    if let Some(addr) = cluster.config.proxy.mysql_listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("proxy.mysql_listen: cannot listen on {addr}: {e}"))?;
        mysql_addr = listener.local_addr().ok();
        crate::frontend::mysql::prepare_rsa_keys(&cluster);
        tracing::info!(addr = %mysql_addr.unwrap_or(addr), "MySQL frontend listening");
        tasks.push(tokio::spawn(accept_mysql(listener, cluster.clone())));
    }
    Ok(ProxyHandle {
        postgres_addr,
        mysql_addr,
        cluster,
        tasks,
    })
}

async fn accept_mysql(listener: TcpListener, cluster: Arc<Cluster>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "MySQL client connected");
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    crate::frontend::mysql::serve_client(stream, cluster).await;
                    tracing::debug!(%peer, "MySQL client disconnected");
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn accept_pg(listener: TcpListener, cluster: Arc<Cluster>, cancels: Arc<CancelRegistry>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "client connected");
                let cluster = cluster.clone();
                let cancels = cancels.clone();
                tokio::spawn(async move {
                    crate::frontend::pg::serve_client(stream, cluster, cancels).await;
                    tracing::debug!(%peer, "client disconnected");
                });
            }
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
