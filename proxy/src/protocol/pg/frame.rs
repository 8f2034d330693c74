//! Splitting a byte stream into protocol frames: a tag byte, then an int32 length that
//! counts itself. Frames stay in the receive buffer until the caller takes or skips them,
//! so forwarding is a copy of the bytes as received, never a decode.
//!
//! The length is checked before anything is buffered: a client announcing 2 GiB gets an
//! error, not an allocation.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes of tag + length.
pub const HEADER_LEN: usize = 5;
/// Default largest frame accepted (64 MiB).
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Why a stream could not be split into frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A length field beyond the limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLong {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A length field below the minimum of 4.
    #[error("invalid message length {0}")]
    BadLength(i64),
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a message")]
    Truncated,
    /// Socket error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A complete frame, tag and length included.
#[derive(Clone, Debug)]
pub struct Frame {
    raw: Bytes,
}

impl Frame {
    /// Wraps raw frame bytes (tag + length + body); the caller guarantees the shape.
    pub fn from_raw(raw: Bytes) -> Frame {
        Frame { raw }
    }

    /// The tag byte.
    pub fn tag(&self) -> u8 {
        self.raw[0]
    }

    /// The body after tag and length.
    pub fn body(&self) -> &[u8] {
        &self.raw[HEADER_LEN..]
    }

    /// The whole frame as received.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }
}

/// Tag and total length (header included) of the frame at the front of the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// The tag byte.
    pub tag: u8,
    /// Total bytes of the frame including tag and length.
    pub total: usize,
}

/// A buffered reader of frames.
#[derive(Debug)]
pub struct FrameReader<R> {
    io: R,
    buf: BytesMut,
    max_frame: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads frames from `io`, refusing any larger than `max_frame`.
    pub fn new(io: R, max_frame: usize) -> Self {
        FrameReader {
            io,
            // Small at first: an idle client's memory is mostly its buffers (see
            // bench/RESULTS.md); a connection that moves more data grows it once.
            buf: BytesMut::with_capacity(2 * 1024),
            max_frame,
        }
    }

    /// Bytes received but not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The underlying reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.io
    }

    /// The underlying reader (for reading the startup packets).
    pub fn get_ref(&self) -> &R {
        &self.io
    }

    /// The largest frame accepted.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// The underlying reader, dropping whatever is buffered (callers check
    /// [`FrameReader::buffer`] first when that matters, as before a TLS upgrade).
    pub fn into_inner(self) -> R {
        self.io
    }

    /// The header of the next frame if it is completely buffered.
    pub fn peek(&self) -> Result<Option<Header>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
        if len < 4 {
            return Err(FrameError::BadLength(i64::from(len)));
        }
        let len = len as usize;
        if len > self.max_frame {
            return Err(FrameError::TooLong {
                len,
                max: self.max_frame,
            });
        }
        let total = len + 1;
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(Header {
            tag: self.buf[0],
            total,
        }))
    }

    /// Reads more bytes from the socket; returns false on end of stream.
    pub async fn fill(&mut self) -> Result<bool, FrameError> {
        if self.buf.len() >= HEADER_LEN {
            let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
            if len >= 4 && (len as usize) <= self.max_frame {
                let total = len as usize + 1;
                if total > self.buf.len() {
                    self.buf.reserve(crate::protocol::growth(
                        total - self.buf.len(),
                        self.buf.len(),
                    ));
                }
            }
        }
        if self.buf.capacity() - self.buf.len() < 512 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.io.read_buf(&mut self.buf).await?;
        Ok(n > 0)
    }

    /// Drops the first `n` bytes of the buffer (a frame already copied elsewhere).
    pub fn consume(&mut self, n: usize) {
        self.buf.advance(n);
    }

    /// Takes the frame at the front as its own `Bytes`.
    pub fn take(&mut self, header: Header) -> Frame {
        Frame {
            raw: self.buf.split_to(header.total).freeze(),
        }
    }

    /// Waits for the next complete frame and takes it. `Ok(None)` on a clean end of stream
    /// between frames.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        loop {
            if let Some(h) = self.peek()? {
                return Ok(Some(self.take(h)));
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
        }
    }

    /// Reads an untagged startup-phase packet (int32 length + body); returns the body.
    pub async fn next_startup(&mut self, max: usize) -> Result<Option<Bytes>, FrameError> {
        loop {
            if self.buf.len() >= 4 {
                let len = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                if len < 8 {
                    return Err(FrameError::BadLength(i64::from(len)));
                }
                let len = len as usize;
                if len > max {
                    return Err(FrameError::TooLong { len, max });
                }
                if self.buf.len() >= len {
                    let mut packet = self.buf.split_to(len);
                    packet.advance(4);
                    return Ok(Some(packet.freeze()));
                }
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn splits_frames_and_rejects_huge_lengths() {
        let mut data = Vec::new();
        data.extend_from_slice(&[b'Q', 0, 0, 0, 9]);
        data.extend_from_slice(b"abcd\0");
        data.extend_from_slice(&[b'X', 0x7f, 0xff, 0xff, 0xff]);
        let mut r = FrameReader::new(&data[..], DEFAULT_MAX_FRAME);
        let f = r.next_frame().await.unwrap().unwrap();
        assert_eq!(f.tag(), b'Q');
        assert_eq!(f.body(), b"abcd\0");
        assert!(matches!(
            r.next_frame().await,
            Err(FrameError::TooLong { .. })
        ));
    }

    #[tokio::test]
    async fn an_announced_length_does_not_reserve_memory_before_the_bytes_arrive() {
        // 64 MiB announced, 16 bytes sent.
        let mut data = vec![b'Q', 0x04, 0, 0, 0];
        data.extend_from_slice(&[b'x'; 16]);
        let mut r = FrameReader::new(&data[..], DEFAULT_MAX_FRAME);
        while r.fill().await.unwrap() {}
        assert!(r.buf.capacity() < 256 * 1024, "{}", r.buf.capacity());
        assert_eq!(crate::protocol::growth(1 << 26, 100), 64 * 1024);
        assert_eq!(crate::protocol::growth(1 << 26, 1 << 20), 1 << 20);
        assert_eq!(crate::protocol::growth(10, 1 << 20), 10);
    }

    #[tokio::test]
    async fn negative_and_short_lengths_are_errors() {
        for bad in [[b'Q', 0xff, 0xff, 0xff, 0xff], [b'Q', 0, 0, 0, 3]] {
            let mut r = FrameReader::new(&bad[..], DEFAULT_MAX_FRAME);
            assert!(matches!(
                r.next_frame().await,
                Err(FrameError::BadLength(_))
            ));
        }
        let mut r = FrameReader::new(&[b'Q', 0, 0][..], DEFAULT_MAX_FRAME);
        assert!(matches!(r.next_frame().await, Err(FrameError::Truncated)));
    }
}
