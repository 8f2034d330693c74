//! The two directions of a TCP connection, plaintext or TLS: what client sessions and
//! backend connections read and write through.
//!
//! Enums and not `Box<dyn AsyncRead>`: the plaintext hot path then costs one match per
//! poll — no allocation, no virtual call, and no lock (tokio's `split` of a TLS stream
//! takes a lock per poll; the TCP halves of `into_split` do not). `T` is the TLS stream
//! type: rustls' server side for clients ([`crate::frontend::client_stream`]), its
//! client side for backends ([`crate::backend::tls`]).

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// The receiving half of a connection.
#[derive(Debug)]
pub enum SplitReader<T> {
    /// Plain TCP.
    Plain(OwnedReadHalf),
    /// TLS over TCP.
    Tls(ReadHalf<T>),
}

/// The sending half of a connection.
#[derive(Debug)]
pub enum SplitWriter<T> {
    /// Plain TCP.
    Plain(OwnedWriteHalf),
    /// TLS over TCP.
    Tls(WriteHalf<T>),
}

/// Splits a plaintext connection.
pub fn plain<T>(stream: TcpStream) -> (SplitReader<T>, SplitWriter<T>) {
    let (r, w) = stream.into_split();
    (SplitReader::Plain(r), SplitWriter::Plain(w))
}

/// Splits an encrypted connection.
pub fn encrypted<T: AsyncRead + AsyncWrite>(stream: T) -> (SplitReader<T>, SplitWriter<T>) {
    let (r, w) = tokio::io::split(stream);
    (SplitReader::Tls(r), SplitWriter::Tls(w))
}

impl<T: AsyncWrite> SplitWriter<T> {
    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, SplitWriter::Tls(_))
    }

    /// Writes all of `buf` and, over TLS, flushes: rustls keeps records the socket did
    /// not take yet until the next write or flush, and the peer would wait for them
    /// forever. On TCP this is `write_all` alone.
    #[inline]
    pub async fn send_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            SplitWriter::Plain(w) => w.write_all(buf).await,
            SplitWriter::Tls(w) => {
                w.write_all(buf).await?;
                w.flush().await
            }
        }
    }
}

impl<T: AsyncRead> AsyncRead for SplitReader<T> {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SplitReader::Plain(r) => Pin::new(r).poll_read(cx, buf),
            SplitReader::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl<T: AsyncWrite> AsyncWrite for SplitWriter<T> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            SplitWriter::Plain(w) => Pin::new(w).poll_write(cx, buf),
            SplitWriter::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            SplitWriter::Plain(w) => Pin::new(w).poll_write_vectored(cx, bufs),
            SplitWriter::Tls(w) => Pin::new(w).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            SplitWriter::Plain(w) => w.is_write_vectored(),
            SplitWriter::Tls(w) => w.is_write_vectored(),
        }
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SplitWriter::Plain(w) => Pin::new(w).poll_flush(cx),
            SplitWriter::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SplitWriter::Plain(w) => Pin::new(w).poll_shutdown(cx),
            SplitWriter::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}
