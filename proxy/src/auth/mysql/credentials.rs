//! What the proxy keeps of one user's secret for MySQL logins, and the checks of the
//! client's proofs against it.
//!
//! From a clear-text password only the two double hashes MySQL itself stores are kept
//! (`SHA1(SHA1(pw))` for `mysql_native_password`, `SHA256(SHA256(pw))` as the
//! `caching_sha2_password` cache entry); neither lets a reader log in, since both plugins
//! make the client prove the single hash. A user configured with a SCRAM-SHA-256 verifier
//! keeps the verifier, which can only check a password received in full.

use std::fmt;

use rand::Rng;
use shardwire_conf::User;

use super::hash::{sha1, sha256, xor, SHA1_LEN, SHA256_LEN};
use super::{protocol_error, MysqlPlugin, Salt};
use crate::auth::{constant_time_eq, AuthError, Credentials, ScramVerifier};

/// One user's secret in the forms MySQL authentication needs.
///
/// Build it once per user when the configuration is loaded ([`mysql_credentials_for`]):
/// hashing is cheap, but the frontend should not touch the configuration's clear text per
/// login. `Debug` shows only which kind of secret is held.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlCredentials {
    secret: Secret,
}

#[derive(Clone, PartialEq, Eq)]
enum Secret {
    /// The empty password: only an empty auth response matches (as in MySQL).
    Empty,
    /// Derived from a non-empty clear-text password.
    Hashes {
        /// `SHA1(SHA1(pw))`, MySQL's stored `mysql_native_password` hash.
        native: [u8; SHA1_LEN],
        /// `SHA256(SHA256(pw))`, the `caching_sha2_password` fast-path cache entry.
        sha2: [u8; SHA256_LEN],
    },
    /// A stored SCRAM-SHA-256 verifier; only full authentication can check it.
    Scram(ScramVerifier),
}

/// What the `caching_sha2_password` fast path concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FastAuth {
    /// The 32-byte scramble proves the password: AuthMoreData 0x03, then OK.
    Verified,
    /// The client sent an empty response and the password is empty: OK at once.
    EmptyPassword,
    /// The credentials cannot check a scramble: ask for the password itself.
    FullAuthNeeded,
}

impl MysqlCredentials {
    /// Credentials from a clear-text password (only its double hashes are kept).
    pub fn from_password(password: &str) -> Self {
        let secret = if password.is_empty() {
            Secret::Empty
        } else {
            let pw = password.as_bytes();
            Secret::Hashes {
                native: sha1(&[&sha1(&[pw])]),
                sha2: sha256(&[&sha256(&[pw])]),
            }
        };
        MysqlCredentials { secret }
    }

    /// Credentials from a stored SCRAM-SHA-256 verifier; such a user can only log in with
    /// `caching_sha2_password` full authentication.
    pub fn from_verifier(verifier: ScramVerifier) -> Self {
        MysqlCredentials {
            secret: Secret::Scram(verifier),
        }
    }

    /// The MySQL view of the PostgreSQL frontend's cached [`Credentials`]: the clear-text
    /// password if it has one, else its SCRAM verifier.
    pub fn from_credentials(credentials: &Credentials) -> Self {
        match &credentials.password {
            Some(password) => Self::from_password(password),
            None => Self::from_verifier(credentials.scram.clone()),
        }
    }

    /// Credentials no password matches, for running the exchange with a client whose user
    /// does not exist, so that the failure looks like a wrong password (random hashes with
    /// no known preimage).
    pub fn mock() -> Self {
        let mut rng = rand::rng();
        let mut native = [0u8; SHA1_LEN];
        let mut sha2 = [0u8; SHA256_LEN];
        rng.fill_bytes(&mut native);
        rng.fill_bytes(&mut sha2);
        MysqlCredentials {
            secret: Secret::Hashes { native, sha2 },
        }
    }

    /// Whether these credentials can check `plugin`'s proof: `caching_sha2_password`
    /// always; `mysql_native_password` only with a configured clear-text password.
    pub fn supports(&self, plugin: MysqlPlugin) -> bool {
        match plugin {
            MysqlPlugin::CachingSha2Password => true,
            MysqlPlugin::NativePassword => !matches!(self.secret, Secret::Scram(_)),
        }
    }

    /// The plugin the server runs for this user when the configuration asks for
    /// `configured`: `configured` itself when [supported](Self::supports), else
    /// `caching_sha2_password`.
    pub fn server_plugin(&self, configured: MysqlPlugin) -> MysqlPlugin {
        if self.supports(configured) {
            configured
        } else {
            MysqlPlugin::CachingSha2Password
        }
    }

    /// Checks a `mysql_native_password` response:
    /// `SHA1(pw) XOR SHA1(salt ‖ SHA1(SHA1(pw)))`, or empty for the empty password.
    pub(super) fn verify_native(&self, salt: &Salt, response: &[u8]) -> Result<(), AuthError> {
        match (&self.secret, is_empty_response(response)) {
            (Secret::Empty, true) => Ok(()),
            (_, true) | (Secret::Empty, false) => Err(AuthError::WrongPassword),
            (Secret::Scram(_), false) => Err(protocol_error(
                "mysql_native_password cannot be checked against a SCRAM verifier",
            )),
            (Secret::Hashes { native, .. }, false) => {
                let proof: &[u8; SHA1_LEN] = response.try_into().map_err(|_| {
                    protocol_error(&format!(
                        "mysql_native_password response is {} bytes, expected {SHA1_LEN}",
                        response.len()
                    ))
                })?;
                // SHA1(pw) = proof XOR SHA1(salt ‖ SHA1(SHA1(pw))); its hash must be `native`.
                let hash = xor(proof, &sha1(&[salt.as_bytes(), native]));
                check(constant_time_eq(&sha1(&[&hash]), native))
            }
        }
    }

    /// Runs the `caching_sha2_password` fast path on the client's first response:
    /// `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ salt)`, or empty for the empty password.
    pub(super) fn verify_sha2_fast(
        &self,
        salt: &Salt,
        response: &[u8],
    ) -> Result<FastAuth, AuthError> {
        match (&self.secret, is_empty_response(response)) {
            (Secret::Empty, true) => Ok(FastAuth::EmptyPassword),
            (_, true) | (Secret::Empty, false) => Err(AuthError::WrongPassword),
            (Secret::Scram(_), false) => Ok(FastAuth::FullAuthNeeded),
            (Secret::Hashes { sha2, .. }, false) => {
                let proof: &[u8; SHA256_LEN] = response.try_into().map_err(|_| {
                    protocol_error(&format!(
                        "caching_sha2_password response is {} bytes, expected {SHA256_LEN}",
                        response.len()
                    ))
                })?;
                // SHA256(pw) = proof XOR SHA256(SHA256(SHA256(pw)) ‖ salt).
                let hash = xor(proof, &sha256(&[sha2, salt.as_bytes()]));
                check(constant_time_eq(&sha256(&[&hash]), sha2)).map(|()| FastAuth::Verified)
            }
        }
    }

    /// Checks a password received in full (`caching_sha2_password` full authentication).
    /// Against a SCRAM verifier this runs PBKDF2 with the verifier's salt and iterations.
    pub(super) fn verify_plaintext(&self, password: &[u8]) -> Result<(), AuthError> {
        match &self.secret {
            Secret::Empty => check(password.is_empty()),
            Secret::Hashes { sha2, .. } => {
                check(constant_time_eq(&sha256(&[&sha256(&[password])]), sha2))
            }
            Secret::Scram(verifier) => {
                // Configured passwords are UTF-8, so other bytes cannot be the password.
                let password =
                    std::str::from_utf8(password).map_err(|_| AuthError::WrongPassword)?;
                let candidate =
                    ScramVerifier::from_password(password, verifier.salt(), verifier.iterations());
                check(constant_time_eq(
                    candidate.encode().as_bytes(),
                    verifier.encode().as_bytes(),
                ))
            }
        }
    }
}

impl fmt::Debug for MysqlCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.secret {
            Secret::Empty => "empty password",
            Secret::Hashes { .. } => "password hashes <redacted>",
            Secret::Scram(_) => "SCRAM-SHA-256 verifier <redacted>",
        };
        f.debug_struct("MysqlCredentials")
            .field("secret", &kind)
            .finish()
    }
}

/// Builds the [`MysqlCredentials`] of a configured user from `password` (hashed) or
/// `scram_sha256` (parsed). Exactly one of the two must be set, as for
/// [`credentials_for`](crate::auth::credentials_for).
pub fn mysql_credentials_for(user: &User) -> Result<MysqlCredentials, AuthError> {
    let invalid = |reason: String| AuthError::InvalidCredentials {
        user: user.name.clone(),
        reason,
    };
    match (&user.password, &user.scram_sha256) {
        (Some(password), None) => Ok(MysqlCredentials::from_password(password)),
        (None, Some(stored)) => ScramVerifier::parse(stored)
            .map(MysqlCredentials::from_verifier)
            .map_err(|e| invalid(format!("scram_sha256: {e}"))),
        (None, None) => Err(invalid("needs password or scram_sha256".to_owned())),
        (Some(_), Some(_)) => Err(invalid(
            "has both password and scram_sha256 (set only one)".to_owned(),
        )),
    }
}

/// An empty auth response: no bytes, or a lone NUL (as some clients send it).
pub(super) fn is_empty_response(response: &[u8]) -> bool {
    matches!(response, [] | [0])
}

fn check(matches: bool) -> Result<(), AuthError> {
    if matches {
        Ok(())
    } else {
        Err(AuthError::WrongPassword)
    }
}
