//! Login on the MySQL frontend: handshake v10 with a fresh salt, the switch to TLS when
//! the client sends an SSLRequest (CLIENT_SSL is offered when `proxy.tls_cert` is set),
//! the client's HandshakeResponse41, the auth plugin exchange (`auth::mysql`), and the
//! logical database the session will use.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

use super::session::{new_session, Session};
use crate::auth::mysql::{
    AuthStep, MysqlAuthExchange, MysqlCredentials, MysqlPlugin, RsaKeys, Salt,
};
use crate::cluster::Cluster;
use crate::frontend::client_stream::{self, ClientReader, ClientWriter};
use crate::protocol::mysql::build;
use crate::protocol::mysql::consts::{cap, status};
use crate::protocol::mysql::errcode::{self, ErrorCode};
use crate::protocol::mysql::handshake::{is_ssl_request, Greeting, HandshakeResponse};
use crate::protocol::mysql::read::OkPacket;
use crate::protocol::mysql_stream::{put_packet, Packet, PacketReader, ReadError};
use crate::tls::TlsServer;

/// Largest command a client may send: just under 16 MiB, so that a command never spans
/// packets (the proxy does not reassemble them) and a client announcing a 16 MiB packet
/// is refused at its header, before anything is buffered. `proxy.max_message_size` may
/// lower it.
pub const MAX_CLIENT_PACKET: usize = 0xFF_FFFF - 1;

/// Largest packet during login (handshake responses and auth data are small).
pub const MAX_LOGIN_PACKET: usize = 16 * 1024;

/// What the proxy tells clients it is. The `5.5.5-` prefix is how MariaDB servers
/// announce themselves to clients that still parse the version as MySQL's, and
/// connectors look for `-MariaDB` to know which dialect and features to expect.
pub const SERVER_VERSION: &str = "5.5.5-10.11.0-MariaDB-shardwire";

/// Capabilities the proxy offers.
/// Not `FOUND_ROWS`: server connections are shared by all clients and count changed
/// rows, so the proxy cannot honour a client's choice of matched rows.
pub const SERVER_CAPABILITIES: u32 = cap::LONG_PASSWORD
    | cap::LONG_FLAG
    | cap::CONNECT_WITH_DB
    | cap::PROTOCOL_41
    | cap::TRANSACTIONS
    | cap::SECURE_CONNECTION
    | cap::MULTI_STATEMENTS
    | cap::MULTI_RESULTS
    | cap::PS_MULTI_RESULTS
    | cap::PLUGIN_AUTH
    | cap::CONNECT_ATTRS
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | cap::SESSION_TRACK
    | cap::DEPRECATE_EOF;

fn next_connection_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs the login; `None` when the client was refused or went away. With `tls`, the
/// greeting offers CLIENT_SSL and the login continues encrypted after an SSLRequest.
pub(super) async fn login(
    reader: PacketReader<ClientReader>,
    writer: ClientWriter,
    live: Arc<crate::live::LiveCluster>,
    client: &crate::clients::ClientGuard,
    tls: Option<&TlsServer>,
) -> Option<Session> {
    // The generation first: a reload during the login then shows as newer than the
    // cluster the login used, and the session moves on at its first command.
    let generation = live.generation();
    let cluster = live.load();
    let connection_id = next_connection_id();
    let proxy = &cluster.config.proxy;
    let login_timeout = proxy.client_login_timeout;
    let max_packet = MAX_CLIENT_PACKET.min(proxy.max_message_size as usize);
    let outcome = tokio::time::timeout(
        login_timeout,
        negotiate(reader, writer, &cluster, connection_id, client, tls),
    )
    .await;
    let (mut reader, mut writer, result) = match outcome {
        Ok(Some(connection)) => connection,
        Ok(None) => return None,
        Err(_) => {
            // As MySQL at its connect_timeout: the connection just closes (a client that
            // is mid-handshake could not read an error packet anyway; the halves were
            // dropped with the login).
            tracing::debug!(timeout = ?login_timeout, "MySQL login timed out");
            return None;
        }
    };
    let (caps, db, user) = match result {
        Ok(accepted) => {
            reader.set_limit(max_packet);
            accepted
        }
        Err((seq, code, message)) => {
            tracing::debug!(%message, "MySQL login refused");
            let mut out = BytesMut::new();
            let mut seq = seq;
            build::error(&mut out, &mut seq, cap::PROTOCOL_41, code, &message);
            let _ = writer.send_all(&out).await;
            let _ = writer.shutdown().await;
            return None;
        }
    };
    drop(cluster);
    Some(new_session(
        reader,
        writer,
        caps,
        (live, generation),
        client.entry.clone(),
        db,
        user,
        connection_id,
    ))
}

type Refusal = (u8, ErrorCode, String);
type Accepted = (
    u32,
    Arc<crate::cluster::MyDatabaseRuntime>,
    Arc<crate::cluster::UserRuntime>,
);

/// The connection after the login exchange (encrypted if the client asked), and its
/// outcome; `None` when a TLS handshake failed (nothing can be sent then).
type Negotiated = (
    PacketReader<ClientReader>,
    ClientWriter,
    Result<Accepted, Refusal>,
);

/// Greeting, optional TLS upgrade, authentication. Owns the connection halves because
/// the upgrade replaces them.
async fn negotiate(
    mut reader: PacketReader<ClientReader>,
    mut writer: ClientWriter,
    cluster: &Arc<Cluster>,
    connection_id: u32,
    client: &crate::clients::ClientGuard,
    tls: Option<&TlsServer>,
) -> Option<Negotiated> {
    reader.set_limit(MAX_LOGIN_PACKET);
    let salt = Salt::random();
    let first = match greet(
        &mut reader,
        &mut writer,
        connection_id,
        &salt,
        tls.is_some(),
    )
    .await
    {
        Ok(packet) => packet,
        Err(refusal) => return Some((reader, writer, Err(refusal))),
    };
    if !is_ssl_request(first.payload()) {
        let result = exchange(
            &mut reader,
            &mut writer,
            cluster,
            (salt, &first),
            false,
            client,
        )
        .await;
        return Some((reader, writer, result));
    }
    let Some(tls) = tls else {
        let refusal = (
            first.seq().wrapping_add(1),
            errcode::ER_HANDSHAKE_ERROR,
            "TLS is not enabled on this proxy".into(),
        );
        return Some((reader, writer, Err(refusal)));
    };
    // The client does not wait for an answer to its SSLRequest: what is buffered is
    // the start of its ClientHello, input for the handshake (never read as packets).
    let received = reader.buffered().to_vec();
    let upgraded = client_stream::upgrade(reader.into_inner(), writer, tls, &received).await;
    let (r, w) = match upgraded {
        Ok(halves) => halves,
        Err(e) => {
            tracing::info!(error = %e, "MySQL client TLS handshake failed");
            return None;
        }
    };
    let mut reader = PacketReader::new(r, MAX_LOGIN_PACKET);
    let mut writer = w;
    // The full HandshakeResponse41, now encrypted; its sequence id continues (2).
    let result = match reader.next().await {
        Ok(response) => {
            exchange(
                &mut reader,
                &mut writer,
                cluster,
                (salt, &response),
                true,
                client,
            )
            .await
        }
        Err(e) => Err(read_refusal(e)),
    };
    Some((reader, writer, result))
}

/// Sends the greeting (offering CLIENT_SSL when TLS is configured) and reads the
/// client's first packet: a HandshakeResponse41 or an SSLRequest.
async fn greet(
    reader: &mut PacketReader<ClientReader>,
    writer: &mut ClientWriter,
    connection_id: u32,
    salt: &Salt,
    offer_tls: bool,
) -> Result<Packet, Refusal> {
    let mut out = BytesMut::with_capacity(256);
    let capabilities = if offer_tls {
        SERVER_CAPABILITIES | cap::SSL
    } else {
        SERVER_CAPABILITIES
    };
    let greeting = Greeting {
        server_version: SERVER_VERSION.as_bytes(),
        connection_id,
        salt: *salt.as_bytes(),
        capabilities,
        charset: crate::backend::mysql::conn::DEFAULT_COLLATION,
        status: status::AUTOCOMMIT,
        mariadb_capabilities: 0,
        auth_plugin: MysqlPlugin::NativePassword.name().as_bytes(),
    };
    greeting.write(&mut out, &mut 0);
    send(writer, &mut out).await?;
    reader.next().await.map_err(read_refusal)
}

/// Authenticates the HandshakeResponse41 in `packet` and picks the database.
/// `secure`: the connection runs over TLS (caching_sha2 full authentication may then
/// take the password in clear, and `require_tls` users may log in).
async fn exchange(
    reader: &mut PacketReader<ClientReader>,
    writer: &mut ClientWriter,
    cluster: &Arc<Cluster>,
    (salt, packet): (Salt, &Packet),
    secure: bool,
    client: &crate::clients::ClientGuard,
) -> Result<Accepted, Refusal> {
    let mut out = BytesMut::with_capacity(256);
    let mut seq = packet.seq().wrapping_add(1);
    if is_ssl_request(packet.payload()) {
        // A second SSLRequest, inside TLS.
        return Err((
            seq,
            errcode::ER_HANDSHAKE_ERROR,
            "Bad handshake: TLS is already in use on this connection".into(),
        ));
    }
    let response = HandshakeResponse::parse(packet.payload()).map_err(|e| {
        (
            seq,
            errcode::ER_HANDSHAKE_ERROR,
            format!("Bad handshake: {}", e.0),
        )
    })?;
    if response.capabilities & cap::PROTOCOL_41 == 0 {
        return Err((
            seq,
            errcode::ER_HANDSHAKE_ERROR,
            "Bad handshake: clients must speak protocol 4.1".into(),
        ));
    }
    let caps = response.capabilities & SERVER_CAPABILITIES;
    let user_name = response.user.to_string();
    let user = cluster.user(&user_name).cloned();
    let (credentials, configured) = match &user {
        Some(u) => (u.mysql.clone(), MysqlPlugin::from(u.mysql_auth)),
        None => (MysqlCredentials::mock(), MysqlPlugin::NativePassword),
    };
    // Only users without a clear-text password need full authentication (and so the
    // RSA key, slow to make): the fast path checks everyone else.
    let needs_full_auth = !credentials.supports(MysqlPlugin::NativePassword);
    let mut auth = MysqlAuthExchange::new(credentials, configured, salt);
    if needs_full_auth {
        if let Some(keys) = rsa_keys().await {
            auth = auth.with_rsa_keys(keys);
        }
    }
    let client_plugin = response.auth_plugin.unwrap_or_default();
    let mut step = auth.on_handshake_response(client_plugin, response.auth_response, secure);
    let denied = |seq: u8, auth: &MysqlAuthExchange| {
        let using = if auth.password_used() { "YES" } else { "NO" };
        (
            seq,
            errcode::ER_ACCESS_DENIED_ERROR,
            format!("Access denied for user '{user_name}' (using password: {using})"),
        )
    };
    loop {
        match step {
            AuthStep::Success { fast_auth } => {
                if fast_auth {
                    put_packet(
                        &mut out,
                        seq,
                        &[0x01, crate::auth::mysql::FAST_AUTH_SUCCESS],
                    );
                    seq = seq.wrapping_add(1);
                }
                break;
            }
            AuthStep::Failure(e) => {
                tracing::debug!(user = %user_name, reason = %e, "MySQL authentication failed");
                let source = client.entry.peer.ip();
                crate::auth_failures::AuthFailures::global().record(source, "mysql", &user_name);
                return Err(denied(seq, &auth));
            }
            AuthStep::SwitchPlugin { plugin, data } => {
                if response.capabilities & cap::PLUGIN_AUTH == 0 {
                    return Err(denied(seq, &auth));
                }
                let mut payload = Vec::with_capacity(64);
                payload.push(0xFE);
                payload.extend_from_slice(plugin.name().as_bytes());
                payload.push(0);
                payload.extend_from_slice(&data);
                put_packet(&mut out, seq, &payload);
            }
            AuthStep::MoreData(data) => {
                let mut payload = Vec::with_capacity(data.len() + 1);
                payload.push(0x01);
                payload.extend_from_slice(&data);
                put_packet(&mut out, seq, &payload);
            }
        }
        send(writer, &mut out).await?;
        let packet = reader.next().await.map_err(read_refusal)?;
        seq = packet.seq().wrapping_add(1);
        step = auth.on_response(packet.payload(), secure);
    }
    let Some(user) = user else {
        return Err(denied(seq, &auth));
    };
    if user.require_tls && !secure {
        return Err((
            seq,
            errcode::ER_ACCESS_DENIED_ERROR,
            format!(
                "Access denied for user '{user_name}': this user requires TLS \
                 (connect with --ssl or --ssl-mode=REQUIRED)"
            ),
        ));
    }
    let db_name = response.database.filter(|d| !d.is_empty());
    let db = match db_name {
        Some(name) => cluster.mysql_database(name).cloned().ok_or_else(|| {
            (
                seq,
                errcode::ER_BAD_DB_ERROR,
                format!("Unknown database '{name}'"),
            )
        })?,
        None => {
            let mut all = cluster.mysql_databases();
            match (all.next(), all.next()) {
                (Some(only), None) => only.clone(),
                _ => {
                    return Err((
                        seq,
                        errcode::ER_NO_DB_ERROR,
                        "No database selected: connect with the name of a database \
                         configured with protocol = \"mysql\""
                            .into(),
                    ))
                }
            }
        }
    };
    if let Err(max) = client.admit(&user.name, &db.config.name, user.max_connections) {
        return Err((
            seq,
            errcode::ER_TOO_MANY_USER_CONNECTIONS,
            format!(
                "User {} already has more than 'max_user_connections' active connections \
                 (shardwire users.max_connections = {max})",
                user.name
            ),
        ));
    }
    let ok = OkPacket {
        status: status::AUTOCOMMIT,
        ..OkPacket::default()
    };
    build::ok(&mut out, &mut seq, caps, &ok);
    send(writer, &mut out).await?;
    tracing::debug!(user = %user.name, db = %db.config.name, tls = secure, "MySQL client logged in");
    Ok((caps, db, user))
}

/// The process's RSA key pair for `caching_sha2_password` full authentication, made on
/// first use off the runtime threads (generation takes a while; the server starts it
/// early when some user needs it, see [`prepare_rsa_keys`]).
async fn rsa_keys() -> Option<RsaKeys> {
    if let Some(keys) = RsaKeys::try_global() {
        return Some(keys);
    }
    tokio::task::spawn_blocking(RsaKeys::global)
        .await
        .ok()?
        .ok()
}

async fn send(writer: &mut ClientWriter, out: &mut BytesMut) -> Result<(), Refusal> {
    writer.send_all(out).await.map_err(|_| gone())?;
    out.clear();
    Ok(())
}

/// A bad packet during login gets an error; a client that left gets nothing.
fn read_refusal(e: ReadError) -> Refusal {
    match e {
        // The client's first packet is 1, so the answer is 2.
        ReadError::TooLarge { announced, .. } => (
            2,
            errcode::ER_HANDSHAKE_ERROR,
            format!("Bad handshake: a login packet of {announced} bytes"),
        ),
        _ => gone(),
    }
}

fn gone() -> Refusal {
    (0, errcode::ER_HANDSHAKE_ERROR, "client went away".into())
}

/// Starts making the RSA key in the background when some user can only log in to the
/// MySQL frontend with full authentication (no clear-text password in the config).
pub fn prepare_rsa_keys(cluster: &Cluster) {
    let needed = cluster.config.users.iter().any(|u| u.password.is_none());
    if needed && RsaKeys::try_global().is_none() {
        tokio::task::spawn_blocking(RsaKeys::global);
    }
}
