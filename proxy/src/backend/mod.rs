//! The executor's side of the pipeline that faces the databases: raw PostgreSQL
//! ([`pg`]) and MariaDB/MySQL ([`mysql`]) server connections and per-node pools of them
//! ([`pool`]).

pub mod control;
pub mod mysql;
pub mod pg;
pub mod pool;
pub mod tls;

use std::time::Duration;

use tokio::net::TcpStream;

use pg::{NodeInfo, ServerError};

/// A failed connect to `node`, counted in `shardwire_backend_errors_total` as `kind`.
pub fn connect_failed(node: &NodeInfo, kind: &'static str, reason: String) -> ServerError {
    crate::metrics::backend_error(&node.name, kind);
    ServerError::Connect {
        node: node.name.clone(),
        reason,
    }
}

/// A TCP connection to `node` (no Nagle), within `timeout`; failures are counted in
/// `shardwire_backend_errors_total` by kind.
pub async fn connect_tcp(node: &NodeInfo, timeout: Duration) -> Result<TcpStream, ServerError> {
    let failed = |kind, reason| connect_failed(node, kind, reason);
    let stream = tokio::time::timeout(timeout, TcpStream::connect(&node.addr))
        .await
        .map_err(|_| failed("timeout", format!("{} timed out", node.addr)))?
        .map_err(|e| {
            failed(
                crate::metrics::backend_error_kind(&e),
                format!("{}: {e}", node.addr),
            )
        })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
