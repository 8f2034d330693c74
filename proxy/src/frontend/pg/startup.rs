//! The start of a PostgreSQL connection: SSL negotiation (TLS when `proxy.tls_cert` is
//! set, GSS encryption always refused), CancelRequest delivery, the StartupMessage, and
//! authentication against `[[users]]` with SCRAM-SHA-256 or md5. An unknown user goes
//! through the same exchange with a mock verifier and fails at the same point, so user
//! names cannot be probed; for the same reason a `require_tls` user's plaintext login is
//! refused only after authentication.

use std::sync::Arc;

use bytes::BufMut;

use super::params::SessionParams;
use super::pump::ClientIo;
use crate::auth::{self, md5, sasl, ScramServer, ScramVerifier};
use crate::cancel::CancelRegistry;
use crate::cluster::{Cluster, DatabaseRuntime, UserRuntime};
use crate::frontend::client_stream;
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::frame::{FrameError, FrameReader};
use crate::protocol::pg::read::{self, Cursor};
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{auth as auth_tag, frontend, startup};
use crate::tls::TlsServer;
use shardwire_conf::AuthMethod;

/// Largest startup packet accepted.
const MAX_STARTUP: usize = 10_000;

/// A client that passed authentication.
#[derive(Debug)]
pub struct Accepted {
    /// The user.
    pub user: Arc<UserRuntime>,
    /// The database it connected to.
    pub db: Arc<DatabaseRuntime>,
    /// Its startup parameters.
    pub params: Vec<(String, String)>,
}

/// Runs the startup phase. `None`: the connection is finished (a cancel request, a
/// refused login, garbage) and any error has been sent. With `over_limit` (the proxy's
/// `max_client_connections`), a cancel request is still served — it is how a client
/// stops a runaway query when the proxy is full — but a login is refused with 53300.
/// With `tls`, an SSLRequest is accepted and the rest of the startup (and the session)
/// runs encrypted: the connection in `slot` is replaced by its TLS form (the slot is
/// empty while the TLS handshake runs, and stays empty if it fails).
pub async fn handshake(
    slot: &mut Option<ClientIo>,
    cluster: &Cluster,
    cancels: &CancelRegistry,
    over_limit: Option<u32>,
    tls: Option<&TlsServer>,
    peer: std::net::IpAddr,
) -> Option<Accepted> {
    let params = loop {
        match startup_packet(slot.as_mut()?, cancels, tls.is_some()).await? {
            Startup::Params(params) => break params,
            Startup::Encrypt => {
                let plain = slot.take()?;
                *slot = Some(encrypt(plain, tls?).await?);
            }
        }
    };
    let io = slot.as_mut()?;
    // SCRAM-SHA-256-PLUS binds to the certificate of this connection's TLS.
    let binding = tls
        .filter(|_| io.writer.is_tls())
        .and_then(TlsServer::channel_binding);
    login(io, cluster, over_limit, params, binding, peer).await
}

/// What the client's next startup-phase packet asked for.
enum Startup {
    /// A StartupMessage with these parameters.
    Params(Vec<(String, String)>),
    /// An SSLRequest that was answered 'S': the TLS handshake comes next.
    Encrypt,
}

/// Reads startup-phase packets until a StartupMessage or an accepted SSLRequest;
/// answers refused SSL/GSS requests itself. `None`: finished (see [`handshake`]).
async fn startup_packet(
    io: &mut ClientIo,
    cancels: &CancelRegistry,
    tls_configured: bool,
) -> Option<Startup> {
    loop {
        let packet = match io.reader.next_startup(MAX_STARTUP).await {
            Ok(Some(p)) => p,
            Ok(None) | Err(FrameError::Io(_)) | Err(FrameError::Truncated) => return None,
            Err(e) => {
                fatal(
                    io,
                    sqlstate::PROTOCOL_VIOLATION,
                    &format!("invalid startup packet: {e}"),
                )
                .await;
                return None;
            }
        };
        let mut c = Cursor::new(&packet, "startup");
        let Ok(code) = c.i32() else {
            fatal(io, sqlstate::PROTOCOL_VIOLATION, "invalid startup packet").await;
            return None;
        };
        match code {
            startup::SSL_REQUEST | startup::GSSENC_REQUEST if io.writer.is_tls() => {
                // PostgreSQL allows one negotiation; a request inside TLS is a client
                // bug or an attempt to confuse a middlebox.
                fatal(
                    io,
                    sqlstate::PROTOCOL_VIOLATION,
                    "SSL or GSS encryption requested on a connection already using TLS",
                )
                .await;
                return None;
            }
            startup::SSL_REQUEST if tls_configured => {
                if !io.reader.buffer().is_empty() {
                    // Bytes sent in the clear behind the request must not be read as if
                    // they came through TLS (CVE-2021-23214).
                    fatal(
                        io,
                        sqlstate::PROTOCOL_VIOLATION,
                        "received unencrypted data after SSL request",
                    )
                    .await;
                    return None;
                }
                io.out.put_u8(startup::SSL_ACCEPTED);
                io.flush().await.ok()?;
                return Some(Startup::Encrypt);
            }
            startup::SSL_REQUEST | startup::GSSENC_REQUEST => {
                io.out.put_u8(startup::SSL_REFUSED);
                if io.flush().await.is_err() {
                    return None;
                }
            }
            startup::CANCEL_REQUEST => {
                if let (Ok(pid), Ok(secret)) = (c.i32(), c.i32()) {
                    cancels.cancel(pid, secret).await;
                }
                return None;
            }
            code if code >> 16 == 3 => match read::startup_params(c.rest()) {
                Ok(params) => return Some(Startup::Params(params)),
                Err(_) => {
                    fatal(io, sqlstate::PROTOCOL_VIOLATION, "invalid startup packet").await;
                    return None;
                }
            },
            code => {
                fatal(
                    io,
                    sqlstate::PROTOCOL_VIOLATION,
                    &format!(
                        "unsupported frontend protocol {}.{}: server supports 3.0",
                        code >> 16,
                        code & 0xffff
                    ),
                )
                .await;
                return None;
            }
        }
    }
}

/// The TLS handshake after an accepted SSLRequest; the startup continues on the
/// encrypted connection. A failed handshake is only logged: the client has no channel
/// left to read an error on.
async fn encrypt(io: ClientIo, tls: &TlsServer) -> Option<ClientIo> {
    let ClientIo {
        reader,
        writer,
        out,
        sent,
    } = io;
    let max_frame = reader.max_frame();
    // Nothing is buffered: `startup_packet` refused cleartext behind the request.
    match client_stream::upgrade(reader.into_inner(), writer, tls, &[]).await {
        Ok((r, w)) => Some(ClientIo {
            reader: FrameReader::new(r, max_frame),
            writer: w,
            out,
            sent,
        }),
        Err(e) => {
            tracing::info!(error = %e, "PostgreSQL client TLS handshake failed");
            None
        }
    }
}

/// Authenticates the user of the StartupMessage and finds its database; `None` when
/// refused (error sent).
async fn login(
    io: &mut ClientIo,
    cluster: &Cluster,
    over_limit: Option<u32>,
    params: Vec<(String, String)>,
    channel_binding: Option<&[u8]>,
    peer: std::net::IpAddr,
) -> Option<Accepted> {
    if let Some(max) = over_limit {
        fatal(
            io,
            sqlstate::TOO_MANY_CONNECTIONS,
            &format!("sorry, too many clients already (shardwire max_client_connections = {max})"),
        )
        .await;
        return None;
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(user_name) = get("user") else {
        fatal(
            io,
            sqlstate::INVALID_AUTHORIZATION,
            "no PostgreSQL user name specified in startup packet",
        )
        .await;
        return None;
    };
    let db_name = get("database").unwrap_or_else(|| user_name.clone());
    let user = cluster.user(&user_name).cloned();
    let method = cluster.config.proxy.auth_method;
    let ok = match method {
        AuthMethod::Md5 => authenticate_md5(io, &user_name, user.as_deref()).await,
        AuthMethod::ScramSha256 => {
            authenticate_scram(io, &user_name, user.as_deref(), channel_binding).await
        }
    };
    let ok = ok?;
    let Some(user) = user.filter(|_| ok) else {
        crate::auth_failures::AuthFailures::global().record(peer, "postgres", &user_name);
        fatal(
            io,
            sqlstate::INVALID_PASSWORD,
            &format!("password authentication failed for user \"{user_name}\""),
        )
        .await;
        return None;
    };
    if user.require_tls && !io.writer.is_tls() {
        fatal(
            io,
            sqlstate::INVALID_AUTHORIZATION,
            &format!("user \"{user_name}\" requires TLS: connect with sslmode=require or stronger"),
        )
        .await;
        return None;
    }
    let Some(db) = cluster.database(&db_name).cloned() else {
        fatal(
            io,
            sqlstate::INVALID_CATALOG_NAME,
            &format!("database \"{db_name}\" does not exist"),
        )
        .await;
        return None;
    };
    Some(Accepted { user, db, params })
}

/// SCRAM exchange; Some(true) on success, Some(false) on a wrong password or unknown user,
/// None when the client went away or broke the protocol (error already sent). With
/// `channel_binding` (over TLS), SCRAM-SHA-256-PLUS is offered too.
async fn authenticate_scram(
    io: &mut ClientIo,
    user_name: &str,
    user: Option<&UserRuntime>,
    channel_binding: Option<&[u8]>,
) -> Option<bool> {
    let verifier = match user {
        Some(u) => u.credentials.scram_verifier().clone(),
        None => ScramVerifier::mock(user_name, b"shardwire-unknown-user"),
    };
    let offers_plus = channel_binding.is_some();
    build::authentication(
        &mut io.out,
        auth_tag::SASL,
        sasl::mechanisms_payload(offers_plus),
    );
    io.flush().await.ok()?;
    let mut server = ScramServer::new(verifier, &mut rand::rng());
    let first = password_message(io).await?;
    let (mechanism, data) = match sasl::parse_initial_response(&first) {
        Ok(x) => x,
        Err(e) => return protocol_error(io, &e.to_string()).await,
    };
    let plus = match sasl::check_mechanism(mechanism, offers_plus) {
        Ok(plus) => plus,
        Err(e) => return protocol_error(io, &e.to_string()).await,
    };
    if let Some(data) = channel_binding {
        server = server.with_channel_binding(data.to_vec(), plus);
    }
    let server_first = match server.client_first(data.unwrap_or_default()) {
        Ok(m) => m,
        Err(e) => return protocol_error(io, &e.to_string()).await,
    };
    build::authentication(&mut io.out, auth_tag::SASL_CONTINUE, &server_first);
    io.flush().await.ok()?;
    let last = password_message(io).await?;
    match server.client_final(&last) {
        Ok(server_final) if user.is_some() => {
            build::authentication(&mut io.out, auth_tag::SASL_FINAL, &server_final);
            Some(true)
        }
        Ok(_) | Err(auth::AuthError::WrongPassword) => Some(false),
        Err(e) => protocol_error(io, &e.to_string()).await,
    }
}

async fn authenticate_md5(
    io: &mut ClientIo,
    user_name: &str,
    user: Option<&UserRuntime>,
) -> Option<bool> {
    let salt = md5::md5_salt(&mut rand::rng());
    let mut payload = Vec::with_capacity(4);
    payload.extend_from_slice(&salt);
    build::authentication(&mut io.out, auth_tag::MD5, &payload);
    io.flush().await.ok()?;
    let response = password_message(io).await?;
    Some(match user {
        Some(u) => u.credentials.verify_md5(user_name, salt, &response).is_ok(),
        None => false,
    })
}

/// The body of the next password-type message.
async fn password_message(io: &mut ClientIo) -> Option<Vec<u8>> {
    match io.reader.next_frame().await {
        Ok(Some(f)) if f.tag() == frontend::PASSWORD => Some(f.body().to_vec()),
        Ok(Some(f)) => {
            fatal(
                io,
                sqlstate::PROTOCOL_VIOLATION,
                &format!("expected password response, got message type {}", f.tag()),
            )
            .await;
            None
        }
        Ok(None) | Err(FrameError::Io(_)) | Err(FrameError::Truncated) => None,
        Err(e) => {
            fatal(io, sqlstate::PROTOCOL_VIOLATION, &e.to_string()).await;
            None
        }
    }
}

async fn protocol_error(io: &mut ClientIo, message: &str) -> Option<bool> {
    fatal(io, sqlstate::INVALID_AUTHORIZATION, message).await;
    None
}

pub(super) async fn fatal(io: &mut ClientIo, code: &str, message: &str) {
    build::error_response(&mut io.out, Severity::Fatal, code, message);
    let _ = io.flush().await;
}

/// Sends AuthenticationOk, the parameters a client expects, its cancel key and
/// ReadyForQuery. Server-reported values come from shard 0, with the client's own
/// startup settings taking precedence.
pub async fn welcome(
    io: &mut ClientIo,
    accepted: &Accepted,
    session_params: &SessionParams,
    key: (i32, i32),
) -> bool {
    let server_params = match accepted.db.server_params().await {
        Ok(p) => p,
        Err(e) => {
            fatal(io, sqlstate::CONNECTION_FAILURE, &format!("shardwire: {e}")).await;
            return false;
        }
    };
    build::auth_ok(&mut io.out);
    let own = |name: &str| -> Option<String> {
        if name == "session_authorization" {
            return Some(accepted.user.name.clone());
        }
        session_params
            .pairs()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches('\'').replace("''", "'"))
    };
    let mut seen_app_name = false;
    for (name, value) in server_params {
        seen_app_name |= name == "application_name";
        let value = own(name).unwrap_or_else(|| value.clone());
        build::parameter_status(&mut io.out, name, &value);
    }
    if !seen_app_name {
        let value = own("application_name").unwrap_or_default();
        build::parameter_status(&mut io.out, "application_name", &value);
    }
    build::backend_key_data(&mut io.out, key.0, key.1);
    build::ready_for_query(&mut io.out, b'I');
    io.flush().await.is_ok()
}
