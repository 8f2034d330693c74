//! Reading MySQL packets off a socket, for both sides of the MySQL data path: the
//! [`Splitter`] of `protocol::mysql::packet` over a receive buffer that grows to one
//! packet at most.
//!
//! A packet comes out whole, header included, as one `Bytes` slice of the receive
//! buffer: the session forwards it unchanged (or patches its sequence id) and looks at
//! the payload only where it must. The announced length is checked before anything is
//! buffered, so a peer announcing 16 MiB it never sends costs nothing but a timeout.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

pub use crate::protocol::mysql::packet::Packet;
use crate::protocol::mysql::packet::{PacketError, Splitter};

/// Why no packet could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer closed the connection (cleanly between packets, or in the middle).
    #[error("connection closed")]
    Closed,
    /// A socket error.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The packet announces more than the limit.
    #[error("packet of {announced} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Announced logical size so far (continuations included).
        announced: usize,
        /// The limit.
        limit: usize,
    },
}

/// Reads packets from `R`.
#[derive(Debug)]
pub struct PacketReader<R> {
    inner: R,
    buf: BytesMut,
    splitter: Splitter,
}

impl<R: AsyncRead + Unpin> PacketReader<R> {
    /// A reader refusing logical packets (continuations summed) longer than `max_payload`.
    pub fn new(inner: R, max_payload: usize) -> PacketReader<R> {
        PacketReader {
            inner,
            // Small at first (idle clients); grown once by connections that move more.
            buf: BytesMut::with_capacity(4 * 1024),
            splitter: Splitter::new(max_payload),
        }
    }

    /// Changes the limit for the packets that follow (between packets only).
    pub fn set_limit(&mut self, max_payload: usize) {
        self.splitter = Splitter::new(max_payload);
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader, mutably (for probing an idle connection).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The underlying reader, dropping whatever is buffered (callers check
    /// [`PacketReader::buffered`] first when that matters, as before a TLS upgrade).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Bytes received but not yet returned as packets.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// The next physical packet.
    pub async fn next(&mut self) -> Result<Packet, ReadError> {
        loop {
            match self.splitter.next_packet(&mut self.buf) {
                Ok(Some(packet)) => return Ok(packet),
                Ok(None) => {}
                Err(PacketError::TooLarge { len, max }) => {
                    return Err(ReadError::TooLarge {
                        announced: len,
                        limit: max,
                    })
                }
            }
            if let Ok(Some(header)) = self.splitter.peek(&self.buf) {
                // Room follows the bytes that arrived, not the announced length.
                let missing = header.total().saturating_sub(self.buf.len());
                self.buf
                    .reserve(crate::protocol::growth(missing, self.buf.len()));
            }
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(16 * 1024);
            }
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                return Err(ReadError::Closed);
            }
        }
    }
}

/// A packet (sequence id 0) holding `payload`, as if received: for commands the proxy
/// runs on a client's behalf. Payloads of 16 MiB or more are cut to the first packet.
pub fn packet_of(payload: &[u8]) -> Packet {
    let mut buf = BytesMut::with_capacity(payload.len() + 4);
    put_packet(&mut buf, 0, payload);
    match Splitter::new(usize::MAX).next_packet(&mut buf) {
        Ok(Some(packet)) => packet,
        _ => unreachable!("a whole packet was just written"),
    }
}

/// Appends a packet with `payload` and sequence id `seq`.
pub fn put_packet(out: &mut BytesMut, seq: u8, payload: &[u8]) {
    let mut seq = seq;
    crate::protocol::mysql::packet::write_packet(out, &mut seq, payload);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn packets_come_out_whole_and_in_order() {
        let mut wire = BytesMut::new();
        put_packet(&mut wire, 0, b"\x03SELECT 1");
        put_packet(&mut wire, 1, b"");
        let mut reader = PacketReader::new(&wire[..], 1024);
        let first = reader.next().await.unwrap();
        assert_eq!((first.seq(), first.payload()), (0, &b"\x03SELECT 1"[..]));
        let second = reader.next().await.unwrap();
        assert_eq!((second.seq(), second.payload()), (1, &b""[..]));
        assert!(matches!(reader.next().await, Err(ReadError::Closed)));
    }

    #[tokio::test]
    async fn an_oversized_announcement_is_refused_before_buffering() {
        // 16 MiB - 1 announced, nothing sent.
        let wire = [0xff, 0xff, 0xff, 0];
        let mut reader = PacketReader::new(&wire[..], 1 << 20);
        assert!(matches!(
            reader.next().await,
            Err(ReadError::TooLarge {
                announced: 0xFF_FFFF,
                ..
            })
        ));
    }
}
