//! The per-connection salt ("scramble" in MySQL's sources) that both plugins hash the
//! client's proof with, and that full authentication XORs the password with.

use rand::Rng;

/// Length of the salt (MySQL's `SCRAMBLE_LENGTH`).
pub const SALT_LEN: usize = 20;

/// 20 random bytes, each in `1..=127` and never `'$'`, as MySQL's `generate_user_salt`
/// makes them: valid UTF-8 without NUL (handshake packets NUL-terminate it) and without the
/// `$` that separates fields of stored `caching_sha2_password` hashes.
///
/// The salt is sent in clear in the initial handshake, so it is not a secret; it must only
/// be unpredictable and fresh for every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; SALT_LEN]);

impl Salt {
    /// A fresh salt from the thread-local CSPRNG (ChaCha seeded by the OS).
    pub fn random() -> Self {
        let mut rng = rand::rng();
        let mut salt = [0u8; SALT_LEN];
        let mut filled = 0;
        let mut pool = [0u8; 32];
        while filled < SALT_LEN {
            rng.fill_bytes(&mut pool);
            // Rejection sampling keeps every allowed byte equally likely.
            for byte in pool.map(|b| b & 0x7f) {
                if filled < SALT_LEN && Self::allowed(byte) {
                    salt[filled] = byte;
                    filled += 1;
                }
            }
        }
        Salt(salt)
    }

    /// A given salt, e.g. a fixed one in tests; `None` if a byte is NUL, `'$'` or above 127.
    pub fn from_bytes(bytes: [u8; SALT_LEN]) -> Option<Self> {
        bytes
            .iter()
            .all(|&b| Self::allowed(b))
            .then_some(Salt(bytes))
    }

    /// The 20 bytes. The initial handshake sends the first 8 as `auth-plugin-data-part-1`
    /// and the other 12, NUL-terminated, as `auth-plugin-data-part-2`.
    pub fn as_bytes(&self) -> &[u8; SALT_LEN] {
        &self.0
    }

    /// The salt followed by NUL: the plugin data of an AuthSwitchRequest, as MySQL sends it.
    pub fn with_nul(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(SALT_LEN + 1);
        data.extend_from_slice(&self.0);
        data.push(0);
        data
    }

    fn allowed(byte: u8) -> bool {
        (1..=127).contains(&byte) && byte != b'$'
    }
}
