//! The admin HTTP endpoint on `admin_listen`: `GET /metrics` (the Prometheus recorder's
//! text) and `GET /health` (200 when every shard primary of every running proxy in the
//! process accepts connections, 503 with a JSON body naming those that do not).
//!
//! A listener of our own rather than the exporter's: the exporter's serves only metrics,
//! and load balancers and orchestrators probe health on the same port. HTTP/1.0-style, one
//! request per connection, requests capped at 8 KiB: it is an operator's port, not a web
//! server.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::live::LiveCluster;

/// How long `/health` waits for a primary to accept a connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Proxies whose primaries `/health` checks and whose pools `/metrics` reports (every
/// proxy started in this process).
static CLUSTERS: Mutex<Vec<Weak<LiveCluster>>> = Mutex::new(Vec::new());

/// Adds a running proxy to what `/health` checks and `/metrics` reports.
pub fn watch(cluster: &Arc<LiveCluster>) {
    let mut clusters = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
    clusters.retain(|c| c.strong_count() > 0);
    clusters.push(Arc::downgrade(cluster));
}

/// Serves `/metrics` and `/health` on `listener` forever; also runs the recorder's
/// upkeep (histogram draining) every few seconds.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle) {
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticker.tick().await;
            upkeep.run_upkeep();
        }
    });
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let _ = answer(stream, &handle).await;
        });
    }
}

async fn answer(mut stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && !request.windows(2).any(|w| w == b"\n\n")
    {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 || request.len() + n > 8 * 1024 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => {
            publish_pool_gauges();
            ("200 OK", "text/plain; version=0.0.4", handle.render())
        }
        ("GET", "/health") => {
            let down = unreachable_primaries().await;
            if down.is_empty() {
                (
                    "200 OK",
                    "application/json",
                    "{\"status\":\"ok\"}\n".to_string(),
                )
            } else {
                let names: Vec<String> = down.iter().map(|n| format!("\"{n}\"")).collect();
                let body = format!(
                    "{{\"status\":\"unavailable\",\"unreachable\":[{}]}}\n",
                    names.join(",")
                );
                ("503 Service Unavailable", "application/json", body)
            }
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "try /metrics or /health\n".into(),
        ),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    let head = format!(
        "HTTP/1.0 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// The current clusters of the watched proxies.
fn clusters() -> Vec<Arc<crate::cluster::Cluster>> {
    CLUSTERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .map(|live| live.load())
        .collect()
}

/// Sets `pool_connections` from every pool's occupancy, just before a scrape.
fn publish_pool_gauges() {
    for cluster in clusters() {
        for (node, status) in cluster.pool_statuses() {
            let idle = status.available as u32;
            let active = (status.size as u32).saturating_sub(idle);
            crate::metrics::pool_connections(&node.name, active, idle);
        }
    }
}

/// The shard primaries (by node name) that do not accept a TCP connection in time.
async fn unreachable_primaries() -> Vec<String> {
    let clusters = clusters();
    let mut probes = tokio::task::JoinSet::new();
    for cluster in &clusters {
        for node in cluster.monitors().into_iter().map(|spec| spec.primary) {
            probes.spawn(async move {
                let reachable = matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(&node.addr)).await,
                    Ok(Ok(_))
                );
                (!reachable).then(|| node.name.clone())
            });
        }
    }
    let mut down = Vec::new();
    while let Some(done) = probes.join_next().await {
        if let Ok(Some(name)) = done {
            down.push(name);
        }
    }
    down.sort();
    down
}
