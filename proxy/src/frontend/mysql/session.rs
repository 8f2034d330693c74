//! A MySQL client's session: its state, and the loop that reads one command at a time
//! and answers it.
//!
//! Transaction pooling: outside a transaction a statement borrows a server connection
//! for the length of its answer; inside one, the transaction's branches hold theirs
//! until COMMIT or ROLLBACK. What the client set with `SET` is replayed on whichever
//! connection serves it next.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::backend::Pinned;
use super::cancel::Registration;
use super::reply;
use super::statements::ClientStatement;
use super::xa::ClientTxn;
use crate::clients::{ClientEntry, ClientGuard, ClientState};
use crate::cluster::{MyDatabaseRuntime, UserRuntime};
use crate::consistency::SessionToken;
use crate::frontend::client_stream::{self, ClientReader, ClientWriter};
use crate::frontend::pg::settings::ShardwireSettings;
use crate::live::LiveCluster;
use crate::protocol::mysql::consts::{com, status};
use crate::protocol::mysql::errcode;
use crate::protocol::mysql_stream::{Packet, PacketReader, ReadError};
use crate::tls::TlsServer;

/// A session's replayed settings: `SET` statements that succeeded, by what they set, in
/// the order they were made.
pub(super) type Settings = Vec<(String, Arc<str>)>;

/// One client's session.
pub(super) struct Session {
    /// Packets from the client.
    pub client: PacketReader<ClientReader>,
    writer: ClientWriter,
    /// Bytes for the client, flushed at the end of each answer (or when large).
    pub out: BytesMut,
    /// Capabilities in effect (the client's ∩ the proxy's).
    pub caps: u32,
    /// The running configuration.
    pub live: Arc<LiveCluster>,
    /// The generation `db` comes from.
    pub generation: u64,
    /// This client's entry in `SHOW shardwire.clients`.
    pub client_entry: Arc<ClientEntry>,
    /// The logical database the client uses.
    pub db: Arc<MyDatabaseRuntime>,
    /// Who logged in.
    pub user: Arc<UserRuntime>,
    /// Replayed settings.
    pub settings: Settings,
    /// `shardwire.*` settings.
    pub shardwire: ShardwireSettings,
    /// `autocommit`: off means every statement outside a transaction begins one.
    pub autocommit: bool,
    /// The client's transaction, when one is open.
    pub txn: Option<ClientTxn>,
    /// A connection left inside a transaction the proxy did not open (see `Pinned`).
    pub pinned: Option<Pinned>,
    /// Prepared statements by client statement id.
    pub statements: HashMap<u32, ClientStatement>,
    /// The next client statement id.
    pub next_statement_id: u32,
    /// The proxy's connection id for this client.
    pub connection_id: u32,
    /// The session's causal position per shard (GTID sequence numbers).
    pub positions: SessionToken,
    /// Set while a `LOCK TABLES` (true) or `UNLOCK TABLES` (false) runs.
    pub table_lock: Option<bool>,
    /// The `SHOW WARNINGS` rows of the last statement run on a pooled connection, when
    /// it left warnings or an error; dropped at the next command that does not ask.
    pub diagnostics: Option<Vec<Vec<Option<String>>>>,
    /// Sequence id of the last packet relayed from a server in the current answer.
    pub relayed_seq: Option<u8>,
    /// Where `KILL QUERY` from another connection finds what this session runs.
    pub running: Registration,
    /// While a `SET` runs: the settings list the connection running it will have.
    pub applying: Option<Vec<Arc<str>>>,
    /// Whether a statement may begin a transaction under `autocommit = 0` (not `SET`,
    /// not schema changes, which commit implicitly in MySQL).
    pub implicit_transaction_allowed: bool,
    /// `SET TRANSACTION …` for the session's next transaction.
    pub next_transaction: Option<String>,
    /// The kind of the statement being run, for `queries_total`.
    pub query_kind: crate::metrics::QueryKind,
}

impl Session {
    /// Status flags for answers the proxy makes itself.
    pub fn status_flags(&self) -> u16 {
        let mut flags = 0;
        if self.autocommit {
            flags |= status::AUTOCOMMIT;
        }
        if self.txn.is_some() || self.pinned.is_some() {
            flags |= status::IN_TRANS;
        }
        flags
    }

    /// A new transaction for the client, taking a pending `SET TRANSACTION`.
    pub fn new_transaction(&mut self, read_only: bool) -> ClientTxn {
        let characteristics = self.next_transaction.take();
        let read_only = read_only
            || characteristics
                .as_deref()
                .is_some_and(|c| c.to_ascii_uppercase().contains("READ ONLY"));
        ClientTxn::new(read_only, characteristics)
    }

    /// Sends what is buffered.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.writer.send_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Whether the client negotiated `CLIENT_DEPRECATE_EOF`.
    pub fn deprecate_eof(&self) -> bool {
        self.caps & crate::protocol::mysql::consts::cap::DEPRECATE_EOF != 0
    }
}

/// Why the command loop stops.
pub(super) enum Stop {
    /// COM_QUIT or the client went away.
    Quit,
    /// The client broke the protocol; an error was sent (if possible).
    Protocol,
}

/// Refuses a connection past `max_client_connections` the way MySQL does at
/// `max_connections`: an error packet instead of the handshake, then close.
pub async fn refuse_too_many(mut stream: TcpStream, max: u32) {
    let mut out = BytesMut::new();
    let mut seq = 0;
    crate::protocol::mysql::build::error(
        &mut out,
        &mut seq,
        crate::protocol::mysql::consts::cap::PROTOCOL_41,
        errcode::ER_CON_COUNT_ERROR,
        &format!("Too many connections (shardwire max_client_connections = {max})"),
    );
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}

/// Serves one client connection until it quits.
/// With `tls`, the greeting offers CLIENT_SSL and a client may switch to TLS.
pub async fn serve_client(
    stream: TcpStream,
    live: Arc<LiveCluster>,
    client: &ClientGuard,
    tls: Option<&TlsServer>,
) {
    let _ = stream.set_nodelay(true);
    let _connected = crate::metrics::ClientGauge::connected("mysql");
    let (r, w) = client_stream::plain(stream);
    let reader = PacketReader::new(r, super::startup::MAX_LOGIN_PACKET);
    let Some(mut session) = super::startup::login(reader, w, live, client, tls).await else {
        return;
    };
    tracing::debug!(
        connection_id = session.connection_id,
        user = %session.user.name,
        "MySQL session started"
    );
    loop {
        let in_transaction = session.txn.is_some() || session.pinned.is_some();
        let limit = session.db.idle_limits.applying(in_transaction);
        let next = crate::frontend::limits::next_request(limit, session.client.next());
        let Ok(next) = next.await else {
            if let Some(limit) = limit {
                session.idle_timeout(limit).await;
            }
            break;
        };
        let packet = match next {
            Ok(p) => p,
            Err(ReadError::TooLarge { announced, limit }) => {
                let message = format!(
                    "Got a packet bigger than 'max_allowed_packet' bytes \
                     ({announced} > {limit})"
                );
                reply::err(&mut session, 1, errcode::ER_NET_PACKET_TOO_LARGE, &message);
                let _ = session.flush().await;
                break;
            }
            Err(_) => break,
        };
        if packet.seq() != 0 {
            reply::err(
                &mut session,
                packet.seq().wrapping_add(1),
                errcode::ER_NET_PACKETS_OUT_OF_ORDER,
                "Got packets out of order",
            );
            let _ = session.flush().await;
            break;
        }
        session.follow_reload();
        session.query_kind = crate::metrics::QueryKind::Other;
        let started = std::time::Instant::now();
        session.client_entry.request_started();
        let command = session
            .db
            .requests
            .logs_slow_requests()
            .then(|| packet.clone());
        let watch = session.query_watch();
        let request = session.command(packet);
        let stop = crate::frontend::limits::with_query_timeout(watch, request).await;
        if session.flush().await.is_err() {
            break;
        }
        session.request_done(started, command);
        if stop.is_some() {
            break;
        }
    }
    session.close().await;
}

impl Session {
    /// The client sat idle past `limit`: an ERR says why before the connection closes
    /// (sequence 1, so a client that sends its next command reads it as the answer).
    /// Closing then rolls back an open transaction.
    async fn idle_timeout(&mut self, limit: crate::frontend::limits::IdleLimit) {
        use crate::frontend::limits::{spelled, IdleLimit};
        let what = match limit {
            IdleLimit::Idle(_) => "inactivity",
            IdleLimit::InTransaction(_) => {
                "inactivity inside a transaction (the transaction was rolled back)"
            }
        };
        let message = format!(
            "The client was disconnected by the server because of {what} \
             (shardwire {} = {})",
            limit.key(),
            spelled(limit.duration())
        );
        tracing::info!(user = %self.user.name, limit = limit.key(), "client idle past its limit; disconnecting");
        reply::err(self, 1, errcode::ER_CLIENT_INTERACTION_TIMEOUT, &message);
        let _ = self.flush().await;
    }

    /// With `query_timeout` set: the limit, and the `KILL QUERY` sent for a command that
    /// outlives it (to the node running its statement, looked up when the limit passes).
    fn query_watch(
        &self,
    ) -> Option<(
        std::time::Duration,
        impl FnOnce() -> crate::frontend::limits::BoxedCancel,
    )> {
        let limit = self.db.idle_limits.query?;
        let running = self.running.running.clone();
        let user = self.user.clone();
        Some((limit, move || {
            Box::pin(async move {
                let now = running.lock().unwrap_or_else(|e| e.into_inner()).clone();
                tracing::warn!(user = %user.name, ?limit, "query_timeout: killing a statement on its server");
                if let Err(e) = super::cancel::kill_running(now).await {
                    tracing::warn!(error = %e, "query_timeout: the kill failed");
                }
            }) as crate::frontend::limits::BoxedCancel
        }))
    }

    /// Answers one command; `Some` ends the session.
    async fn command(&mut self, packet: Packet) -> Option<Stop> {
        // Diagnostics are about the previous statement only: the connection kept for them
        // goes back to its pool unless this command asks for them.
        self.relayed_seq = None;
        let kept = self.diagnostics.take();
        if packet.payload().first() == Some(&com::QUERY) && asks_diagnostics(&packet.payload()[1..])
        {
            self.diagnostics = kept;
        }
        if packet.continues() {
            // A command of 16 MiB or more: only COM_QUERY and long data can be that big,
            // and the proxy does not reassemble them.
            reply::err(
                self,
                1,
                errcode::ER_NET_PACKET_TOO_LARGE,
                "commands of 16 MiB or more are not supported by the proxy",
            );
            return Some(Stop::Protocol);
        }
        let Some(&command) = packet.payload().first() else {
            reply::err(self, 1, errcode::ER_NET_READ_ERROR, "empty command packet");
            return Some(Stop::Protocol);
        };
        match command {
            com::QUIT => Some(Stop::Quit),
            com::PING => {
                reply::ok(self, 1, 0, 0, "");
                None
            }
            com::QUERY => self.query(packet).await,
            com::INIT_DB => {
                let name = String::from_utf8_lossy(&packet.payload()[1..]).into_owned();
                self.use_database(&name);
                None
            }
            com::RESET_CONNECTION => {
                self.reset().await;
                reply::ok(self, 1, 0, 0, "");
                None
            }
            com::SET_OPTION => {
                self.set_option(&packet);
                None
            }
            com::STMT_PREPARE => self.stmt_prepare(packet).await,
            com::STMT_EXECUTE => self.stmt_execute(packet).await,
            com::STMT_CLOSE => {
                self.stmt_close(&packet);
                None
            }
            com::STMT_RESET => {
                self.stmt_reset(&packet);
                None
            }
            com::STMT_SEND_LONG_DATA => {
                self.stmt_long_data(&packet);
                None
            }
            other => {
                let message =
                    format!("Unknown command {other:#04x}: not supported through the proxy");
                reply::err(self, 1, errcode::ER_UNKNOWN_COM_ERROR, &message);
                None
            }
        }
    }

    /// COM_SET_OPTION: multi-statements on (0) or off (1), answered with EOF as MySQL does.
    fn set_option(&mut self, packet: &Packet) {
        use crate::protocol::mysql::consts::cap::MULTI_STATEMENTS;
        match packet.payload().get(1..3) {
            Some([0, 0]) => self.caps |= MULTI_STATEMENTS,
            Some([1, 0]) => self.caps &= !MULTI_STATEMENTS,
            _ => {
                reply::err(self, 1, errcode::ER_UNKNOWN_COM_ERROR, "bad COM_SET_OPTION");
                return;
            }
        }
        reply::eof(self, 1);
    }

    /// `USE db` / COM_INIT_DB: switches to another logical MySQL database.
    pub fn use_database(&mut self, name: &str) {
        if name == self.db.config.name {
            reply::ok(self, 1, 0, 0, "");
            return;
        }
        if self.txn.is_some() || self.pinned.is_some() {
            reply::err(
                self,
                1,
                errcode::ER_NOT_SUPPORTED_YET,
                "cannot change the database inside a transaction",
            );
            return;
        }
        match self.live.load().mysql_database(name) {
            Some(db) => {
                self.db = db.clone();
                self.client_entry.database_changed(name);
                self.statements.clear();
                reply::ok(self, 1, 0, 0, "");
            }
            None => {
                let message = format!("Unknown database '{name}'");
                reply::err(self, 1, errcode::ER_BAD_DB_ERROR, &message);
            }
        }
    }

    /// COM_RESET_CONNECTION: the session as it was right after login.
    async fn reset(&mut self) {
        self.end_transaction_quietly().await;
        self.settings.clear();
        self.statements.clear();
        self.autocommit = true;
        self.positions = SessionToken::default();
        let cluster = self.live.load();
        let proxy = &cluster.config.proxy;
        self.shardwire = ShardwireSettings::new(
            cluster
                .config
                .user(&self.user.name)
                .and_then(|u| u.read_consistency)
                .unwrap_or(proxy.default_read_consistency),
            proxy.default_max_staleness,
        );
    }

    /// Rolls back whatever is open, telling no one (the client left or reset).
    pub async fn end_transaction_quietly(&mut self) {
        if let Some(txn) = self.txn.take() {
            txn.abandon().await;
        }
        if let Some(pinned) = self.pinned.take() {
            pinned.abandon().await;
        }
    }

    /// Between transactions, moves to the cluster of the latest reload (if the database is
    /// still configured; a removed one stays with its connected clients).
    fn follow_reload(&mut self) {
        let generation = self.live.generation();
        if generation == self.generation
            || self.txn.is_some()
            || self.pinned.is_some()
            || self.diagnostics.is_some()
        {
            return;
        }
        self.generation = generation;
        let cluster = self.live.load();
        self.user = UserRuntime::after_reload(&self.user, &cluster);
        let Some(db) = cluster.mysql_database(&self.db.config.name) else {
            return;
        };
        let replan = !crate::cluster::same_layout(&self.db.config, &db.config);
        self.db = db.clone();
        if replan {
            // Plans made by the old layout's router would route by it.
            for statement in self.statements.values_mut() {
                if let Ok(plan) = self.db.router.prepare(&statement.sql, &[]) {
                    statement.plan = plan;
                }
            }
        }
    }

    /// Records a command's duration (histogram, slow-query log) and the client's state.
    /// `command` is the request's packet, kept (a reference-counted copy) only while
    /// slow requests are logged; its statement text is only looked up for a slow one.
    fn request_done(&self, started: std::time::Instant, command: Option<Packet>) {
        self.db.requests.finished(
            started,
            crate::frontend::slow_query::Requester {
                protocol: "mysql",
                user: &self.user.name,
                database: &self.db.config.name,
            },
            &self.db.router,
            || {
                let command = command?;
                let payload = command.payload();
                match *payload.first()? {
                    com::QUERY => Some(String::from_utf8_lossy(&payload[1..]).into_owned()),
                    com::STMT_EXECUTE => {
                        let id = u32::from_le_bytes(payload.get(1..5)?.try_into().ok()?);
                        Some(self.statements.get(&id)?.sql.to_string())
                    }
                    _ => None,
                }
            },
        );
        self.client_entry
            .set_state(if self.txn.is_some() || self.pinned.is_some() {
                ClientState::IdleInTransaction
            } else {
                ClientState::Idle
            });
    }

    async fn close(mut self) {
        self.end_transaction_quietly().await;
        let _ = self.writer.shutdown().await;
    }
}

/// Whether a statement is `SHOW WARNINGS`, `SHOW ERRORS` or `SHOW COUNT(*) …`.
fn asks_diagnostics(sql: &[u8]) -> bool {
    let text = String::from_utf8_lossy(sql);
    let mut words = text.split_whitespace().map(str::to_ascii_uppercase);
    words.next().as_deref() == Some("SHOW")
        && words.next().is_some_and(|w| {
            w.starts_with("WARNINGS") || w.starts_with("ERRORS") || w.starts_with("COUNT")
        })
}

/// Builds a session once login succeeded.
#[allow(clippy::too_many_arguments)]
pub(super) fn new_session(
    client: PacketReader<ClientReader>,
    writer: ClientWriter,
    caps: u32,
    (live, generation): (Arc<LiveCluster>, u64),
    client_entry: Arc<ClientEntry>,
    db: Arc<MyDatabaseRuntime>,
    user: Arc<UserRuntime>,
    connection_id: u32,
) -> Session {
    let cluster = live.load();
    let proxy = &cluster.config.proxy;
    let shardwire = ShardwireSettings::new(
        cluster
            .config
            .user(&user.name)
            .and_then(|u| u.read_consistency)
            .unwrap_or(proxy.default_read_consistency),
        proxy.default_max_staleness,
    );
    let running = Registration::new(connection_id, &user.name);
    Session {
        client,
        writer,
        out: BytesMut::with_capacity(4 * 1024),
        caps,
        live,
        generation,
        client_entry,
        db,
        user,
        settings: Vec::new(),
        shardwire,
        autocommit: true,
        txn: None,
        pinned: None,
        statements: HashMap::new(),
        next_statement_id: 1,
        connection_id,
        positions: SessionToken::default(),
        table_lock: None,
        diagnostics: None,
        relayed_seq: None,
        running,
        applying: None,
        implicit_transaction_allowed: true,
        next_transaction: None,
        query_kind: crate::metrics::QueryKind::Other,
    }
}
