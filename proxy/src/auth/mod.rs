//! Client authentication: the frontend's first step of the pipeline, before a session
//! exists. When a PostgreSQL client connects, the frontend looks up the user named in the
//! startup message, picks an [`AuthMethod`] and then feeds the payloads of the client's
//! authentication messages into the code here, writing back whatever it returns.
//!
//! Everything in this module is pure: no sockets, no tokio, no clock. The frontend owns the
//! I/O and the message framing; this module owns the cryptography and the parsing of the
//! SASL/SCRAM and md5 payloads. That keeps the security-critical part unit-testable against
//! a reference client (`postgres-protocol`) byte for byte, and lets the MySQL frontend or a
//! future TLS channel-binding variant reuse it without touching the network code.
//!
//! Credentials are derived once per configured user ([`credentials_for`]) because turning a
//! clear-text password into a SCRAM verifier costs thousands of HMACs; the caller caches the
//! resulting [`Credentials`] next to the loaded configuration.

pub mod md5;
/// The MySQL frontend's plugins, `mysql_native_password` and `caching_sha2_password`.
pub mod mysql;
pub mod sasl;
pub mod scram;

#[cfg(test)]
mod tests;

use std::fmt;

use shardwire_conf::User;

pub use scram::{ScramServer, ScramVerifier};

/// Why authenticating a client failed, or why a user's credentials are unusable.
///
/// The frontend turns these into an `ErrorResponse`; `WrongPassword` becomes PostgreSQL's
/// `password authentication failed for user "…"` (the frontend knows the user name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The client proved knowledge of a different password (or of none at all).
    #[error("password authentication failed")]
    WrongPassword,
    /// A client message does not follow the protocol; the text names what is wrong.
    #[error("malformed authentication message: {0}")]
    Protocol(String),
    /// The client asked for SCRAM channel binding (`p=` / `SCRAM-SHA-256-PLUS`) where the
    /// proxy cannot give it: without TLS, or with another binding type than
    /// `tls-server-end-point`.
    #[error(
        "channel binding is not available: the client requested \"{0}\"; the proxy binds \
         only TLS connections, with tls-server-end-point"
    )]
    ChannelBindingUnsupported(String),
    /// A stored `SCRAM-SHA-256$…` verifier is malformed; the text names the broken part.
    #[error("invalid SCRAM-SHA-256 verifier: {0}")]
    InvalidVerifier(String),
    /// A configured user's credentials cannot be used at all.
    #[error("user \"{user}\": {reason}")]
    InvalidCredentials {
        /// The configured user name.
        user: String,
        /// What is wrong with the user's entry.
        reason: String,
    },
    /// The method needs something this user's credentials do not have (md5 needs the
    /// clear-text password; a user configured with only a SCRAM verifier cannot use it).
    #[error("{0} authentication is not available for this user")]
    MethodUnavailable(AuthMethod),
}

/// How a client proves its identity to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// SASL with SCRAM-SHA-256 (no channel binding). Works for every configured user.
    ScramSha256,
    /// PostgreSQL's legacy salted-md5 challenge. Needs the user's clear-text `password`.
    Md5,
}

impl AuthMethod {
    /// The method's name as PostgreSQL spells it in `pg_hba.conf`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Md5 => "md5",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the proxy knows about one user's secret, ready for authentication.
///
/// Building it may run the SCRAM key derivation (4096 HMACs for a clear-text password), so
/// build it once per user when the configuration is loaded and cache it; cloning is cheap.
/// `Debug` hides the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    scram: ScramVerifier,
    password: Option<String>,
}

impl Credentials {
    /// Credentials from a clear-text password: a SCRAM verifier is derived (random salt,
    /// 4096 iterations) and the password is kept for md5.
    pub fn from_password(password: &str) -> Self {
        Credentials {
            scram: ScramVerifier::with_random_salt(password),
            password: Some(password.to_owned()),
        }
    }

    /// Credentials from a stored SCRAM verifier only; such a user can only use SCRAM.
    pub fn from_verifier(verifier: ScramVerifier) -> Self {
        Credentials {
            scram: verifier,
            password: None,
        }
    }

    /// The SCRAM-SHA-256 verifier, for [`ScramServer::new`].
    pub fn scram_verifier(&self) -> &ScramVerifier {
        &self.scram
    }

    /// Whether this user can authenticate with `method`. The rule: SCRAM always works;
    /// md5 needs the clear-text password, so a user configured with only `scram_sha256`
    /// cannot use md5.
    pub fn supports(&self, method: AuthMethod) -> bool {
        match method {
            AuthMethod::ScramSha256 => true,
            AuthMethod::Md5 => self.password.is_some(),
        }
    }

    /// Checks a client's md5 `PasswordMessage` payload against the challenge `salt` that was
    /// sent in `AuthenticationMD5Password`. `user` is the name from the startup message.
    pub fn verify_md5(
        &self,
        user: &str,
        salt: [u8; 4],
        client_response: &[u8],
    ) -> Result<(), AuthError> {
        let password = self
            .password
            .as_deref()
            .ok_or(AuthError::MethodUnavailable(AuthMethod::Md5))?;
        if md5::verify_md5(user, password, salt, client_response) {
            Ok(())
        } else {
            Err(AuthError::WrongPassword)
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scram", &self.scram)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Builds the [`Credentials`] of a configured user: the SCRAM verifier comes from
/// `scram_sha256` (parsed) or is derived once from `password`; the clear-text password is
/// kept only when configured (for md5). Exactly one of the two must be set.
///
/// Costly for `password` users (see [`Credentials`]): call it at config load, not per login.
pub fn credentials_for(user: &User) -> Result<Credentials, AuthError> {
    let invalid = |reason: String| AuthError::InvalidCredentials {
        user: user.name.clone(),
        reason,
    };
    match (&user.password, &user.scram_sha256) {
        (Some(password), None) => Ok(Credentials::from_password(password)),
        (None, Some(stored)) => ScramVerifier::parse(stored)
            .map(Credentials::from_verifier)
            .map_err(|e| invalid(format!("scram_sha256: {e}"))),
        (None, None) => Err(invalid("needs password or scram_sha256".to_owned())),
        (Some(_), Some(_)) => Err(invalid(
            "has both password and scram_sha256 (set only one)".to_owned(),
        )),
    }
}

/// Compares two secrets-derived byte strings in time independent of where they differ
/// (the lengths are not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
