//! A client connection's two directions, plaintext or TLS, for both frontends.
//!
//! Sessions read and write through [`ClientReader`] and [`ClientWriter`], enums over
//! the TCP halves and the halves of a rustls stream. Why enums and not `Box<dyn
//! AsyncRead>`: the plaintext hot path then costs one match per poll — no allocation,
//! no virtual call, and no lock (tokio's `split` of the TLS stream takes a lock per
//! poll; the TCP halves do not, so plaintext keeps `into_split`).
//!
//! Upgrading (PostgreSQL SSLRequest, MySQL CLIENT_SSL) happens during login, before any
//! byte the client sent after its request is read: [`upgrade`] puts the TCP halves back
//! together, runs the handshake and splits the TLS stream.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::tls::TlsServer;

/// The receiving half of a client connection.
#[derive(Debug)]
pub enum ClientReader {
    /// Plain TCP.
    Plain(OwnedReadHalf),
    /// TLS over TCP.
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

/// The sending half of a client connection.
#[derive(Debug)]
pub enum ClientWriter {
    /// Plain TCP.
    Plain(OwnedWriteHalf),
    /// TLS over TCP.
    Tls(WriteHalf<TlsStream<TcpStream>>),
}

/// Splits a freshly accepted connection.
pub fn plain(stream: TcpStream) -> (ClientReader, ClientWriter) {
    let (r, w) = stream.into_split();
    (ClientReader::Plain(r), ClientWriter::Plain(w))
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
    let (ClientReader::Plain(r), ClientWriter::Plain(w)) = (reader, writer) else {
        return Err(UpgradeError::AlreadyTls);
    };
    let stream = r.reunite(w).map_err(|_| UpgradeError::Mismatched)?;
    let encrypted = tls.accept(stream, received).await?;
    let (r, w) = tokio::io::split(encrypted);
    Ok((ClientReader::Tls(r), ClientWriter::Tls(w)))
}

impl ClientReader {
    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, ClientReader::Tls(_))
    }
}

impl ClientWriter {
    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, ClientWriter::Tls(_))
    }
}

impl AsyncRead for ClientReader {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientReader::Plain(r) => Pin::new(r).poll_read(cx, buf),
            ClientReader::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientWriter {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ClientWriter::Plain(w) => Pin::new(w).poll_write(cx, buf),
            ClientWriter::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ClientWriter::Plain(w) => Pin::new(w).poll_write_vectored(cx, bufs),
            ClientWriter::Tls(w) => Pin::new(w).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ClientWriter::Plain(w) => w.is_write_vectored(),
            ClientWriter::Tls(w) => w.is_write_vectored(),
        }
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientWriter::Plain(w) => Pin::new(w).poll_flush(cx),
            ClientWriter::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ClientWriter::Plain(w) => Pin::new(w).poll_shutdown(cx),
            ClientWriter::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}
