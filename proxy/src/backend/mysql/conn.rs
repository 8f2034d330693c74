//! One raw connection to a MariaDB/MySQL server: the proxy logs in as the database's
//! backend user and then forwards client packets over it.
//!
//! The connection always negotiates the classic result-set format (no
//! `CLIENT_DEPRECATE_EOF`) and session tracking, whatever the client chose: one pool
//! serves every client, and the session translates result-set ends for clients that
//! asked for `DEPRECATE_EOF`. `session_track_system_variables = last_gtid` makes every
//! OK after a write carry the transaction's GTID, the session's causal position, with no
//! extra round trip.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::answer::{read_answer, Answer};
use crate::backend::pg::{NodeInfo, ServerError};
use crate::backend::tls::{ServerReader, ServerWriter};
use crate::protocol::mysql::consts::{cap, com as command, status};
use crate::protocol::mysql::handshake::{AuthSwitch, Greeting};
use crate::protocol::mysql::read::ErrPacket;
use crate::protocol::mysql_stream::{put_packet, Packet, PacketReader, ReadError};

/// Logical packets from servers may be as large as MySQL allows (1 GiB).
const MAX_SERVER_PACKET: usize = 1 << 30;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Statements kept prepared per server connection.
pub const MAX_STATEMENTS: usize = 256;

/// utf8mb4_general_ci: what the test bed's servers and most clients use.
pub const DEFAULT_COLLATION: u8 = 45;

/// Capabilities the proxy asks servers for.
const CLIENT_CAPABILITIES: u32 = cap::LONG_PASSWORD
    | cap::LONG_FLAG
    | cap::CONNECT_WITH_DB
    | cap::PROTOCOL_41
    | cap::TRANSACTIONS
    | cap::SECURE_CONNECTION
    | cap::MULTI_STATEMENTS
    | cap::MULTI_RESULTS
    | cap::PS_MULTI_RESULTS
    | cap::PLUGIN_AUTH
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | cap::SESSION_TRACK;

/// A statement prepared on one server connection.
#[derive(Debug, Clone, Copy)]
pub struct ServerStatement {
    /// The server's statement id.
    pub id: u32,
    /// Its parameter count.
    pub params: u16,
}

/// A server connection.
#[derive(Debug)]
pub struct MyConn {
    /// The node it belongs to.
    pub node: Arc<NodeInfo>,
    /// Packets from the server.
    pub reader: PacketReader<ServerReader>,
    writer: ServerWriter,
    /// Capabilities in effect (ours ∩ the server's).
    pub capabilities: u32,
    /// The server's connection id (`KILL QUERY` target for cancellation).
    pub connection_id: u32,
    /// The server's version string from its handshake.
    pub server_version: String,
    /// Status flags of the last OK/EOF/ERR-ended answer.
    pub status: u16,
    /// Session statements applied on top of the defaults, in order (replayed settings).
    pub applied: Vec<Arc<str>>,
    /// Statements prepared here, by SQL text (see [`MyConn::remember_statement`]).
    pub statements: HashMap<Arc<str>, ServerStatement>,
    /// The texts of `statements`, oldest first.
    statement_order: VecDeque<Arc<str>>,
    /// Server statements evicted from `statements`, closed ahead of the next request.
    pending_close: Vec<u32>,
    /// The last GTID an OK reported.
    pub last_gtid: Option<Bytes>,
    /// Set when the connection must not be reused.
    pub broken: bool,
    created: Instant,
}

impl MyConn {
    /// Connects and logs in.
    pub async fn connect(node: Arc<NodeInfo>) -> Result<MyConn, ServerError> {
        let tcp = crate::backend::connect_tcp(&node, CONNECT_TIMEOUT).await?;
        let (r, w, greeting) = match &node.tls {
            None => {
                let (r, w) = crate::stream::plain(tcp);
                (r, w, None)
            }
            Some(tls) => {
                let (r, w, hello) =
                    super::tls::negotiate(tls, tcp, CLIENT_CAPABILITIES, CONNECT_TIMEOUT)
                        .await
                        .map_err(|reason| crate::backend::connect_failed(&node, "tls", reason))?;
                (r, w, Some(hello))
            }
        };
        let mut conn = MyConn {
            node: node.clone(),
            reader: PacketReader::new(r, MAX_SERVER_PACKET),
            writer: w,
            capabilities: 0,
            connection_id: 0,
            server_version: String::new(),
            status: status::AUTOCOMMIT,
            applied: Vec::new(),
            statements: HashMap::new(),
            statement_order: VecDeque::new(),
            pending_close: Vec::new(),
            last_gtid: None,
            broken: false,
            created: Instant::now(),
        };
        tokio::time::timeout(CONNECT_TIMEOUT, conn.login(greeting))
            .await
            .map_err(|_| conn.protocol_err("login timed out"))??;
        Ok(conn)
    }

    fn protocol_err(&self, reason: impl Into<String>) -> ServerError {
        ServerError::Protocol {
            node: self.node.name.clone(),
            reason: reason.into(),
        }
    }

    async fn next_packet(&mut self) -> Result<Packet, ServerError> {
        self.reader
            .next()
            .await
            .map_err(|e| self.protocol_err(format!("during login: {e}")))
    }

    /// Logs in; `greeting`: the server's greeting when it was read before a TLS
    /// handshake (the SSLRequest took sequence id 1).
    async fn login(&mut self, greeting: Option<Packet>) -> Result<(), ServerError> {
        let encrypted = greeting.is_some();
        let hello = match greeting {
            Some(hello) => hello,
            None => self.next_packet().await?,
        };
        if hello.payload().first() == Some(&0xFF) {
            let err = ErrPacket::parse(hello.payload())
                .map_err(|e| self.protocol_err(format!("bad error packet: {}", e.0)))?;
            return Err(self.refused(err.code, &err.message_lossy()));
        }
        let handshake = Greeting::parse(hello.payload())
            .map_err(|e| self.protocol_err(format!("bad handshake: {}", e.0)))?;
        self.connection_id = handshake.connection_id;
        self.server_version = String::from_utf8_lossy(handshake.server_version).into_owned();
        self.capabilities = CLIENT_CAPABILITIES & handshake.capabilities;
        if encrypted {
            self.capabilities |= cap::SSL;
        }
        for needed in [cap::PROTOCOL_41, cap::SECURE_CONNECTION, cap::PLUGIN_AUTH] {
            if self.capabilities & needed == 0 {
                return Err(self.protocol_err(format!(
                    "server {} lacks capability {needed:#x}",
                    self.server_version
                )));
            }
        }
        let salt = handshake.salt.to_vec();
        let plugin = String::from_utf8_lossy(handshake.auth_plugin).into_owned();
        let response = self.scramble(&plugin, &salt)?;
        let mut payload = BytesMut::with_capacity(128);
        payload.extend_from_slice(&self.capabilities.to_le_bytes());
        payload.extend_from_slice(&(1u32 << 24).to_le_bytes());
        payload.extend_from_slice(&[DEFAULT_COLLATION]);
        payload.extend_from_slice(&[0; 23]);
        payload.extend_from_slice(self.node.user.as_bytes());
        payload.extend_from_slice(&[0]);
        payload.extend_from_slice(&[response.len() as u8]);
        payload.extend_from_slice(&response);
        payload.extend_from_slice(self.node.dbname.as_bytes());
        payload.extend_from_slice(&[0]);
        payload.extend_from_slice(plugin.as_bytes());
        payload.extend_from_slice(&[0]);
        let mut out = BytesMut::new();
        let seq = hello.seq().wrapping_add(if encrypted { 2 } else { 1 });
        put_packet(&mut out, seq, &payload);
        self.write(&out).await?;
        self.finish_auth().await?;
        // Session tracking of the last GTID: positions for read-your-writes without a
        // query of their own.
        let answer = self
            .query("SET SESSION session_track_system_variables = 'last_gtid'")
            .await?;
        if let Some(err) = answer.error {
            return Err(self.refused(err.code, &err.message));
        }
        Ok(())
    }

    /// Reads the server's answers to our login until OK, following auth switches.
    async fn finish_auth(&mut self) -> Result<(), ServerError> {
        loop {
            let packet = self.next_packet().await?;
            let seq = packet.seq().wrapping_add(1);
            let payload = packet.payload();
            match payload.first().copied() {
                Some(0x00) => return Ok(()),
                Some(0xFF) => {
                    let err = ErrPacket::parse(payload)
                        .map_err(|e| self.protocol_err(format!("bad error packet: {}", e.0)))?;
                    return Err(self.refused(err.code, &err.message_lossy()));
                }
                Some(0xFE) => {
                    let switch = AuthSwitch::parse(payload)
                        .map_err(|e| self.protocol_err(format!("bad auth switch: {}", e.0)))?;
                    let plugin = String::from_utf8_lossy(switch.plugin).into_owned();
                    let data = switch.data;
                    let salt = data.strip_suffix(&[0]).unwrap_or(data).to_vec();
                    let response = self.scramble(&plugin, &salt)?;
                    let mut out = BytesMut::new();
                    put_packet(&mut out, seq, &response);
                    self.write(&out).await?;
                }
                Some(0x01) => match payload.get(1) {
                    // caching_sha2_password: fast authentication succeeded, OK follows.
                    Some(0x03) => {}
                    // Full authentication: inside TLS the password goes in clear
                    // (MySQL 8 backends; MariaDB has no caching_sha2 on the server).
                    Some(0x04) if self.writer.is_tls() => {
                        let mut password = self.node.password.as_bytes().to_vec();
                        password.push(0);
                        let mut out = BytesMut::new();
                        put_packet(&mut out, seq, &password);
                        self.write(&out).await?;
                    }
                    _ => {
                        return Err(self.protocol_err(
                            "the server asks for full caching_sha2_password authentication, \
                             which needs TLS: set backend_tls = \"verify-full\", give the \
                             backend user mysql_native_password, or log it in once from a \
                             TLS client",
                        ))
                    }
                },
                _ => return Err(self.protocol_err("unexpected packet during login")),
            }
        }
    }

    fn scramble(&self, plugin: &str, salt: &[u8]) -> Result<Vec<u8>, ServerError> {
        let password = self.node.password.as_bytes();
        let salt = &salt[..salt.len().min(20)];
        match plugin {
            "mysql_native_password" | "" => {
                Ok(mysql_common::scramble::scramble_native(salt, password)
                    .map(|s| s.to_vec())
                    .unwrap_or_default())
            }
            "caching_sha2_password" => Ok(mysql_common::scramble::scramble_sha256(salt, password)
                .map(|s| s.to_vec())
                .unwrap_or_default()),
            other => Err(self.protocol_err(format!(
                "the backend user's auth plugin {other} is not supported \
                 (use mysql_native_password or caching_sha2_password)"
            ))),
        }
    }

    fn refused(&self, code: u16, message: &str) -> ServerError {
        ServerError::Refused {
            node: self.node.name.clone(),
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    /// Records a statement prepared here. At most [`MAX_STATEMENTS`] are kept per
    /// connection: the server's `max_prepared_stmt_count` is shared by every connection,
    /// and clients that prepare ever-new texts must not exhaust it for everyone. The
    /// oldest is closed (COM_STMT_CLOSE has no answer, so it travels with the next
    /// request).
    pub fn remember_statement(&mut self, sql: Arc<str>, statement: ServerStatement) {
        if self.statements.insert(sql.clone(), statement).is_none() {
            self.statement_order.push_back(sql);
        }
        while self.statements.len() > MAX_STATEMENTS {
            let Some(oldest) = self.statement_order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.statements.remove(&oldest) {
                self.pending_close.push(evicted.id);
            }
        }
    }

    /// Sends bytes (whole packets), after the closes of evicted statements.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        let result = self.write_all(bytes).await;
        if result.is_err() {
            crate::metrics::backend_error(&self.node.name, "reset");
        }
        result
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        if !self.pending_close.is_empty() {
            let mut closes = BytesMut::with_capacity(9 * self.pending_close.len());
            for id in self.pending_close.drain(..) {
                let mut payload = [0u8; 5];
                payload[0] = command::STMT_CLOSE;
                payload[1..].copy_from_slice(&id.to_le_bytes());
                put_packet(&mut closes, 0, &payload);
            }
            if let Err(e) = self.writer.send_all(&closes).await {
                self.broken = true;
                return Err(self.protocol_err(format!("write failed: {e}")));
            }
        }
        if let Err(e) = self.writer.send_all(bytes).await {
            self.broken = true;
            return Err(self.protocol_err(format!("write failed: {e}")));
        }
        Ok(())
    }

    /// The next packet of an answer; marks the connection broken on failure.
    pub async fn read(&mut self) -> Result<Packet, ServerError> {
        match self.reader.next().await {
            Ok(p) => Ok(p),
            Err(e) => {
                self.broken = true;
                let kind = match &e {
                    ReadError::Io(io) => crate::metrics::backend_error_kind(io),
                    ReadError::Closed => "reset",
                    ReadError::TooLarge { .. } => "other",
                };
                crate::metrics::backend_error(&self.node.name, kind);
                Err(self.protocol_err(format!("read failed: {e}")))
            }
        }
    }

    /// Runs one control statement (COM_QUERY) and reads its whole answer: the proxy's
    /// own statements (XA, settings), never client traffic.
    pub async fn query(&mut self, sql: &str) -> Result<Answer, ServerError> {
        let mut out = BytesMut::with_capacity(sql.len() + 5);
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(command::QUERY);
        payload.extend_from_slice(sql.as_bytes());
        put_packet(&mut out, 0, &payload);
        self.write(&out).await?;
        let answer = read_answer(self).await?;
        self.status = answer.status;
        Ok(answer)
    }

    /// COM_RESET_CONNECTION: the server forgets the session's settings, user variables
    /// and prepared statements; session tracking is turned back on.
    pub async fn reset_session(&mut self) -> Result<(), ServerError> {
        let mut out = BytesMut::with_capacity(5);
        put_packet(&mut out, 0, &[command::RESET_CONNECTION]);
        self.write(&out).await?;
        let answer = read_answer(self).await?;
        self.applied.clear();
        self.statements.clear();
        self.statement_order.clear();
        self.pending_close.clear();
        if let Some(err) = answer.error {
            self.broken = true;
            return Err(self.refused(err.code, &err.message));
        }
        let answer = self
            .query("SET SESSION session_track_system_variables = 'last_gtid'")
            .await?;
        if let Some(err) = answer.error {
            self.broken = true;
            return Err(self.refused(err.code, &err.message));
        }
        Ok(())
    }

    /// How long ago the connection was made.
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// Whether the server is inside a transaction on this connection.
    pub fn in_transaction(&self) -> bool {
        self.status & status::IN_TRANS != 0
    }

    /// Whether an idle connection's socket has data or is closed (it should be silent).
    pub fn idle_socket_is_dead(&mut self) -> bool {
        if !self.reader.buffered().is_empty() {
            return true;
        }
        let mut probe = [0u8; 1];
        match &self.writer {
            crate::stream::SplitWriter::Plain(w) => !matches!(
                w.as_ref().try_read(&mut probe),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            ),
            crate::stream::SplitWriter::Tls(_) => {
                crate::backend::tls::idle_tls_is_dead(self.reader.get_mut())
            }
        }
    }
}
