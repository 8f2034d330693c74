//! A session's causal position: for each shard, the WAL position a replica must have
//! replayed before it may serve this session a read (DESIGN §6, `session` level). The same
//! value lives in the session while it runs and travels between connections (even between
//! proxies) as `shardwire.session_token`, so one type serves both: the session
//! [`observe`](SessionToken::observe)s positions after commits and reads, the policy asks
//! [`required`](SessionToken::required), and `SHOW`/`SET shardwire.session_token`
//! [`encode`](SessionToken::encode) and [`decode`](SessionToken::decode) +
//! [`merge`](SessionToken::merge) it.
//!
//! Text form: `sw<version>.` + base64url (no padding) of a compact binary (big-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version (1) |
//! | 4 | CRC-32 of the logical database name: a token from another database is refused |
//! | 4 | entry count *n* |
//! | 12 × *n* | shard (u32), LSN (u64), shards strictly ascending |
//! | 4 | CRC-32 of everything before: a mistyped or truncated token is refused |
//!
//! Version 1 carries PostgreSQL LSNs only. MySQL GTID positions will be a new version whose
//! entries start with a position-kind byte; the version in the prefix is checked before
//! anything else, so each version may lay out its bytes freely.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::lsn::Lsn;

/// The only token version this proxy writes and reads.
pub const TOKEN_VERSION: u8 = 1;

/// Longest token text accepted; far above any real cluster, it keeps a hostile `SET` cheap.
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Bytes of one version-1 entry: shard (u32) and LSN (u64).
const ENTRY_LEN: usize = 4 + 8;

/// Bytes of the version-1 header: version, database hash, entry count.
const HEADER_LEN: usize = 1 + 4 + 4;

/// Bytes of the trailing checksum.
const CHECKSUM_LEN: usize = 4;

/// Fewer bytes than the header and checksum need.
const TRUNCATED: TokenError = TokenError::Corrupted("truncated");

/// The per-shard positions of a session, and their portable text form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionToken {
    /// For each shard (by index), the position a replica must have replayed.
    pub positions: BTreeMap<u32, Lsn>,
}

/// Why a `shardwire.session_token` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Empty, or does not start with `sw<version>.`.
    #[error("not a shardwire session token (expected the value of SHOW shardwire.session_token)")]
    NotAToken,
    /// A version this proxy does not know (e.g. made by a newer proxy).
    #[error("unsupported session token version {0}")]
    UnsupportedVersion(u32),
    /// Well-formed, but made for a different logical database.
    #[error("session token was made for another database")]
    OtherDatabase,
    /// Damaged: not base64, wrong length, bad checksum, or inconsistent content.
    #[error("session token is corrupted ({0})")]
    Corrupted(&'static str),
}

impl SessionToken {
    /// Records that this session wrote or read `lsn` on `shard`; later reads there need a
    /// replica at least that far. Positions only move forward.
    pub fn observe(&mut self, shard: u32, lsn: Lsn) {
        let slot = self.positions.entry(shard).or_default();
        *slot = (*slot).max(lsn);
    }

    /// The position a replica of `shard` must have replayed to serve this session, if any.
    pub fn required(&self, shard: u32) -> Option<Lsn> {
        self.positions.get(&shard).copied()
    }

    /// Adds `other`'s positions, keeping the later one per shard: after
    /// `SET shardwire.session_token`, the session sees both its own writes and the token's.
    pub fn merge(&mut self, other: &SessionToken) {
        for (&shard, &lsn) in &other.positions {
            self.observe(shard, lsn);
        }
    }

    /// Whether the session has no position on any shard.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The opaque text for `SHOW shardwire.session_token`, bound to `database`.
    pub fn encode(&self, database: &str) -> String {
        let mut bytes =
            Vec::with_capacity(HEADER_LEN + ENTRY_LEN * self.positions.len() + CHECKSUM_LEN);
        bytes.push(TOKEN_VERSION);
        bytes.extend_from_slice(&crc32(database.as_bytes()).to_be_bytes());
        // A map with more than u32::MAX shards cannot exist (keys are u32).
        let count = u32::try_from(self.positions.len()).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&count.to_be_bytes());
        for (&shard, &lsn) in &self.positions {
            bytes.extend_from_slice(&shard.to_be_bytes());
            bytes.extend_from_slice(&lsn.0.to_be_bytes());
        }
        let checksum = crc32(&bytes);
        bytes.extend_from_slice(&checksum.to_be_bytes());
        format!("sw{TOKEN_VERSION}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses a token made by [`encode`](Self::encode) for the same `database`.
    /// Surrounding whitespace is ignored.
    pub fn decode(text: &str, database: &str) -> Result<SessionToken, TokenError> {
        let text = text.trim();
        let rest = text.strip_prefix("sw").ok_or(TokenError::NotAToken)?;
        let (version, body) = rest.split_once('.').ok_or(TokenError::NotAToken)?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::NotAToken);
        }
        let version: u32 = version.parse().map_err(|_| TokenError::NotAToken)?;
        if version != u32::from(TOKEN_VERSION) {
            return Err(TokenError::UnsupportedVersion(version));
        }
        if text.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Corrupted("too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Corrupted("not base64url"))?;
        decode_v1(&bytes, database)
    }
}

/// Checks and reads the binary form of a version-1 token.
fn decode_v1(bytes: &[u8], database: &str) -> Result<SessionToken, TokenError> {
    let body_len = bytes.len().checked_sub(CHECKSUM_LEN).ok_or(TRUNCATED)?;
    let (body, checksum) = bytes.split_at(body_len);
    if crc32(body).to_be_bytes() != checksum {
        return Err(TokenError::Corrupted("checksum mismatch"));
    }
    let mut reader = Reader(body);
    if reader.u8().ok_or(TRUNCATED)? != TOKEN_VERSION {
        return Err(TokenError::Corrupted("version mismatch"));
    }
    if reader.u32().ok_or(TRUNCATED)? != crc32(database.as_bytes()) {
        return Err(TokenError::OtherDatabase);
    }
    let count = reader.u32().ok_or(TRUNCATED)?;
    let expected = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(ENTRY_LEN));
    if expected != Some(reader.0.len()) {
        return Err(TokenError::Corrupted("wrong length"));
    }
    let mut positions = BTreeMap::new();
    let mut previous: Option<u32> = None;
    while let (Some(shard), Some(lsn)) = (reader.u32(), reader.u64()) {
        if previous.is_some_and(|p| p >= shard) {
            return Err(TokenError::Corrupted("shards out of order"));
        }
        previous = Some(shard);
        positions.insert(shard, Lsn(lsn));
    }
    Ok(SessionToken { positions })
}

/// Reads big-endian integers off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_be_bytes)
    }
}

/// CRC-32 (IEEE 802.3, as in zlib): catches every burst error up to 32 bits, i.e. any
/// single mistyped character. Bitwise, because tokens are a few dozen bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
