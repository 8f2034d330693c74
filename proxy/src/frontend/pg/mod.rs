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
use crate::live::LiveCluster;
use crate::protocol::pg::frame::{FrameReader, DEFAULT_MAX_FRAME};
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
    let (r, w) = client_stream::plain(stream);
    let io = ClientIo {
        reader: FrameReader::new(r, DEFAULT_MAX_FRAME),
        writer: w,
        out: BytesMut::with_capacity(2 * 1024),
        sent: 0,
    };
    // The cluster current at login; the session follows reloads at transaction boundaries.
    let generation = live.generation();
    let cluster = live.load();
    let Some((mut io, accepted)) =
        startup::handshake(io, &cluster, &cancels, over_limit, tls).await
    else {
        return;
    };
    let (params, own) = SessionParams::from_startup(&accepted.params);
    let proxy = &cluster.config.proxy;
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
            build_fatal(&mut io, &msg).await;
            return;
        }
    }
    let registration = cancels.register();
    if !startup::welcome(&mut io, &accepted, &params, registration.key()).await {
        return;
    }
    client
        .entry
        .logged_in(&accepted.user.name, &accepted.db.config.name);
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

async fn build_fatal(io: &mut ClientIo, msg: &str) {
    crate::protocol::pg::build::error_response(
        &mut io.out,
        crate::protocol::pg::build::Severity::Fatal,
        crate::protocol::pg::sqlstate::INVALID_PARAMETER_VALUE,
        msg,
    );
    let _ = io.flush().await;
}
