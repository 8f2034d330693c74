//! The server's half of a SCRAM-SHA-256 secret: salt, iteration count, StoredKey and
//! ServerKey (RFC 5802 §3), in PostgreSQL's stored format
//! `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`.
//! Also the hash primitives the exchange is built from.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::auth::AuthError;

/// Iteration count of verifiers derived by the proxy (PostgreSQL's default).
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Salt length of verifiers derived by the proxy (PostgreSQL's default).
pub const DEFAULT_SALT_LEN: usize = 16;

const PREFIX: &str = "SCRAM-SHA-256$";
const KEY_LEN: usize = 32;

/// A SCRAM-SHA-256 verifier: what the server stores instead of the password.
///
/// `Debug` shows only the iteration count and salt length.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; KEY_LEN],
    server_key: [u8; KEY_LEN],
}

impl ScramVerifier {
    /// Parses PostgreSQL's stored format (as in `pg_authid.rolpassword` or the `scram_sha256`
    /// key of `[[users]]`). The error names the malformed part, never echoes the secret.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let bad = |what: &str| AuthError::InvalidVerifier(what.to_owned());
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("expected prefix \"SCRAM-SHA-256$\""))?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or_else(|| bad("expected \"$<StoredKey>:<ServerKey>\" after the salt"))?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or_else(|| bad("expected \"<iterations>:<salt>\""))?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or_else(|| bad("expected \"<StoredKey>:<ServerKey>\""))?;

        let iterations = match iterations.parse::<u32>() {
            Ok(n) if n > 0 && iterations.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("iteration count is not a positive integer")),
        };
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| bad("salt is not valid base64"))?;
        if salt.is_empty() {
            return Err(bad("salt is empty"));
        }
        Ok(ScramVerifier {
            iterations,
            salt,
            stored_key: decode_key(stored_key)
                .ok_or_else(|| bad("StoredKey is not 32 bytes of base64"))?,
            server_key: decode_key(server_key)
                .ok_or_else(|| bad("ServerKey is not 32 bytes of base64"))?,
        })
    }

    /// Derives the verifier of `password`: SaltedPassword = Hi(password, salt, iterations),
    /// then StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
    /// ServerKey = HMAC(SaltedPassword, "Server Key").
    ///
    /// SASLprep is not applied: the password bytes are used as-is, which is what PostgreSQL
    /// and libpq also do whenever SASLprep fails. ASCII passwords are unaffected. A non-ASCII
    /// password that SASLprep would change (e.g. non-NFKC text, non-ASCII spaces) will not
    /// match what clients compute; configure such users with a `scram_sha256` verifier made
    /// by PostgreSQL instead.
    pub fn from_password(password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hi(password.as_bytes(), salt, iterations);
        let client_key = hmac_sha256(&salted, &[b"Client Key"]);
        ScramVerifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, &[b"Server Key"]),
        }
    }

    /// Derives the verifier of `password` with a fresh random 16-byte salt and 4096
    /// iterations, as PostgreSQL does for `ALTER ROLE … PASSWORD`.
    pub fn with_random_salt(password: &str) -> Self {
        let mut salt = [0u8; DEFAULT_SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        Self::from_password(password, &salt, DEFAULT_ITERATIONS)
    }

    /// A verifier no password matches, for running a full SCRAM exchange with a client
    /// whose user does not exist (as PostgreSQL does, so as not to reveal which users
    /// exist). The salt is derived from `user` and a per-process `secret`, so it is stable
    /// across attempts for the same name.
    pub fn mock(user: &str, secret: &[u8]) -> Self {
        let seed = hmac_sha256(secret, &[b"mock SCRAM salt", user.as_bytes()]);
        ScramVerifier {
            iterations: DEFAULT_ITERATIONS,
            salt: seed[..DEFAULT_SALT_LEN].to_vec(),
            stored_key: hmac_sha256(secret, &[b"mock StoredKey", user.as_bytes()]),
            server_key: hmac_sha256(secret, &[b"mock ServerKey", user.as_bytes()]),
        }
    }

    /// The stored format, `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    /// Treat the result as a secret (it allows offline guessing of the password).
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }

    /// The PBKDF2 iteration count `i` sent to the client.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The salt `s` sent to the client.
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    pub(super) fn stored_key(&self) -> &[u8; KEY_LEN] {
        &self.stored_key
    }

    pub(super) fn server_key(&self) -> &[u8; KEY_LEN] {
        &self.server_key
    }
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .field("salt_len", &self.salt.len())
            .finish_non_exhaustive()
    }
}

fn decode_key(text: &str) -> Option<[u8; KEY_LEN]> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

/// Hi(str, salt, i) of RFC 5802 §2.2: PBKDF2 with HMAC-SHA-256 and one output block.
/// An iteration count of 0 is treated as 1.
pub(super) fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let keyed = keyed_hmac(password);
    let mut u = finish(keyed.clone(), &[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = finish(keyed.clone(), &[&u]);
        xor_in_place(&mut out, &u);
    }
    out
}

/// HMAC-SHA-256(key, concatenation of `parts`).
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; KEY_LEN] {
    finish(keyed_hmac(key), parts)
}

/// SHA-256(data).
pub(super) fn sha256(data: &[u8]) -> [u8; KEY_LEN] {
    Sha256::digest(data).into()
}

/// `out ^= other`, byte by byte.
pub(super) fn xor_in_place(out: &mut [u8; KEY_LEN], other: &[u8; KEY_LEN]) {
    for (o, x) in out.iter_mut().zip(other) {
        *o ^= x;
    }
}

fn keyed_hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC hashes over-long keys and pads short ones, so every length is valid.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn finish(mut mac: Hmac<Sha256>, parts: &[&[u8]]) -> [u8; KEY_LEN] {
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hi_is_pbkdf2_hmac_sha256() {
        // Published PBKDF2-HMAC-SHA256 vectors (P = "password", S = "salt", dkLen = 32).
        assert_eq!(
            hex(&hi(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            hex(&hi(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn stored_format_roundtrips() {
        let v = ScramVerifier::from_password("pencil", b"0123456789abcdef", 4096);
        assert!(v
            .encode()
            .starts_with("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$"));
        assert_eq!(ScramVerifier::parse(&v.encode()).unwrap(), v);
    }

    #[test]
    fn malformed_verifiers_are_rejected_with_a_reason() {
        let good = ScramVerifier::from_password("x", b"0123456789abcdef", 1).encode();
        let (head, keys) = good.rsplit_once('$').unwrap();
        let (stored, server) = keys.split_once(':').unwrap();
        let cases = [
            String::new(),
            "md5abcdef".to_owned(),
            "SCRAM-SHA-256$".to_owned(),
            "SCRAM-SHA-256$4096:c2FsdA==".to_owned(),
            good.replacen("$1:", "$0:", 1),
            good.replacen("$1:", "$-1:", 1),
            good.replacen("$1:", "$+1:", 1),
            good.replacen("$1:", "$99999999999:", 1),
            good.replacen("$1:", "$1:!!!", 1),
            format!("{head}$:{server}"),
            format!("{head}${stored}:"),
            format!("{head}${stored}"),
            format!("{head}${stored}:{}", &server[..20]),
            format!("{head}$c2hvcnQ=:{server}"),
            "SCRAM-SHA-256$4096:$".to_owned() + keys,
        ];
        for case in cases {
            match ScramVerifier::parse(&case) {
                Err(AuthError::InvalidVerifier(reason)) => assert!(!reason.is_empty()),
                other => panic!("{case:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn debug_hides_the_keys() {
        let v = ScramVerifier::from_password("pw", b"salt", 2);
        let shown = format!("{v:?}");
        assert!(!shown.contains(&STANDARD.encode(v.stored_key)));
        assert!(shown.contains("iterations: 2"));
    }

    #[test]
    fn mock_verifier_is_stable_per_user() {
        assert_eq!(
            ScramVerifier::mock("a", b"k"),
            ScramVerifier::mock("a", b"k")
        );
        assert_ne!(
            ScramVerifier::mock("a", b"k").salt,
            ScramVerifier::mock("b", b"k").salt
        );
    }
}
