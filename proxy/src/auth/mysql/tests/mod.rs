//! The server side against a reference client: `mysql_common`'s client scrambles and its
//! RSA-OAEP encryption (what `mysql_async` sends), driven the way `mysql_async` reacts to
//! each server packet. One RSA key pair is shared by all tests (generation is slow in
//! debug builds).

mod flows;
mod malformed;
mod parts;

use mysql_common::crypto::encrypt;
use mysql_common::scramble::{scramble_native, scramble_sha256};

use super::*;
use crate::auth::{AuthError, ScramVerifier};
use MysqlPlugin::{CachingSha2Password as Sha2, NativePassword as Native};

const PASSWORDS: [&str; 5] = [
    "secret",
    "a",
    "pässwörd ✓ 密码",
    "with spaces and $ and \\ and '",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz-long-password",
];

/// The process key pair, generated once for every test.
fn keys() -> RsaKeys {
    RsaKeys::global().expect("RSA key generation")
}

/// A SCRAM verifier as a PostgreSQL-only configuration would hold it (few iterations, to
/// keep debug tests fast; the count comes from the verifier).
fn verifier(password: &str) -> ScramVerifier {
    ScramVerifier::from_password(password, b"0123456789abcdef", 64)
}

/// What a client does, as `mysql_async` 0.37 does it.
struct Client<'a> {
    password: &'a str,
    plugin: &'a str,
    secure: bool,
    /// A public key the client already has, so it skips requesting one.
    known_key: Option<String>,
}

impl Client<'_> {
    fn new(password: &str, plugin: MysqlPlugin) -> Client<'_> {
        Client {
            password,
            plugin: plugin.name(),
            secure: false,
            known_key: None,
        }
    }

    fn scramble(&self, plugin: &str, nonce: &[u8]) -> Vec<u8> {
        let pw = self.password.as_bytes();
        match plugin {
            "mysql_native_password" => scramble_native(nonce, pw).map(Vec::from),
            "caching_sha2_password" => scramble_sha256(nonce, pw).map(Vec::from),
            _ => Some(b"some other plugin's data".to_vec()),
        }
        .unwrap_or_default()
    }

    fn encrypted_password(&self, salt: &Salt, pem: &str) -> Vec<u8> {
        let mut pass = [self.password.as_bytes(), b"\0"].concat();
        for (i, byte) in pass.iter_mut().enumerate() {
            *byte ^= salt.as_bytes()[i % SALT_LEN];
        }
        encrypt(&pass, pem.as_bytes())
    }

    /// Runs the whole exchange; returns the final step and the packets the server sent.
    fn login(&self, server: &mut MysqlAuthExchange, salt: &Salt) -> (AuthStep, Vec<AuthStep>) {
        let first = self.scramble(self.plugin, salt.as_bytes());
        let mut step = server.on_handshake_response(self.plugin, &first, self.secure);
        let mut sent = Vec::new();
        loop {
            let reply = match &step {
                AuthStep::Success { .. } | AuthStep::Failure(_) => return (step, sent),
                AuthStep::SwitchPlugin { plugin, data } => {
                    let nonce = data.strip_suffix(b"\0").unwrap_or(data);
                    self.scramble(plugin.name(), nonce)
                }
                AuthStep::MoreData(data) if data == &[PERFORM_FULL_AUTHENTICATION] => {
                    if self.secure {
                        [self.password.as_bytes(), b"\0"].concat()
                    } else if let Some(pem) = &self.known_key {
                        self.encrypted_password(salt, pem)
                    } else {
                        vec![REQUEST_PUBLIC_KEY]
                    }
                }
                AuthStep::MoreData(pem) => {
                    let pem = std::str::from_utf8(pem).expect("PEM is text");
                    self.encrypted_password(salt, pem)
                }
            };
            sent.push(step);
            assert!(sent.len() < 5, "exchange does not end: {sent:?}");
            step = server.on_response(&reply, self.secure);
        }
    }
}

fn login(
    credentials: &MysqlCredentials,
    configured: MysqlPlugin,
    client: &Client<'_>,
) -> (AuthStep, Vec<AuthStep>) {
    let salt = Salt::random();
    let mut server =
        MysqlAuthExchange::new(credentials.clone(), configured, salt).with_rsa_keys(keys());
    client.login(&mut server, &salt)
}

fn fast_success() -> AuthStep {
    AuthStep::Success { fast_auth: true }
}

fn success() -> AuthStep {
    AuthStep::Success { fast_auth: false }
}

fn wrong_password() -> AuthStep {
    AuthStep::Failure(AuthError::WrongPassword)
}

fn is_protocol_failure(step: &AuthStep) -> bool {
    matches!(step, AuthStep::Failure(AuthError::Protocol(_)))
}
