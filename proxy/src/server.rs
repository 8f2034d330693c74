//! The listeners: accept client connections and hand each to its frontend. A running
//! proxy is a [`ProxyHandle`], which tests and `shardwire demo` start in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use shardwire_conf::Config;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cancel::CancelRegistry;
use crate::clients::ClientGuard;
use crate::cluster::Cluster;
use crate::live::LiveCluster;
use crate::tls::TlsServer;

/// A running proxy; dropping it stops accepting (sessions in flight finish on their own).
#[derive(Debug)]
pub struct ProxyHandle {
    /// Where the PostgreSQL frontend listens.
    pub postgres_addr: Option<SocketAddr>,
    /// Where the MySQL frontend listens, when enabled.
    pub mysql_addr: Option<SocketAddr>,
    /// The running configuration (current cluster, reload, clients).
    pub live: Arc<LiveCluster>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.live.stop();
    }
}

impl ProxyHandle {
    /// The current cluster.
    pub fn cluster(&self) -> Arc<Cluster> {
        self.live.load()
    }

    /// Waits until the listeners stop (they run until the handle is dropped or the process
    /// ends).
    pub async fn wait(mut self) {
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

/// Starts the listeners of `config`, which was not read from a file (so `RELOAD` has
/// nothing to re-read). A listen port of 0 picks a free port (see
/// [`ProxyHandle::postgres_addr`]).
pub async fn start(config: Config) -> Result<ProxyHandle, String> {
    start_with_source(config, None).await
}

/// Starts the listeners of `config`, read from `source`, which `RELOAD shardwire` and
/// SIGHUP re-read.
pub async fn start_with_source(
    config: Config,
    source: Option<PathBuf>,
) -> Result<ProxyHandle, String> {
    crate::fd_limit::raise(&config);
    // Before anything starts: a bad certificate or key stops the proxy with the file named.
    let tls = TlsServer::from_config(&config.proxy)?;
    if let Some(path) = &source {
        crate::config_secrets::warn_if_exposed(path, &config);
    }
    // Metric handles made before the recorder exists would count into nothing.
    if let Some(addr) = config.proxy.admin_listen {
        crate::metrics::install(addr)?;
    }
    let cluster = Cluster::build(config)?;
    crate::startup_check::check(&cluster.config).await?;
    crate::recovery::ensure_decision_tables(&cluster).await;
    let live = LiveCluster::new(cluster, source);
    crate::admin_http::watch(&live);
    live.start_monitors();
    let cluster = live.load();
    let cancels = Arc::new(CancelRegistry::default());
    let mut tasks = Vec::new();
    let mut postgres_addr = None;
    let mut mysql_addr = None;
    tasks.push(tokio::spawn(crate::recovery::run(live.clone())));
    if let Some(addr) = cluster.config.proxy.postgres_listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("proxy.postgres_listen: cannot listen on {addr}: {e}"))?;
        postgres_addr = listener.local_addr().ok();
        tracing::info!(addr = %postgres_addr.unwrap_or(addr), "PostgreSQL frontend listening");
        tasks.push(tokio::spawn(accept_pg(
            listener,
            live.clone(),
            cancels,
            tls.clone(),
        )));
    }
    if let Some(addr) = cluster.config.proxy.mysql_listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("proxy.mysql_listen: cannot listen on {addr}: {e}"))?;
        mysql_addr = listener.local_addr().ok();
        crate::frontend::mysql::prepare_rsa_keys(&cluster);
        tracing::info!(addr = %mysql_addr.unwrap_or(addr), "MySQL frontend listening");
        tasks.push(tokio::spawn(accept_mysql(
            listener,
            live.clone(),
            tls.clone(),
        )));
    }
    Ok(ProxyHandle {
        postgres_addr,
        mysql_addr,
        live,
        tasks,
    })
}

async fn accept_mysql(listener: TcpListener, live: Arc<LiveCluster>, tls: Option<TlsServer>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let live = live.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let client = live.clients.connect("mysql", peer);
                    tracing::info!(id = client.entry.id, %peer, protocol = "mysql", "client connected");
                    if let Some(max) = over_limit(&live) {
                        crate::frontend::mysql::refuse_too_many(stream, max).await;
                        log_disconnect(&client);
                        return;
                    }
                    crate::frontend::mysql::serve_client(stream, live, &client, tls.as_ref()).await;
                    log_disconnect(&client);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn accept_pg(
    listener: TcpListener,
    live: Arc<LiveCluster>,
    cancels: Arc<CancelRegistry>,
    tls: Option<TlsServer>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let live = live.clone();
                let tls = tls.clone();
                let cancels = cancels.clone();
                tokio::spawn(async move {
                    let client = live.clients.connect("postgres", peer);
                    tracing::info!(id = client.entry.id, %peer, protocol = "postgres", "client connected");
                    let limit = over_limit(&live);
                    crate::frontend::pg::serve_client(
                        stream,
                        live,
                        cancels,
                        &client,
                        limit,
                        tls.as_ref(),
                    )
                    .await;
                    log_disconnect(&client);
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

/// `Some(max)` when this connection (already registered) takes the proxy past
/// `max_client_connections`: it is refused with the protocol's "too many connections"
/// error, while the clients already connected go on.
fn over_limit(live: &LiveCluster) -> Option<u32> {
    let max = live.load().config.proxy.max_client_connections?;
    (live.clients.len() > max as usize).then_some(max)
}

/// The connection's closing line: who it was and how long it stayed.
fn log_disconnect(client: &ClientGuard) {
    let seen = client.entry.snapshot();
    tracing::info!(
        id = seen.id,
        peer = %seen.peer,
        user = %seen.user,
        database = %seen.database,
        requests = seen.requests,
        seconds = format_args!("{:.3}", seen.connected_secs),
        "client disconnected"
    );
}
