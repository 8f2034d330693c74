//! Client-facing TLS: the server certificate and key of `proxy.tls_cert` /
//! `proxy.tls_key`, loaded once at startup into a rustls acceptor that both frontends
//! share. ring is the only crypto provider in the tree (DESIGN §11), so it is named
//! here explicitly instead of relying on a process-wide default.
//!
//! TLS settings change only at restart (`reload_rules` says so): a reload that swapped
//! certificates under running listeners would need its own rules for sessions already
//! past their handshake, and certificate rotation by restart is what operators expect
//! from PostgreSQL and MariaDB too.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use shardwire_conf::{ProxyConfig, TlsVersion};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client has to finish its TLS handshake: a client that sends SSLRequest
/// and then stalls must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The loaded TLS configuration of the client-facing listeners. Cheap to clone.
#[derive(Clone)]
pub struct TlsServer {
    acceptor: TlsAcceptor,
    /// `tls-server-end-point` data of the leaf certificate, for SCRAM-SHA-256-PLUS;
    /// `None` when its signature algorithm has no single hash.
    end_point: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer").finish_non_exhaustive()
    }
}

impl TlsServer {
    /// Loads `proxy.tls_cert` and `proxy.tls_key`; `Ok(None)` when TLS is not
    /// configured. Errors name the key and the file, and say what was wrong with it.
    pub fn from_config(proxy: &ProxyConfig) -> Result<Option<TlsServer>, String> {
        let (Some(cert_path), Some(key_path)) = (&proxy.tls_cert, &proxy.tls_key) else {
            return Ok(None);
        };
        let chain = load_certs(cert_path)?;
        let key = load_key(key_path)?;
        let end_point = chain
            .first()
            .and_then(|leaf| end_point::tls_server_end_point(leaf))
            .map(Arc::from);
        if end_point.is_none() {
            tracing::warn!(
                cert = %cert_path.display(),
                "the certificate's signature algorithm has no single hash: \
                 SCRAM channel binding (SCRAM-SHA-256-PLUS) is not offered"
            );
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = match proxy.tls_min_version {
            TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| format!("proxy.tls_min_version: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                format!(
                    "proxy.tls_key: {} does not fit the certificate in {}: {e}",
                    key_path.display(),
                    cert_path.display()
                )
            })?;
        Ok(Some(TlsServer {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            end_point,
        }))
    }

    /// The `tls-server-end-point` channel binding data of the certificate.
    pub fn channel_binding(&self) -> Option<&[u8]> {
        self.end_point.as_deref()
    }

    /// Runs the server side of the handshake on `stream`, within a time limit.
    /// `received` holds handshake bytes already read off the socket: a MySQL client
    /// sends its ClientHello right behind the SSLRequest without waiting for an answer,
    /// so the login's buffer may hold its start. The error is for the log: the client
    /// either gave up or does not trust us.
    pub async fn accept(
        &self,
        stream: TcpStream,
        received: &[u8],
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let mut received = received;
        let accept = self.acceptor.accept_with(stream, |conn| {
            // Fed before the handshake reads the socket. A malformed ClientHello fails
            // here; rustls then has no answer to send and the handshake waits for more
            // bytes, so the time limit below ends it.
            while !received.is_empty() {
                match conn.read_tls(&mut received) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if conn.process_new_packets().is_err() {
                            break;
                        }
                    }
                }
            }
        });
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "TLS handshake timed out",
            )),
        }
    }
}

/// The certificate chain of `proxy.tls_cert`: leaf first, as PEM.
fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read(path, "tls_cert")?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!(
                "proxy.tls_cert: {} is not a PEM certificate file: {e}",
                path.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!(
            "proxy.tls_cert: {} holds no certificate (expected a PEM \
             \"BEGIN CERTIFICATE\" block)",
            path.display()
        ));
    }
    Ok(chain)
}

/// The private key of `proxy.tls_key`: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), as PEM.
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read(path, "tls_key")?;
    // Whoever reads the key can impersonate the proxy: a warning, as for the config's
    // passwords.
    crate::config_secrets::warn_if_readable(path, "the TLS private key (proxy.tls_key)");
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        format!(
            "proxy.tls_key: {} holds no usable PEM private key: {e}",
            path.display()
        )
    })
}

fn read(path: &Path, key: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("proxy.{key}: cannot read {}: {e}", path.display()))
}

mod end_point;

#[cfg(test)]
mod tests;
