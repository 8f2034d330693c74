//! [`MysqlAuthExchange`]: the order of one MySQL authentication exchange, as a state machine the
//! frontend feeds with client packets and that answers with the next [`AuthStep`].
//!
//! ```text
//! HandshakeResponse ──client used the user's plugin──▶ verify
//!        │ other or unknown plugin
//!        ▼
//! AuthSwitchRequest(user's plugin, same salt) ──AuthSwitchResponse──▶ verify
//!
//! verify, mysql_native_password:  Success | Failure
//! verify, caching_sha2_password:  Success{fast_auth} | Failure
//!                                 | AuthMoreData 0x04 (credentials cannot check the scramble)
//!   ──TLS──▶ password ‖ NUL in clear                    ──▶ Success | Failure
//!   ──no TLS──▶ 0x02 ──▶ AuthMoreData(PEM public key) ──▶ RSA ciphertext ──▶ Success | Failure
//!             └──────── or the RSA ciphertext at once (client knew the key) ──┘
//! ```
//!
//! Full authentication happens only for users with a SCRAM verifier: for a clear-text
//! configured password the fast path is always conclusive. Unlike MySQL, the proxy does not
//! remember `SHA256(SHA256(pw))` after a full authentication, so those users pay one PBKDF2
//! (and, without TLS, one RSA decryption) on every login.

use super::credentials::{is_empty_response, FastAuth};
use super::hash::wipe;
use super::{
    protocol_error, MysqlCredentials, MysqlPlugin, RsaKeys, Salt, PERFORM_FULL_AUTHENTICATION,
    REQUEST_PUBLIC_KEY,
};
use crate::auth::AuthError;

/// What the frontend does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send an AuthSwitchRequest: `0xFE`, `plugin`'s name NUL-terminated, then `data`
    /// (the connection's salt followed by NUL). Pass the client's AuthSwitchResponse to
    /// [`MysqlAuthExchange::on_response`].
    SwitchPlugin {
        /// The plugin the client must switch to.
        plugin: MysqlPlugin,
        /// The plugin data: the same salt as in the initial handshake, NUL-terminated.
        data: Vec<u8>,
    },
    /// Send AuthMoreData: `0x01` followed by these bytes. Pass the client's next packet
    /// to [`MysqlAuthExchange::on_response`].
    MoreData(Vec<u8>),
    /// The client is authenticated. If `fast_auth`, first send AuthMoreData with the single
    /// byte [`FAST_AUTH_SUCCESS`](super::FAST_AUTH_SUCCESS) (`caching_sha2_password`'s fast
    /// path), then the OK packet.
    Success {
        /// Whether AuthMoreData 0x03 precedes the OK.
        fast_auth: bool,
    },
    /// The client is not authenticated: send ERR 1045 (access denied) and close. The
    /// error is for the log; clients should only learn "access denied".
    Failure(AuthError),
}

/// One client's authentication exchange. Never panics on any client input; after
/// [`AuthStep::Success`] or [`AuthStep::Failure`] every further call is a failure.
#[derive(Debug)]
pub struct MysqlAuthExchange {
    credentials: MysqlCredentials,
    plugin: MysqlPlugin,
    salt: Salt,
    rsa: Option<RsaKeys>,
    state: State,
    password_used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingHandshakeResponse,
    AwaitingSwitchResponse,
    /// AuthMoreData 0x04 was sent: password in clear (TLS), key request or ciphertext.
    AwaitingFullAuth,
    /// The public key was sent: RSA ciphertext.
    AwaitingCiphertext,
    Done,
}

impl MysqlAuthExchange {
    /// Starts the exchange for a user with `credentials`, for whom the configuration asks
    /// for plugin `configured`, on a connection whose initial handshake carried `salt`.
    /// The plugin actually run is [`MysqlCredentials::server_plugin`]: users with only a
    /// SCRAM verifier always get `caching_sha2_password`.
    pub fn new(credentials: MysqlCredentials, configured: MysqlPlugin, salt: Salt) -> Self {
        MysqlAuthExchange {
            plugin: credentials.server_plugin(configured),
            credentials,
            salt,
            rsa: None,
            state: State::AwaitingHandshakeResponse,
            password_used: false,
        }
    }

    /// Adds the key pair for RSA full authentication ([`RsaKeys::global`]). Without it a
    /// client without TLS that needs full authentication fails.
    pub fn with_rsa_keys(mut self, keys: RsaKeys) -> Self {
        self.rsa = Some(keys);
        self
    }

    /// The plugin this exchange verifies with (it may differ from the configured one).
    pub fn plugin(&self) -> MysqlPlugin {
        self.plugin
    }

    /// Whether the client sent a non-empty proof or password: the "using password: YES"
    /// of MySQL's access-denied message.
    pub fn password_used(&self) -> bool {
        self.password_used
    }

    /// Takes the HandshakeResponse's `client_plugin` name and auth response. An empty
    /// name (a client without `CLIENT_PLUGIN_AUTH`) means `mysql_native_password`. If the
    /// client used another plugin than the server's, the answer is an AuthSwitchRequest
    /// (and the frontend must fail clients that lack `CLIENT_PLUGIN_AUTH`).
    /// `secure_transport`: the connection runs over TLS (or a local socket).
    pub fn on_handshake_response(
        &mut self,
        client_plugin: &str,
        data: &[u8],
        secure_transport: bool,
    ) -> AuthStep {
        if self.state != State::AwaitingHandshakeResponse {
            return self.fail(protocol_error("unexpected HandshakeResponse"));
        }
        let client = match client_plugin {
            "" => Some(MysqlPlugin::NativePassword),
            name => MysqlPlugin::from_name(name),
        };
        if client == Some(self.plugin) {
            self.verify(data, secure_transport)
        } else {
            self.state = State::AwaitingSwitchResponse;
            AuthStep::SwitchPlugin {
                plugin: self.plugin,
                data: self.salt.with_nul(),
            }
        }
    }

    /// Takes the client's next packet (AuthSwitchResponse, or a `caching_sha2_password`
    /// full-authentication packet). `secure_transport` as for
    /// [`on_handshake_response`](Self::on_handshake_response).
    pub fn on_response(&mut self, data: &[u8], secure_transport: bool) -> AuthStep {
        match self.state {
            State::AwaitingSwitchResponse => self.verify(data, secure_transport),
            State::AwaitingFullAuth => self.full_auth(data, secure_transport),
            State::AwaitingCiphertext => self.decrypt_and_verify(data),
            State::AwaitingHandshakeResponse | State::Done => {
                self.fail(protocol_error("unexpected authentication packet"))
            }
        }
    }

    /// Checks the response of [`Self::plugin`] to the salt.
    fn verify(&mut self, data: &[u8], secure_transport: bool) -> AuthStep {
        self.password_used = !is_empty_response(data);
        if self.plugin == MysqlPlugin::NativePassword {
            return match self.credentials.verify_native(&self.salt, data) {
                Ok(()) => self.succeed(false),
                Err(e) => self.fail(e),
            };
        }
        match self.credentials.verify_sha2_fast(&self.salt, data) {
            Ok(FastAuth::Verified) => self.succeed(true),
            Ok(FastAuth::EmptyPassword) => self.succeed(false),
            Ok(FastAuth::FullAuthNeeded) if !secure_transport && self.rsa.is_none() => {
                self.fail(no_secure_channel())
            }
            Ok(FastAuth::FullAuthNeeded) => {
                self.state = State::AwaitingFullAuth;
                AuthStep::MoreData(vec![PERFORM_FULL_AUTHENTICATION])
            }
            Err(e) => self.fail(e),
        }
    }

    /// The client's answer to "perform full authentication".
    fn full_auth(&mut self, data: &[u8], secure_transport: bool) -> AuthStep {
        if secure_transport {
            // Over TLS the client sends password ‖ NUL in clear.
            return match data.split_last() {
                Some((0, password)) => self.check_password(password),
                _ => self.fail(protocol_error("clear-text password is not NUL-terminated")),
            };
        }
        let Some(keys) = &self.rsa else {
            return self.fail(no_secure_channel());
        };
        if data == [REQUEST_PUBLIC_KEY] {
            let pem = keys.public_key_pem().as_bytes().to_vec();
            self.state = State::AwaitingCiphertext;
            return AuthStep::MoreData(pem);
        }
        self.decrypt_and_verify(data)
    }

    /// Decrypts `RSA-OAEP((password ‖ NUL) XOR salt)` and checks the password.
    fn decrypt_and_verify(&mut self, ciphertext: &[u8]) -> AuthStep {
        let Some(keys) = &self.rsa else {
            return self.fail(no_secure_channel());
        };
        let expected = keys.ciphertext_len();
        if ciphertext.len() != expected {
            return self.fail(protocol_error(&format!(
                "expected a {expected}-byte RSA-encrypted password, got {} bytes (a clear-text \
                 password is accepted only over TLS)",
                ciphertext.len()
            )));
        }
        let Some(mut plain) = keys.decrypt(ciphertext) else {
            return self.fail(protocol_error(
                "the RSA-encrypted password cannot be decrypted",
            ));
        };
        let salt = self.salt.as_bytes();
        for (byte, mask) in plain.iter_mut().zip(salt.iter().cycle()) {
            *byte ^= mask;
        }
        let step = match plain.split_last() {
            Some((0, password)) => self.check_password(password),
            _ => self.fail(protocol_error(
                "the decrypted password is not NUL-terminated (wrong salt or public key?)",
            )),
        };
        wipe(&mut plain);
        step
    }

    fn check_password(&mut self, password: &[u8]) -> AuthStep {
        self.password_used = !password.is_empty();
        match self.credentials.verify_plaintext(password) {
            Ok(()) => self.succeed(false),
            Err(e) => self.fail(e),
        }
    }

    fn succeed(&mut self, fast_auth: bool) -> AuthStep {
        self.state = State::Done;
        AuthStep::Success { fast_auth }
    }

    fn fail(&mut self, error: AuthError) -> AuthStep {
        self.state = State::Done;
        AuthStep::Failure(error)
    }
}

fn no_secure_channel() -> AuthError {
    protocol_error(
        "caching_sha2_password full authentication needs TLS or the proxy's RSA key, and \
         neither is available on this connection",
    )
}
