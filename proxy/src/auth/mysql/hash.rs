//! The hash primitives both plugins are built from. `sha1` 0.10 and `sha2` 0.11 implement
//! different major versions of the `digest` traits, so each is used through its own crate.

use sha1::Digest as _;
use sha2::Digest as _;

/// Length of a SHA-1 digest, and of a `mysql_native_password` response.
pub(super) const SHA1_LEN: usize = 20;
/// Length of a SHA-256 digest, and of a `caching_sha2_password` fast-path response.
pub(super) const SHA256_LEN: usize = 32;

/// SHA-1 of the concatenation of `parts`.
pub(super) fn sha1(parts: &[&[u8]]) -> [u8; SHA1_LEN] {
    let mut hasher = sha1::Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// SHA-256 of the concatenation of `parts`.
pub(super) fn sha256(parts: &[&[u8]]) -> [u8; SHA256_LEN] {
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `a XOR b`, byte by byte.
pub(super) fn xor<const N: usize>(a: &[u8; N], b: &[u8; N]) -> [u8; N] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Overwrites a buffer that held a password before it is dropped.
pub(super) fn wipe(buffer: &mut [u8]) {
    buffer.fill(0);
    std::hint::black_box(buffer);
}
