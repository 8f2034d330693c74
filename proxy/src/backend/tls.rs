//! TLS from the proxy to PostgreSQL backends (`backend_tls = "verify-full"`): the node's
//! certificate must chain to `backend_tls_ca` and carry the node's host name or IP
//! address, as libpq's `sslmode=verify-full` checks. Used by pooled data connections
//! ([`super::pg::ServerConn`]) and by the control plane's tokio-postgres clients
//! ([`postgres`]).
//!
//! The CA file is read on a node's first connection and kept with the node; startup
//! (`Cluster::build`) reads it once up front so a bad file stops the proxy with its name.
//! Cancel requests stay plaintext: PostgreSQL reads a CancelRequest before any TLS or
//! `pg_hba.conf` rule, and it carries only the connection's key.

pub mod postgres;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig};
use tokio_rustls::TlsConnector;

use crate::protocol::pg::tag::startup;
use crate::stream::{SplitReader, SplitWriter};

/// The receiving half of a backend connection.
pub type ServerReader = SplitReader<TlsStream<TcpStream>>;

/// The sending half of a backend connection.
pub type ServerWriter = SplitWriter<TlsStream<TcpStream>>;

/// TLS settings of one node.
pub struct NodeTls {
    /// The CA file (compared on reload: a node reached through another CA is another
    /// way of reaching it).
    pub ca: PathBuf,
    /// The name the certificate must carry: the host of the node's address.
    host: String,
    config: OnceLock<Arc<ClientConfig>>,
}

impl std::fmt::Debug for NodeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTls")
            .field("ca", &self.ca)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl NodeTls {
    /// `verify-full` against `ca` for a node at `host`.
    pub fn new(ca: PathBuf, host: String) -> NodeTls {
        NodeTls {
            ca,
            host,
            config: OnceLock::new(),
        }
    }

    /// The rustls client configuration, loaded on first use.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        if let Some(config) = self.config.get() {
            return Ok(config.clone());
        }
        let config = client_config(&self.ca)?;
        Ok(self.config.get_or_init(|| config).clone())
    }

    /// The name the certificate is checked against (a DNS name or an IP address).
    pub fn server_name(&self) -> Result<ServerName<'static>, String> {
        ServerName::try_from(self.host.clone())
            .map_err(|_| format!("\"{}\" is neither a DNS name nor an IP address", self.host))
    }

    /// The TLS handshake on a connected socket, as a client of `server_name`.
    pub async fn connect(&self, tcp: TcpStream) -> Result<TlsStream<TcpStream>, String> {
        let config = self.client_config()?;
        let name = self.server_name()?;
        TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))
    }
}

/// A rustls client configuration trusting the PEM certificates in `ca` (ring, like the
/// rest of the tree). Errors name the file.
pub fn client_config(ca: &Path) -> Result<Arc<ClientConfig>, String> {
    let bytes = std::fs::read(ca)
        .map_err(|e| format!("backend_tls_ca: cannot read {}: {e}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| {
            format!(
                "backend_tls_ca: {} is not a PEM certificate file: {e}",
                ca.display()
            )
        })?;
        roots.add(cert).map_err(|e| {
            format!(
                "backend_tls_ca: {} holds an unusable certificate: {e}",
                ca.display()
            )
        })?;
    }
    if roots.is_empty() {
        return Err(format!(
            "backend_tls_ca: {} holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)",
            ca.display()
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("backend TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// PostgreSQL's TLS negotiation on a fresh connection: SSLRequest, the server's one-byte
/// answer, then the handshake. 'N' (the server has `ssl = off`) is an error, never a
/// fall-back to plaintext.
pub async fn negotiate_pg(
    tls: &NodeTls,
    mut tcp: TcpStream,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, String> {
    let negotiate = async {
        let mut request = bytes::BytesMut::with_capacity(8);
        crate::protocol::pg::build::startup_packet(&mut request, startup::SSL_REQUEST, |_| {});
        tcp.write_all(&request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let answer = tcp.read_u8().await.map_err(|e| format!("read: {e}"))?;
        match answer {
            startup::SSL_ACCEPTED => tls.connect(tcp).await,
            startup::SSL_REFUSED => Err(
                "the server does not accept TLS (ssl = off), and backend_tls is verify-full".into(),
            ),
            other => Err(format!("unexpected answer {other:#04x} to SSLRequest")),
        }
    };
    tokio::time::timeout(timeout, negotiate)
        .await
        .map_err(|_| "TLS negotiation timed out".to_string())?
}

/// Whether an idle TLS connection's socket is closed or has data (it should be silent):
/// one read attempt that must not block. A TLS record that arrives whole counts as
/// data, a partial one as silence.
pub fn idle_tls_is_dead(reader: &mut ServerReader) -> bool {
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    use tokio::io::{AsyncRead, ReadBuf};
    let mut probe = [0u8; 1];
    let mut buf = ReadBuf::new(&mut probe);
    let mut cx = Context::from_waker(Waker::noop());
    !matches!(Pin::new(reader).poll_read(&mut cx, &mut buf), Poll::Pending)
}
