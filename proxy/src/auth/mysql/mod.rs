//! MySQL client authentication, server side: what the MySQL frontend runs between the
//! initial handshake and the OK packet, before a session exists.
//!
//! Like the rest of [`crate::auth`] this is pure: no sockets, no tokio, no clock. The
//! frontend owns the packets (sequence ids, the `0xFE` AuthSwitchRequest and `0x01`
//! AuthMoreData headers, OK and ERR); this module owns the salts, the hashes, the RSA
//! decryption and the order of the exchange. Two plugins are served:
//!
//! - `mysql_native_password`: the client proves `SHA1(pw)` against a 20-byte salt; the
//!   proxy checks it with the stored `SHA1(SHA1(pw))`.
//! - `caching_sha2_password`: a fast path proving `SHA256(pw)` (checked with the stored
//!   `SHA256(SHA256(pw))`), and a full authentication where the client sends the password
//!   itself, in clear over TLS or RSA-OAEP encrypted to the proxy's public key otherwise.
//!
//! How a connection is driven:
//!
//! 1. Per connection, [`Salt::random`]; the initial handshake carries it and a default
//!    plugin name (either plugin works; the exchange switches when needed).
//! 2. On the HandshakeResponse, look up the user, build a [`MysqlAuthExchange`] from the
//!    user's cached [`MysqlCredentials`] ([`mysql_credentials_for`] at config load) and the
//!    user's `mysql_auth` plugin ([`MysqlPlugin::from`]), add the process's [`RsaKeys`], and
//!    call [`MysqlAuthExchange::on_handshake_response`]. For an unknown user run the same
//!    exchange with [`MysqlCredentials::mock`], so the failure looks like a wrong password.
//! 3. Write what the returned [`AuthStep`] says; pass each further client packet to
//!    [`MysqlAuthExchange::on_response`] until [`AuthStep::Success`] or [`AuthStep::Failure`].
//!
//! Users configured with only a `scram_sha256` verifier have no SHA1 or SHA256 hash of
//! their password, so neither `mysql_native_password` nor the `caching_sha2_password` fast
//! path can be checked for them: such users are always served `caching_sha2_password`
//! (whatever plugin the configuration asks for) and go through its full authentication,
//! where the proxy receives the password and checks it against the SCRAM verifier.

mod credentials;
mod exchange;
mod hash;
mod rsa_keys;
mod salt;

#[cfg(test)]
mod tests;

use std::fmt;

pub use credentials::{mysql_credentials_for, MysqlCredentials};
pub use exchange::{AuthStep, MysqlAuthExchange};
pub use rsa_keys::{RsaKeyError, RsaKeys, MIN_RSA_BITS, RSA_BITS};
pub use salt::{Salt, SALT_LEN};

/// `caching_sha2_password` AuthMoreData status: the fast path succeeded; an OK follows.
pub const FAST_AUTH_SUCCESS: u8 = 0x03;
/// `caching_sha2_password` AuthMoreData status: the server needs the password itself.
pub const PERFORM_FULL_AUTHENTICATION: u8 = 0x04;
/// `caching_sha2_password` client packet asking for the server's RSA public key.
pub const REQUEST_PUBLIC_KEY: u8 = 0x02;

/// A server-side authentication plugin the proxy can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MysqlPlugin {
    /// `mysql_native_password`: SHA1 challenge-response. Needs the clear-text password in
    /// the configuration.
    NativePassword,
    /// `caching_sha2_password`: SHA256 fast path, or full authentication over TLS or RSA.
    /// Works for every configured user.
    CachingSha2Password,
}

impl MysqlPlugin {
    /// Every plugin, in the order of [`name`](Self::name)s a configuration may use.
    pub const ALL: [MysqlPlugin; 2] = [
        MysqlPlugin::NativePassword,
        MysqlPlugin::CachingSha2Password,
    ];

    /// The plugin's name as it appears in handshake packets and in `mysql.user.plugin`.
    pub fn name(self) -> &'static str {
        match self {
            MysqlPlugin::NativePassword => "mysql_native_password",
            MysqlPlugin::CachingSha2Password => "caching_sha2_password",
        }
    }

    /// The plugin called exactly `name`, if the proxy implements it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A client packet that breaks the protocol; the text says how (never with secrets).
fn protocol_error(what: &str) -> crate::auth::AuthError {
    crate::auth::AuthError::Protocol(format!("MySQL authentication: {what}"))
}

impl From<shardwire_conf::MysqlAuth> for MysqlPlugin {
    /// The plugin a user's `mysql_auth` configuration names.
    fn from(configured: shardwire_conf::MysqlAuth) -> Self {
        match configured {
            shardwire_conf::MysqlAuth::NativePassword => MysqlPlugin::NativePassword,
            shardwire_conf::MysqlAuth::CachingSha2Password => MysqlPlugin::CachingSha2Password,
        }
    }
}

impl fmt::Display for MysqlPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
