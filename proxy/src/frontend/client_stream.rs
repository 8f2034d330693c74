//! A client connection's two directions, plaintext or TLS, for both frontends
//! ([`crate::stream`] with rustls' server side), and the switch to TLS.
//!
//! Upgrading (PostgreSQL SSLRequest, MySQL CLIENT_SSL) happens during login, before any
//! byte the client sent after its request is read as protocol: [`upgrade`] puts the TCP
//! halves back together, runs the handshake and splits the TLS stream.

use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::stream::{self, SplitReader, SplitWriter};
use crate::tls::TlsServer;

/// The receiving half of a client connection.
pub type ClientReader = SplitReader<TlsStream<TcpStream>>;

/// The sending half of a client connection.
pub type ClientWriter = SplitWriter<TlsStream<TcpStream>>;

/// Splits a freshly accepted connection.
pub fn plain(stream: TcpStream) -> (ClientReader, ClientWriter) {
    stream::plain(stream)
}

/// Why a connection could not switch to TLS.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The connection is already encrypted (a second request is a protocol violation).
    #[error("TLS is already in use on this connection")]
    AlreadyTls,
    /// The halves did not come from the same socket (a bug, not the client's doing).
    #[error("socket halves do not belong together")]
    Mismatched,
    /// The handshake failed or timed out.
    #[error("TLS handshake failed: {0}")]
    Handshake(#[from] std::io::Error),
}

/// Runs the TLS handshake on a plaintext connection and returns the encrypted halves.
/// `received`: bytes read after the client's TLS request, handed to the handshake as
/// its first input (MySQL clients send the ClientHello without waiting). Anything else
/// the client sent in the clear must never be taken as if it had come through TLS
/// (CVE-2021-23214 in PostgreSQL), which is why PostgreSQL, whose clients wait for the
/// 'S', refuses buffered bytes before calling this.
pub async fn upgrade(
    reader: ClientReader,
    writer: ClientWriter,
    tls: &TlsServer,
    received: &[u8],
) -> Result<(ClientReader, ClientWriter), UpgradeError> {
    let (SplitReader::Plain(r), SplitWriter::Plain(w)) = (reader, writer) else {
        return Err(UpgradeError::AlreadyTls);
    };
    let stream = r.reunite(w).map_err(|_| UpgradeError::Mismatched)?;
    let encrypted = tls.accept(stream, received).await?;
    Ok(stream::encrypted(encrypted))
}
