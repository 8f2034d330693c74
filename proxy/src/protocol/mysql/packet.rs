//! Packet framing: a 3-byte little-endian payload length, a 1-byte sequence id, then the
//! payload. A payload of exactly [`MAX_PAYLOAD`] bytes continues in the next packet (the
//! sequence id goes on counting); a logical payload that is an exact multiple of
//! [`MAX_PAYLOAD`] ends with an empty packet.
//!
//! The [`Splitter`] hands out complete raw packets from a receive buffer so forwarding is
//! a copy of the bytes as received. It checks the *logical* size (the sum of the lengths
//! announced so far for one payload) against the caller's limit as soon as a header is
//! buffered: a peer announcing 16 MiB is refused before 16 MiB are waited for or
//! allocated.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Bytes of length + sequence id before every payload.
pub const HEADER_LEN: usize = 4;
/// The largest payload one packet carries; a packet this long is continued by the next.
pub const MAX_PAYLOAD: usize = 0xFF_FFFF;
/// Default limit on a logical payload (64 MiB, MariaDB's default `max_allowed_packet`
/// is 16 MiB; clients may send up to 1 GiB).
pub const DEFAULT_MAX_PAYLOAD: usize = 64 << 20;

/// Why a byte stream could not be split into packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The announced logical payload exceeds the limit (answer `ER_NET_PACKET_TOO_LARGE`).
    #[error("packet of at least {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Logical payload length announced so far.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The header of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketHeader {
    /// Payload length (0..=[`MAX_PAYLOAD`]).
    pub len: usize,
    /// Sequence id.
    pub seq: u8,
}

impl PacketHeader {
    /// The header at the front of `buf`, if 4 bytes are there.
    pub fn parse(buf: &[u8]) -> Option<PacketHeader> {
        match buf {
            [a, b, c, seq, ..] => Some(PacketHeader {
                len: usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16,
                seq: *seq,
            }),
            _ => None,
        }
    }

    /// Header plus payload bytes.
    pub fn total(&self) -> usize {
        HEADER_LEN + self.len
    }

    /// Whether the payload continues in the next packet.
    pub fn continued(&self) -> bool {
        self.len == MAX_PAYLOAD
    }
}

/// One complete packet as received, header included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    raw: Bytes,
    continuation: bool,
}

impl Packet {
    /// The packet's bytes, header included, for forwarding.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The payload after the header.
    pub fn payload(&self) -> &[u8] {
        self.raw.get(HEADER_LEN..).unwrap_or_default()
    }

    /// Sequence id.
    pub fn seq(&self) -> u8 {
        self.raw.get(3).copied().unwrap_or(0)
    }

    /// Whether this packet continues a previous 0xFFFFFF-byte packet (it is not the start
    /// of a logical payload, so its first byte means nothing).
    pub fn is_continuation(&self) -> bool {
        self.continuation
    }

    /// Whether the payload continues in the next packet.
    pub fn continues(&self) -> bool {
        self.payload().len() == MAX_PAYLOAD
    }
}

/// Splits a receive buffer into packets, checking each logical payload against a limit.
#[derive(Clone, Debug)]
pub struct Splitter {
    max_payload: usize,
    /// Payload bytes of the current logical payload in earlier 0xFFFFFF-byte packets.
    pending: usize,
}

impl Splitter {
    /// A splitter refusing logical payloads longer than `max_payload` bytes.
    pub fn new(max_payload: usize) -> Splitter {
        Splitter {
            max_payload,
            pending: 0,
        }
    }

    /// The header at the front of `buf`, after checking the limit; `Ok(None)` when fewer
    /// than 4 bytes are buffered. Use `total()` to reserve room for the packet.
    pub fn peek(&self, buf: &[u8]) -> Result<Option<PacketHeader>, PacketError> {
        let Some(h) = PacketHeader::parse(buf) else {
            return Ok(None);
        };
        let len = self.pending.saturating_add(h.len);
        // A 0xFFFFFF packet promises at least one more byte or an empty packet; only
        // the bytes announced so far count.
        if len > self.max_payload {
            return Err(PacketError::TooLarge {
                len,
                max: self.max_payload,
            });
        }
        Ok(Some(h))
    }

    /// Takes the next complete packet off the front of `buf`; `Ok(None)` until it is
    /// completely buffered.
    pub fn next_packet(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, PacketError> {
        let Some(h) = self.peek(buf)? else {
            return Ok(None);
        };
        if buf.len() < h.total() {
            return Ok(None);
        }
        let continuation = self.pending > 0;
        self.pending = if h.continued() {
            self.pending + h.len
        } else {
            0
        };
        Ok(Some(Packet {
            raw: buf.split_to(h.total()).freeze(),
            continuation,
        }))
    }

    /// Takes the next complete logical payload (all its packets) off the front of `buf`,
    /// joined; `Ok(None)` until all of it is buffered. Returns the sequence id of its last
    /// packet. Zero-copy when the payload fits in one packet.
    pub fn next_payload(&mut self, buf: &mut BytesMut) -> Result<Option<(u8, Bytes)>, PacketError> {
        // Walk the headers without consuming, checking the limit on each.
        let mut at = 0;
        let mut count = 0;
        let mut logical = self.pending;
        loop {
            let Some(h) = PacketHeader::parse(buf.get(at..).unwrap_or_default()) else {
                return Ok(None);
            };
            logical = logical.saturating_add(h.len);
            if logical > self.max_payload {
                return Err(PacketError::TooLarge {
                    len: logical,
                    max: self.max_payload,
                });
            }
            if buf.len() < at + h.total() {
                return Ok(None);
            }
            at += h.total();
            count += 1;
            if !h.continued() {
                break;
            }
        }
        self.pending = 0;
        let mut raw = buf.split_to(at);
        if count == 1 {
            let seq = raw.get(3).copied().unwrap_or(0);
            raw.advance(HEADER_LEN);
            return Ok(Some((seq, raw.freeze())));
        }
        let mut joined = BytesMut::with_capacity(at - count * HEADER_LEN);
        let mut seq = 0;
        while let Some(h) = PacketHeader::parse(&raw) {
            seq = h.seq;
            raw.advance(HEADER_LEN);
            joined.put_slice(&raw.split_to(h.len.min(raw.len())));
        }
        Ok(Some((seq, joined.freeze())))
    }
}

/// Appends `payload` as one or more packets starting at sequence id `*seq`, splitting at
/// [`MAX_PAYLOAD`] (with the empty trailing packet for an exact multiple); `*seq` is left
/// at the next id to use.
pub fn write_packet(out: &mut BytesMut, seq: &mut u8, payload: &[u8]) {
    out.reserve(payload.len() + HEADER_LEN * (1 + payload.len() / MAX_PAYLOAD));
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_PAYLOAD);
        put_header(out, n, *seq);
        *seq = seq.wrapping_add(1);
        let (chunk, tail) = rest.split_at(n);
        out.put_slice(chunk);
        rest = tail;
        if n < MAX_PAYLOAD {
            break;
        }
    }
}

/// Appends a packet whose payload `f` writes, at sequence id `*seq` (advanced past it).
/// A payload of [`MAX_PAYLOAD`] bytes or more is split as [`write_packet`] does.
pub fn framed(out: &mut BytesMut, seq: &mut u8, f: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_slice(&[0; HEADER_LEN]);
    f(out);
    let len = out.len() - start - HEADER_LEN;
    if len < MAX_PAYLOAD {
        let [a, b, c, _] = (len as u32).to_le_bytes();
        out[start..start + HEADER_LEN].copy_from_slice(&[a, b, c, *seq]);
        *seq = seq.wrapping_add(1);
        return;
    }
    // Rare: split the payload into several packets.
    let payload = out.split_off(start + HEADER_LEN);
    out.truncate(start);
    write_packet(out, seq, &payload);
}

fn put_header(out: &mut BytesMut, len: usize, seq: u8) {
    let [a, b, c, _] = (len as u32).to_le_bytes();
    out.put_slice(&[a, b, c, seq]);
}

/// Test helper: every packet of `data` as (sequence id, payload).
#[cfg(test)]
pub(super) fn split_all(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut buf = BytesMut::from(data);
    let mut s = Splitter::new(usize::MAX);
    let mut out = Vec::new();
    while let Ok(Some(p)) = s.next_packet(&mut buf) {
        out.push((p.seq(), p.payload().to_vec()));
    }
    assert!(buf.is_empty(), "incomplete packet at the end");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(data: &[u8], max: usize) -> Result<Vec<Packet>, PacketError> {
        let mut buf = BytesMut::from(data);
        let mut s = Splitter::new(max);
        let mut out = Vec::new();
        while let Some(p) = s.next_packet(&mut buf)? {
            out.push(p);
        }
        assert!(buf.is_empty(), "left over: {} bytes", buf.len());
        Ok(out)
    }

    #[test]
    fn header_parses_little_endian_length_and_seq() {
        let h = PacketHeader::parse(&[0x01, 0x02, 0x03, 7, 0xAA]).unwrap();
        assert_eq!(
            h,
            PacketHeader {
                len: 0x030201,
                seq: 7
            }
        );
        assert_eq!(h.total(), 0x030205);
        assert!(PacketHeader::parse(&[1, 0, 0]).is_none());
    }

    #[test]
    fn small_payload_round_trips() {
        let mut out = BytesMut::new();
        let mut seq = 3;
        write_packet(&mut out, &mut seq, b"\x03SELECT 1");
        assert_eq!(seq, 4);
        assert_eq!(&out[..4], &[9, 0, 0, 3]);
        let p = packets(&out, 100).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].payload(), b"\x03SELECT 1");
        assert_eq!(p[0].seq(), 3);
        assert!(!p[0].is_continuation());
    }

    #[test]
    fn empty_payload_is_one_empty_packet() {
        let mut out = BytesMut::new();
        let mut seq = 0;
        write_packet(&mut out, &mut seq, b"");
        assert_eq!(&out[..], &[0, 0, 0, 0]);
        assert_eq!(seq, 1);
    }

    #[test]
    fn exact_multiple_of_max_gets_empty_trailing_packet() {
        let payload = vec![0xAB; MAX_PAYLOAD];
        let mut out = BytesMut::new();
        let mut seq = 255;
        write_packet(&mut out, &mut seq, &payload);
        assert_eq!(seq, 1, "sequence ids wrap");
        assert_eq!(out.len(), MAX_PAYLOAD + 8);
        assert_eq!(&out[..4], &[0xFF, 0xFF, 0xFF, 255]);
        assert_eq!(&out[MAX_PAYLOAD + 4..], &[0, 0, 0, 0]);
        let p = packets(&out, usize::MAX).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[0].continues() && !p[0].is_continuation());
        assert!(p[1].is_continuation() && p[1].payload().is_empty());

        let mut buf = out.clone();
        let (last_seq, joined) = Splitter::new(MAX_PAYLOAD)
            .next_payload(&mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(last_seq, 0);
        assert_eq!(joined.len(), MAX_PAYLOAD);
        assert!(buf.is_empty());
    }

    #[test]
    fn one_byte_over_max_splits_in_two() {
        let mut payload = vec![1u8; MAX_PAYLOAD + 1];
        payload[MAX_PAYLOAD] = 2;
        let mut out = BytesMut::new();
        let mut seq = 0;
        write_packet(&mut out, &mut seq, &payload);
        assert_eq!(seq, 2);
        assert_eq!(&out[MAX_PAYLOAD + 4..], &[1, 0, 0, 1, 2]);
        let (_, joined) = Splitter::new(usize::MAX)
            .next_payload(&mut out)
            .unwrap()
            .unwrap();
        assert_eq!(&joined[..], &payload[..]);
    }

    #[test]
    fn framed_matches_write_packet_also_when_large() {
        for len in [0, 10, MAX_PAYLOAD - 1, MAX_PAYLOAD, 2 * MAX_PAYLOAD + 5] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let (mut a, mut b) = (BytesMut::from(&b"xx"[..]), BytesMut::from(&b"xx"[..]));
            let (mut sa, mut sb) = (9, 9);
            write_packet(&mut a, &mut sa, &payload);
            framed(&mut b, &mut sb, |o| o.put_slice(&payload));
            assert_eq!(sa, sb, "len {len}");
            assert!(a == b, "len {len}");
        }
    }

    #[test]
    fn announced_size_over_limit_is_refused_before_buffering() {
        // Header only: 16 MiB - 1 announced, nothing else sent.
        let mut buf = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0][..]);
        let mut s = Splitter::new(1 << 20);
        assert_eq!(
            s.next_packet(&mut buf),
            Err(PacketError::TooLarge {
                len: MAX_PAYLOAD,
                max: 1 << 20
            })
        );
        assert!(matches!(
            s.next_payload(&mut buf),
            Err(PacketError::TooLarge { .. })
        ));
    }

    #[test]
    fn logical_size_counts_continuations() {
        let max = MAX_PAYLOAD + 10;
        let mut data = BytesMut::new();
        let mut seq = 0;
        write_packet(&mut data, &mut seq, &vec![0; MAX_PAYLOAD + 11]);
        assert!(
            matches!(packets(&data, max), Err(PacketError::TooLarge { len, .. }) if len == MAX_PAYLOAD + 11)
        );
        // Only the first packet's header and the second's header: refused already.
        let mut partial = BytesMut::from(&data[..4]);
        let mut s = Splitter::new(max);
        assert!(s.next_packet(&mut partial).unwrap().is_none());
        let mut buf = data.clone();
        let mut s = Splitter::new(max);
        assert!(s.next_packet(&mut buf).unwrap().is_some());
        assert!(s.next_packet(&mut BytesMut::from(&buf[..4])).is_err());
        assert!(Splitter::new(max).next_payload(&mut data.clone()).is_err());
    }

    #[test]
    fn partial_input_waits_without_consuming() {
        let mut out = BytesMut::new();
        let mut seq = 0;
        write_packet(&mut out, &mut seq, b"hello");
        write_packet(&mut out, &mut seq, b"world");
        for cut in 0..out.len() {
            let mut buf = BytesMut::from(&out[..cut]);
            let mut s = Splitter::new(100);
            let mut n = 0;
            while let Some(p) = s.next_packet(&mut buf).unwrap() {
                assert_eq!(p.payload().len(), 5);
                n += 1;
            }
            assert_eq!(n, usize::from(cut >= 9) + usize::from(cut >= 18));
            let mut buf = BytesMut::from(&out[..cut]);
            let got = Splitter::new(100).next_payload(&mut buf).unwrap();
            assert_eq!(got.is_some(), cut >= 9);
        }
    }
}
