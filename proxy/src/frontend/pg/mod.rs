//! The PostgreSQL frontend: startup and authentication ([`startup`]), the session loop
//! with transaction pooling and the simple protocol ([`session`]), the extended protocol
//! ([`extended`]), statements answered by the proxy ([`local`]), response streaming
//! ([`pump`]), and the per-session state that must survive pooling ([`params`],
//! [`statements`], [`settings`]).

pub mod distributed;
pub mod exchange;
pub mod extended;
pub mod extended_local;
pub mod local;
pub mod params;
pub mod portal_batch;
pub mod pump;
pub mod reads;
pub mod scatter;
pub mod session;
pub mod settings;
pub mod simple;
pub mod startup;
pub mod statements;
pub mod write_concern;

use std::sync::Arc;

use bytes::BytesMut;
use tokio::net::TcpStream;

use crate::frontend::client_stream;
use crate::tls::TlsServer;

use crate::cancel::CancelRegistry;
use crate::clients::ClientGuard;
use crate::frontend::limits::spelled;
use crate::live::LiveCluster;
use crate::protocol::pg::frame::FrameReader;
use crate::protocol::pg::sqlstate;
use params::SessionParams;
use pump::ClientIo;
use session::Session;
use settings::ShardwireSettings;

/// Serves one client connection from accept to close.
pub async fn serve_client(
    stream: TcpStream,
    live: Arc<LiveCluster>,
    cancels: Arc<CancelRegistry>,
    client: &ClientGuard,
    over_limit: Option<u32>,
    tls: Option<&TlsServer>,
) {
    let _ = stream.set_nodelay(true);
    let _connected = crate::metrics::ClientGauge::connected("postgres");
    // The cluster current at login; the session follows reloads at transaction boundaries.
    let generation = live.generation();
    let cluster = live.load();
    let proxy = &cluster.config.proxy;
    let (r, w) = client_stream::plain(stream);
    let io = ClientIo {
        reader: FrameReader::new(r, proxy.max_message_size as usize),
        writer: w,
        out: BytesMut::with_capacity(2 * 1024),
        sent: 0,
    };
    let login_timeout = proxy.client_login_timeout;
    let peer = client.entry.peer.ip();
    // The connection sits in a slot the handshake may swap for its TLS form; it is
    // empty only while the TLS handshake runs, when no error could be sent anyway.
    let mut slot = Some(io);
    let handshake = startup::handshake(&mut slot, &cluster, &cancels, over_limit, tls, peer);
    let accepted = match tokio::time::timeout(login_timeout, handshake).await {
        Ok(Some(accepted)) => accepted,
        Ok(None) => return,
        Err(_) => {
            let Some(io) = slot.as_mut() else {
                return;
            };
            // PostgreSQL's own words and code for its authentication_timeout.
            let message = format!(
                "canceling authentication due to timeout (shardwire client_login_timeout = {})",
                spelled(login_timeout)
            );
            startup::fatal(io, sqlstate::QUERY_CANCELED, &message).await;
            return;
        }
    };
    let Some(mut io) = slot else {
        return;
    };
    let user_name = &accepted.user.name;
    let db_name = &accepted.db.config.name;
    if let Err(max) = client.admit(user_name, db_name, accepted.user.max_connections) {
        let message = format!(
            "too many connections for role \"{user_name}\" (shardwire users.max_connections = {max})"
        );
        startup::fatal(&mut io, sqlstate::TOO_MANY_CONNECTIONS, &message).await;
        return;
    }
    let (params, own) = SessionParams::from_startup(&accepted.params);
    let mut settings = ShardwireSettings::new(
        cluster
            .config
            .user(&accepted.user.name)
            .and_then(|u| u.read_consistency)
            .unwrap_or(proxy.default_read_consistency),
        proxy.default_max_staleness,
    );
    for (name, value) in own {
        if let Err(msg) = settings.set(name.trim_start_matches("shardwire."), &value) {
            startup::fatal(&mut io, sqlstate::INVALID_PARAMETER_VALUE, &msg).await;
            return;
        }
    }
    let registration = cancels.register();
    if !startup::welcome(&mut io, &accepted, &params, registration.key()).await {
        return;
    }
    drop(cluster);
    let session = Session::new(
        io,
        accepted.db,
        accepted.user,
        params,
        settings,
        registration.slot.clone(),
        session::Shared {
            live,
            generation,
            client: client.entry.clone(),
        },
    );
    session.run().await;
    drop(registration);
}
