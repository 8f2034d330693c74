//! SCRAM-SHA-256, server side (RFC 5802 / RFC 7677 as PostgreSQL implements them), and
//! SCRAM-SHA-256-PLUS over TLS with `tls-server-end-point` channel binding (RFC 5929).
//! [`ScramServer`] is a two-step state machine the frontend drives with the SASL
//! payloads: client-first-message in, server-first-message out; client-final-message
//! in, server-final-message out. Parsing is strict where PostgreSQL is strict (gs2 header,
//! nonces, proof, channel-binding negotiation) and never panics on any input.

mod verifier;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::CryptoRng;

use crate::auth::{constant_time_eq, AuthError};
use verifier::{hmac_sha256, sha256, xor_in_place};

pub use verifier::{ScramVerifier, DEFAULT_ITERATIONS, DEFAULT_SALT_LEN};

/// Random bytes in the server's part of the nonce (PostgreSQL uses 18; 24 base64 chars).
const SERVER_NONCE_BYTES: usize = 18;

/// The server side of one SCRAM-SHA-256 exchange with one client.
///
/// Call [`client_first`](Self::client_first) then [`client_final`](Self::client_final);
/// any error ends the exchange (later calls fail with [`AuthError::Protocol`]).
/// If the client's `SASLInitialResponse` carried no data, the frontend sends an empty
/// `AuthenticationSASLContinue` and passes the next `SASLResponse` to `client_first`.
#[derive(Debug)]
pub struct ScramServer {
    verifier: ScramVerifier,
    server_nonce: String,
    /// The channel binding data of this connection when PLUS was offered (TLS).
    channel_binding: Option<Vec<u8>>,
    /// The client selected SCRAM-SHA-256-PLUS.
    plus: bool,
    state: State,
}

#[derive(Debug)]
enum State {
    AwaitingClientFirst,
    AwaitingClientFinal {
        /// What `c=` must carry (base64): the client's gs2 header, followed by the
        /// channel binding data when the client bound the channel.
        expected_binding: Vec<u8>,
        /// Client nonce followed by server nonce.
        nonce: String,
        /// client-first-message-bare "," server-first-message "," — the start of AuthMessage.
        auth_prefix: Vec<u8>,
    },
    Authenticated,
    Failed,
}

impl ScramServer {
    /// Starts an exchange against `verifier`, drawing the server nonce from
    /// `server_nonce_rng` (e.g. `&mut rand::rng()`).
    pub fn new<R: CryptoRng + ?Sized>(verifier: ScramVerifier, server_nonce_rng: &mut R) -> Self {
        let mut bytes = [0u8; SERVER_NONCE_BYTES];
        server_nonce_rng.fill_bytes(&mut bytes);
        Self::with_server_nonce(verifier, STANDARD.encode(bytes))
    }

    fn with_server_nonce(verifier: ScramVerifier, server_nonce: String) -> Self {
        ScramServer {
            verifier,
            server_nonce,
            channel_binding: None,
            plus: false,
            state: State::AwaitingClientFirst,
        }
    }

    /// Channel binding for a connection over TLS, where SCRAM-SHA-256-PLUS was offered:
    /// `data` is the certificate's `tls-server-end-point` hash, `plus_selected` whether
    /// the client chose PLUS. A client that chose plain SCRAM-SHA-256 but says it could
    /// bind ("y") is refused, as RFC 5802 requires: someone may have stripped PLUS from
    /// the offer.
    pub fn with_channel_binding(mut self, data: Vec<u8>, plus_selected: bool) -> Self {
        self.channel_binding = Some(data);
        self.plus = plus_selected;
        self
    }

    /// Whether [`client_final`](Self::client_final) accepted the client's proof.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated)
    }

    /// Takes the client-first-message (`n,,n=<user>,r=<client nonce>`) and returns the
    /// server-first-message (`r=<nonce>,s=<salt>,i=<iterations>`) for
    /// `AuthenticationSASLContinue`. The SCRAM user name is ignored, as in PostgreSQL: the
    /// startup message already named the user.
    pub fn client_first(&mut self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        if !matches!(self.state, State::AwaitingClientFirst) {
            return self.fail(protocol("unexpected client-first-message"));
        }
        match parse_client_first(message).and_then(|first| {
            let expected = self.expected_binding(&first)?;
            Ok((first, expected))
        }) {
            Ok((first, expected_binding)) => {
                let nonce = format!("{}{}", first.client_nonce, self.server_nonce);
                let server_first = format!(
                    "r={nonce},s={},i={}",
                    STANDARD.encode(self.verifier.salt()),
                    self.verifier.iterations()
                );
                let auth_prefix = [first.bare, b",", server_first.as_bytes(), b","].concat();
                self.state = State::AwaitingClientFinal {
                    expected_binding,
                    nonce,
                    auth_prefix,
                };
                Ok(server_first.into_bytes())
            }
            Err(e) => self.fail(e),
        }
    }

    /// What the client's `c=` must decode to, given its gs2 header and the negotiation.
    fn expected_binding(&self, first: &ClientFirst<'_>) -> Result<Vec<u8>, AuthError> {
        match (first.flag, &self.channel_binding, self.plus) {
            (Gs2Flag::Bound(name), Some(data), true) if name == b"tls-server-end-point" => {
                Ok([first.gs2_header, data].concat())
            }
            (Gs2Flag::Bound(name), None, _) | (Gs2Flag::Bound(name), Some(_), true) => {
                Err(AuthError::ChannelBindingUnsupported(format!(
                    "SCRAM-SHA-256-PLUS with {}",
                    String::from_utf8_lossy(name)
                )))
            }
            (Gs2Flag::Bound(_), Some(_), false) => Err(protocol(
                "channel binding (p=) requested without selecting SCRAM-SHA-256-PLUS",
            )),
            (_, _, true) => Err(protocol(
                "SCRAM-SHA-256-PLUS selected, but the gs2 header binds no channel (p=)",
            )),
            (Gs2Flag::ClientOnly, Some(_), false) => Err(protocol(
                "channel binding negotiation: the client supports channel binding and \
                 thinks the server does not, but SCRAM-SHA-256-PLUS was offered",
            )),
            (Gs2Flag::ClientOnly | Gs2Flag::No, _, false) => Ok(first.gs2_header.to_vec()),
        }
    }

    /// Takes the client-final-message (`c=<cbind>,r=<nonce>,p=<proof>`), verifies the
    /// ClientProof and returns the server-final-message (`v=<ServerSignature>`) for
    /// `AuthenticationSASLFinal`. A proof for another password is
    /// [`AuthError::WrongPassword`].
    pub fn client_final(&mut self, message: &[u8]) -> Result<Vec<u8>, AuthError> {
        let result = match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitingClientFinal {
                expected_binding,
                nonce,
                auth_prefix,
            } => self.verify_final(message, &expected_binding, &nonce, auth_prefix),
            _ => Err(protocol("unexpected client-final-message")),
        };
        if result.is_ok() {
            self.state = State::Authenticated;
        }
        result
    }

    fn verify_final(
        &self,
        message: &[u8],
        expected_binding: &[u8],
        nonce: &str,
        mut auth_message: Vec<u8>,
    ) -> Result<Vec<u8>, AuthError> {
        let fin = parse_client_final(message)?;
        let binding = STANDARD
            .decode(fin.channel_binding)
            .map_err(|_| protocol("channel binding (c=) is not valid base64"))?;
        if !constant_time_eq(&binding, expected_binding) {
            return Err(protocol(
                "channel binding (c=) does not match the gs2 header and this connection's \
                 certificate",
            ));
        }
        if fin.nonce != nonce.as_bytes() {
            return Err(protocol(
                "nonce (r=) does not match the server-first-message",
            ));
        }
        let proof: [u8; 32] = STANDARD
            .decode(fin.proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| protocol("ClientProof (p=) is not 32 bytes of base64"))?;

        auth_message.extend_from_slice(fin.without_proof);
        let mut client_key = hmac_sha256(self.verifier.stored_key(), &[&auth_message]);
        xor_in_place(&mut client_key, &proof);
        if !constant_time_eq(&sha256(&client_key), self.verifier.stored_key()) {
            return Err(AuthError::WrongPassword);
        }
        let signature = hmac_sha256(self.verifier.server_key(), &[&auth_message]);
        Ok(format!("v={}", STANDARD.encode(signature)).into_bytes())
    }

    fn fail<T>(&mut self, error: AuthError) -> Result<T, AuthError> {
        self.state = State::Failed;
        Err(error)
    }
}

fn protocol(what: &str) -> AuthError {
    AuthError::Protocol(format!("SCRAM: {what}"))
}

/// The parts of a client-first-message the server uses.
struct ClientFirst<'a> {
    /// The gs2 header as sent (`n,,`, `y,,` or `p=<name>,,`).
    gs2_header: &'a [u8],
    flag: Gs2Flag<'a>,
    bare: &'a [u8],
    client_nonce: &'a str,
}

/// The gs2 channel-binding flag.
#[derive(Clone, Copy)]
enum Gs2Flag<'a> {
    /// `n`: the client does not support channel binding.
    No,
    /// `y`: the client supports it but thinks the server does not.
    ClientOnly,
    /// `p=<name>`: the client binds the channel with this type.
    Bound(&'a [u8]),
}

fn parse_client_first(message: &[u8]) -> Result<ClientFirst<'_>, AuthError> {
    check_text(message, "client-first-message")?;
    let mut parts = message.splitn(3, |&b| b == b',');
    let flag = parts.next().unwrap_or_default();
    let authzid = parts.next();
    let bare = parts.next();
    let flag = match flag {
        b"n" => Gs2Flag::No,
        b"y" => Gs2Flag::ClientOnly,
        _ if flag.starts_with(b"p=") => Gs2Flag::Bound(&flag[2..]),
        _ => {
            return Err(protocol(
                "gs2 header must start with \"n,\", \"y,\" or \"p=\"",
            ))
        }
    };
    let (Some(authzid), Some(bare)) = (authzid, bare) else {
        return Err(protocol(
            "client-first-message is missing its gs2 header's commas",
        ));
    };
    if !authzid.is_empty() {
        return Err(protocol("authorization identity (a=) is not supported"));
    }
    let gs2_header = &message[..message.len() - bare.len()];

    let mut attrs = bare.split(|&b| b == b',');
    match attrs.next() {
        Some(user) if user.starts_with(b"n=") => {}
        Some(m) if m.starts_with(b"m=") => {
            return Err(protocol("mandatory extension (m=) is not supported"))
        }
        _ => {
            return Err(protocol(
                "client-first-message must start with the user name (n=)",
            ))
        }
    }
    let client_nonce = match attrs.next().and_then(|a| a.strip_prefix(b"r=")) {
        Some(nonce) => printable(nonce).ok_or_else(|| {
            protocol("client nonce (r=) must be non-empty printable ASCII without commas")
        })?,
        None => return Err(protocol("client nonce (r=) must follow the user name")),
    };
    if !attrs.all(is_attribute) {
        return Err(protocol("malformed extension after the client nonce"));
    }
    Ok(ClientFirst {
        gs2_header,
        flag,
        bare,
        client_nonce,
    })
}

/// The parts of a client-final-message, as raw attribute values.
struct ClientFinal<'a> {
    channel_binding: &'a [u8],
    nonce: &'a [u8],
    proof: &'a [u8],
    /// client-final-message-without-proof, the last part of AuthMessage.
    without_proof: &'a [u8],
}

fn parse_client_final(message: &[u8]) -> Result<ClientFinal<'_>, AuthError> {
    check_text(message, "client-final-message")?;
    let attrs: Vec<&[u8]> = message.split(|&b| b == b',').collect();
    let channel_binding = attrs
        .first()
        .and_then(|a| a.strip_prefix(b"c="))
        .ok_or_else(|| protocol("client-final-message must start with channel binding (c=)"))?;
    let nonce = attrs
        .get(1)
        .and_then(|a| a.strip_prefix(b"r="))
        .ok_or_else(|| protocol("nonce (r=) must follow channel binding"))?;
    let last = match attrs.len() {
        n if n >= 3 => attrs[n - 1],
        _ => return Err(protocol("client-final-message is missing the proof (p=)")),
    };
    let proof = last
        .strip_prefix(b"p=")
        .ok_or_else(|| protocol("client-final-message must end with the proof (p=)"))?;
    if !attrs[2..attrs.len() - 1].iter().all(|a| is_attribute(a)) {
        return Err(protocol("malformed extension before the proof"));
    }
    let without_proof = &message[..message.len() - last.len() - 1];
    Ok(ClientFinal {
        channel_binding,
        nonce,
        proof,
        without_proof,
    })
}

/// Rejects what PostgreSQL rejects before parsing: empty messages and embedded NULs.
fn check_text(message: &[u8], what: &str) -> Result<(), AuthError> {
    if message.is_empty() {
        return Err(protocol(&format!("{what} is empty")));
    }
    if message.contains(&0) {
        return Err(protocol(&format!("{what} contains a NUL byte")));
    }
    Ok(())
}

/// `attr-val = ALPHA "=" value` (RFC 5802 §7), for extensions we skip.
fn is_attribute(attr: &[u8]) -> bool {
    matches!(attr, [name, b'=', ..] if name.is_ascii_alphabetic())
}

/// A nonce: non-empty, printable ASCII except ','.
fn printable(nonce: &[u8]) -> Option<&str> {
    let ok = !nonce.is_empty()
        && nonce
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b',');
    if ok {
        std::str::from_utf8(nonce).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
