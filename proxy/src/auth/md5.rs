//! PostgreSQL's legacy md5 password challenge, server side. The server sends a random
//! 4-byte salt in `AuthenticationMD5Password`; the client answers with
//! `"md5" + hex(md5(hex(md5(password + user)) + salt))`.
//!
//! The server must know the clear-text password (or its `md5(password + user)` hash) to
//! check that answer, so a user configured with only a SCRAM verifier cannot use md5 — see
//! [`Credentials::supports`](crate::auth::Credentials::supports). Prefer SCRAM.

use ::md5::{Digest, Md5};
use rand::CryptoRng;

use crate::auth::constant_time_eq;

/// The expected client answer: `"md5" + hex(md5(hex(md5(password + user)) + salt))`.
pub fn md5_response(user: &str, password: &str, salt: [u8; 4]) -> String {
    let inner = hex(&Md5::new()
        .chain_update(password)
        .chain_update(user)
        .finalize());
    let outer = Md5::new().chain_update(inner).chain_update(salt).finalize();
    format!("md5{}", hex(&outer))
}

/// Whether `client_response` (the `PasswordMessage` payload; one trailing NUL is allowed)
/// is the right answer for `user`/`password` to the challenge `salt`. Constant time in the
/// contents of the response.
pub fn verify_md5(user: &str, password: &str, salt: [u8; 4], client_response: &[u8]) -> bool {
    let response = client_response
        .strip_suffix(b"\0")
        .unwrap_or(client_response);
    constant_time_eq(md5_response(user, password, salt).as_bytes(), response)
}

/// A fresh challenge salt for `AuthenticationMD5Password`.
pub fn md5_salt<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 4] {
    rng.next_u32().to_ne_bytes()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_matches_postgres_documentation_example() {
        // The vector postgres-protocol checks its client against.
        let salt = [0x2a, 0x3d, 0x8f, 0xe0];
        assert_eq!(
            md5_response("md5_user", "password", salt),
            "md562af4dd09bbb41884907a838a3233294"
        );
    }

    #[test]
    fn verify_accepts_only_the_right_answer() {
        let salt = [1, 2, 3, 4];
        let good = md5_response("app", "secret", salt);
        assert!(verify_md5("app", "secret", salt, good.as_bytes()));
        assert!(verify_md5(
            "app",
            "secret",
            salt,
            format!("{good}\0").as_bytes()
        ));
        assert!(!verify_md5("app", "secret", [1, 2, 3, 5], good.as_bytes()));
        assert!(!verify_md5("app", "other", salt, good.as_bytes()));
        assert!(!verify_md5("other", "secret", salt, good.as_bytes()));
        assert!(!verify_md5("app", "secret", salt, &good.as_bytes()[..34]));
        assert!(!verify_md5("app", "secret", salt, b""));
        assert!(!verify_md5("app", "secret", salt, b"\0\0\xff"));
        assert!(!verify_md5(
            "app",
            "secret",
            salt,
            good.to_uppercase().as_bytes()
        ));
    }
}
