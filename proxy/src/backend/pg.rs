//! A raw PostgreSQL server connection: connect, authenticate as the configured backend user
//! (trust, cleartext, md5 or SCRAM-SHA-256), and remember what the proxy needs to reuse it
//! safely under transaction pooling — the server's cancel key, its reported parameters, the
//! session settings applied to it, and the statements prepared on it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

use super::tls::{NodeTls, ServerReader, ServerWriter};

use crate::protocol::pg::build;
use crate::protocol::pg::frame::{FrameReader, DEFAULT_MAX_FRAME};
use crate::protocol::pg::read::{self, Cursor};
use crate::protocol::pg::tag::{auth, backend, txn_status};

/// Identity of a backend node, shared by its pool and connections.
#[derive(Debug)]
pub struct NodeInfo {
    /// A name for messages and metrics, e.g. `app/shard0/primary`.
    pub name: String,
    /// `host:port`.
    pub addr: String,
    /// Database on the node.
    pub dbname: String,
    /// Backend user.
    pub user: String,
    /// Backend password ("" for none).
    pub password: String,
    /// Its `queries_total` counters.
    pub queries: crate::metrics::QueryCounters,
    /// TLS to the node (`backend_tls = "verify-full"`); `None`: plaintext.
    pub tls: Option<Arc<NodeTls>>,
}

impl NodeInfo {
    /// A node of `db`: shard `shard`, `role` (`primary`, `replica0`…), at `addr`, logged
    /// in to as the database's backend user.
    pub fn new(
        db: &shardwire_conf::Database,
        shard: usize,
        role: &str,
        addr: &shardwire_conf::NodeAddr,
    ) -> NodeInfo {
        NodeInfo {
            name: format!("{}/shard{shard}/{role}", db.name),
            addr: addr.host_port(),
            dbname: addr.dbname.clone(),
            user: db.backend_user.clone(),
            password: db.backend_password.clone(),
            queries: crate::metrics::QueryCounters::new(&db.name, shard, role),
            tls: match (db.backend_tls, &db.backend_tls_ca) {
                (shardwire_conf::BackendTls::VerifyFull, Some(ca)) => {
                    Some(Arc::new(NodeTls::new(ca.clone(), addr.host.clone())))
                }
                _ => None,
            },
        }
    }

    /// Whether `other` is the same server reached the same way (so a pool may be kept
    /// across a reload).
    pub fn same_node(&self, other: &NodeInfo) -> bool {
        self.name == other.name
            && self.addr == other.addr
            && self.dbname == other.dbname
            && self.user == other.user
            && self.password == other.password
            && self.tls.as_ref().map(|t| &t.ca) == other.tls.as_ref().map(|t| &t.ca)
    }
}

/// Why a server connection could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// TCP connect failed or timed out.
    #[error("cannot connect to {node}: {reason}")]
    Connect {
        /// Node name.
        node: String,
        /// What went wrong.
        reason: String,
    },
    /// The server refused the login or startup.
    #[error("{node} refused the connection: {code} {message}")]
    Refused {
        /// Node name.
        node: String,
        /// SQLSTATE.
        code: String,
        /// Server message.
        message: String,
    },
    /// The server broke the protocol or the connection during startup.
    #[error("{node}: {reason}")]
    Protocol {
        /// Node name.
        node: String,
        /// What went wrong.
        reason: String,
    },
}

/// A server connection.
#[derive(Debug)]
pub struct ServerConn {
    /// The node it belongs to.
    pub node: Arc<NodeInfo>,
    /// Frames from the server.
    pub reader: FrameReader<ServerReader>,
    /// Bytes to the server (write with `send_all`: over TLS it flushes).
    pub writer: ServerWriter,
    /// The server's cancel key (pid, secret).
    pub cancel_key: (i32, i32),
    /// Server-reported parameters (ParameterStatus) at startup.
    pub server_params: Vec<(String, String)>,
    /// Session settings applied on top of the defaults: `SET name TO value` pairs.
    pub applied: Vec<(String, String)>,
    /// Server-side names of the statements prepared on this connection.
    pub prepared: HashSet<Arc<str>>,
    /// Transaction status of the last ReadyForQuery.
    pub status: u8,
    /// Set when the connection must not be reused.
    pub broken: bool,
    created: Instant,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl ServerConn {
    /// Connects and authenticates.
    pub async fn connect(node: Arc<NodeInfo>) -> Result<ServerConn, ServerError> {
        let tcp = super::connect_tcp(&node, CONNECT_TIMEOUT).await?;
        let (r, w) = match &node.tls {
            None => crate::stream::plain(tcp),
            Some(tls) => {
                let encrypted = super::tls::negotiate_pg(tls, tcp, CONNECT_TIMEOUT)
                    .await
                    .map_err(|reason| super::connect_failed(&node, "tls", reason))?;
                crate::stream::encrypted(encrypted)
            }
        };
        let mut conn = ServerConn {
            node: node.clone(),
            reader: FrameReader::new(r, DEFAULT_MAX_FRAME),
            writer: w,
            cancel_key: (0, 0),
            server_params: Vec::new(),
            applied: Vec::new(),
            prepared: HashSet::new(),
            status: txn_status::IDLE,
            broken: false,
            created: Instant::now(),
        };
        tokio::time::timeout(CONNECT_TIMEOUT, conn.startup())
            .await
            .map_err(|_| ServerError::Protocol {
                node: node.name.clone(),
                reason: "startup timed out".into(),
            })??;
        Ok(conn)
    }

    fn protocol_err(&self, reason: impl Into<String>) -> ServerError {
        ServerError::Protocol {
            node: self.node.name.clone(),
            reason: reason.into(),
        }
    }

    async fn send(&mut self, out: &BytesMut) -> Result<(), ServerError> {
        let node = self.node.name.clone();
        self.writer
            .send_all(out)
            .await
            .map_err(|e| ServerError::Protocol {
                node,
                reason: format!("write: {e}"),
            })
    }

    async fn startup(&mut self) -> Result<(), ServerError> {
        let mut out = BytesMut::new();
        build::startup_message(
            &mut out,
            &[
                ("user", &self.node.user),
                ("database", &self.node.dbname),
                ("application_name", "shardwire"),
            ],
        );
        self.send(&out).await?;
        let mut scram: Option<ScramSha256> = None;
        loop {
            let frame = match self.reader.next_frame().await {
                Ok(Some(f)) => f,
                Ok(None) => return Err(self.protocol_err("closed the connection during startup")),
                Err(e) => return Err(self.protocol_err(e.to_string())),
            };
            let body = frame.body();
            match frame.tag() {
                backend::AUTHENTICATION => {
                    let mut c = Cursor::new(body, "Authentication");
                    let kind = c.i32().map_err(|e| self.protocol_err(e.to_string()))?;
                    let payload = c.rest();
                    let mut out = BytesMut::new();
                    match kind {
                        auth::OK => continue,
                        auth::CLEARTEXT => {
                            let mut p = self.node.password.as_bytes().to_vec();
                            p.push(0);
                            build::password(&mut out, &p);
                        }
                        auth::MD5 => {
                            let salt: [u8; 4] = payload
                                .get(..4)
                                .and_then(|s| s.try_into().ok())
                                .ok_or_else(|| self.protocol_err("short md5 salt"))?;
                            let hash = postgres_protocol::authentication::md5_hash(
                                self.node.user.as_bytes(),
                                self.node.password.as_bytes(),
                                salt,
                            );
                            let mut p = hash.into_bytes();
                            p.push(0);
                            build::password(&mut out, &p);
                        }
                        auth::SASL => {
                            let offered = String::from_utf8_lossy(payload);
                            if !offered.split('\0').any(|m| m == "SCRAM-SHA-256") {
                                return Err(self.protocol_err(format!(
                                    "no supported SASL mechanism in {offered:?}"
                                )));
                            }
                            let s = ScramSha256::new(
                                self.node.password.as_bytes(),
                                ChannelBinding::unsupported(),
                            );
                            build::sasl_initial_response(&mut out, "SCRAM-SHA-256", s.message());
                            scram = Some(s);
                        }
                        auth::SASL_CONTINUE => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| self.protocol_err("SASL continue without start"))?;
                            s.update(payload)
                                .map_err(|e| self.protocol_err(format!("SCRAM: {e}")))?;
                            build::password(&mut out, s.message());
                        }
                        auth::SASL_FINAL => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| self.protocol_err("SASL final without start"))?;
                            s.finish(payload)
                                .map_err(|e| self.protocol_err(format!("SCRAM: {e}")))?;
                            continue;
                        }
                        other => {
                            return Err(self.protocol_err(format!(
                                "unsupported authentication request {other}"
                            )))
                        }
                    }
                    self.send(&out).await?;
                }
                backend::PARAMETER_STATUS => {
                    if let Ok((k, v)) = read::parameter_status(body) {
                        self.server_params.push((k.to_string(), v.to_string()));
                    }
                }
                backend::BACKEND_KEY_DATA => {
                    let mut c = Cursor::new(body, "BackendKeyData");
                    let pid = c.i32().map_err(|e| self.protocol_err(e.to_string()))?;
                    let secret = c.i32().map_err(|e| self.protocol_err(e.to_string()))?;
                    self.cancel_key = (pid, secret);
                }
                backend::READY_FOR_QUERY => {
                    self.status = body.first().copied().unwrap_or(txn_status::IDLE);
                    return Ok(());
                }
                backend::ERROR_RESPONSE => {
                    let (code, message) = read::error_fields(body);
                    return Err(ServerError::Refused {
                        node: self.node.name.clone(),
                        code,
                        message,
                    });
                }
                backend::NOTICE_RESPONSE | backend::NEGOTIATE_PROTOCOL => {}
                other => {
                    return Err(self.protocol_err(format!(
                        "unexpected message {:?} during startup",
                        other as char
                    )))
                }
            }
        }
    }

    /// Age of the connection.
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// True if the server closed the socket or sent something unprompted while idle
    /// (e.g. a FATAL from `pg_terminate_backend`).
    pub fn idle_socket_is_dead(&mut self) -> bool {
        if !self.reader.buffer().is_empty() {
            return true;
        }
        let mut probe = [0u8; 1];
        match &self.writer {
            // The reader owns the read half; peek through the underlying socket.
            crate::stream::SplitWriter::Plain(w) => !matches!(
                w.as_ref().try_read(&mut probe),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            ),
            crate::stream::SplitWriter::Tls(_) => {
                super::tls::idle_tls_is_dead(self.reader.get_mut())
            }
        }
    }
}
