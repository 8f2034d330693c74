//! TLS to a MariaDB/MySQL backend (`backend_tls = "verify-full"`): read the server's
//! greeting in the clear, check that it offers CLIENT_SSL, send an SSLRequest and run
//! the handshake ([`NodeTls`] verifies the certificate against the CA and the node's
//! host). The login then continues encrypted with sequence id 2. A server that does not
//! offer TLS is an error, never a fall-back to plaintext.

use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::conn::DEFAULT_COLLATION;
use crate::backend::tls::{NodeTls, ServerReader, ServerWriter};
use crate::protocol::mysql::consts::cap;
use crate::protocol::mysql::handshake::{Greeting, HandshakeResponse};
use crate::protocol::mysql::read::ErrPacket;
use crate::protocol::mysql_stream::{Packet, PacketReader};
use crate::stream::{self, SplitReader, SplitWriter};

/// Largest greeting accepted before TLS (they are about 100 bytes).
const MAX_GREETING: usize = 16 * 1024;

/// The encrypted connection and the server's greeting (for the salt and capabilities).
pub type Negotiated = (ServerReader, ServerWriter, Packet);

/// Greeting, SSLRequest with `capabilities | CLIENT_SSL`, handshake; within `timeout`.
pub async fn negotiate(
    tls: &NodeTls,
    tcp: TcpStream,
    capabilities: u32,
    timeout: Duration,
) -> Result<Negotiated, String> {
    tokio::time::timeout(timeout, run(tls, tcp, capabilities))
        .await
        .map_err(|_| "TLS negotiation timed out".to_string())?
}

async fn run(tls: &NodeTls, tcp: TcpStream, capabilities: u32) -> Result<Negotiated, String> {
    let (r, mut w): (ServerReader, ServerWriter) = stream::plain(tcp);
    let mut reader = PacketReader::new(r, MAX_GREETING);
    let hello = reader.next().await.map_err(|e| format!("greeting: {e}"))?;
    if hello.payload().first() == Some(&0xFF) {
        let message = ErrPacket::parse(hello.payload())
            .map(|err| format!("{} {}", err.code, err.message_lossy()))
            .unwrap_or_else(|e| format!("bad error packet: {}", e.0));
        return Err(format!("refused the connection: {message}"));
    }
    let greeting =
        Greeting::parse(hello.payload()).map_err(|e| format!("bad handshake: {}", e.0))?;
    if greeting.capabilities & cap::SSL == 0 {
        return Err(
            "the server does not offer TLS (no ssl_cert/ssl_key), and backend_tls is verify-full"
                .into(),
        );
    }
    let request = HandshakeResponse {
        capabilities: capabilities | cap::SSL,
        max_packet_size: 1 << 24,
        charset: DEFAULT_COLLATION,
        user: "",
        auth_response: &[],
        database: None,
        auth_plugin: None,
        connect_attrs: None,
    };
    let mut out = BytesMut::with_capacity(36);
    let mut seq = hello.seq().wrapping_add(1);
    request.write_ssl_request(&mut out, &mut seq);
    w.send_all(&out).await.map_err(|e| format!("write: {e}"))?;
    if !reader.buffered().is_empty() {
        return Err("the server sent data before the TLS handshake".into());
    }
    let (SplitReader::Plain(r), SplitWriter::Plain(w)) = (reader.into_inner(), w) else {
        return Err("the connection is already encrypted".into());
    };
    let tcp = r
        .reunite(w)
        .map_err(|_| "socket halves do not belong together".to_string())?;
    let encrypted = tls.connect(tcp).await?;
    let (r, w) = stream::encrypted(encrypted);
    Ok((r, w, hello))
}
