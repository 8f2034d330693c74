//! One shard's side of a scattered read: the shard SQL sent as `COM_QUERY` on a server
//! connection (pooled, or the transaction's branch), and its text result set read one
//! packet at a time — so a slow client slows the shard (its socket fills and the server
//! waits) instead of growing the proxy's memory.
//!
//! Backend connections never negotiate `DEPRECATE_EOF`: the column definitions end with
//! an EOF packet, the rows with an EOF or an ERR.

use bytes::BytesMut;

use crate::backend::mysql::conn::MyConn;
use crate::protocol::mysql::consts::com;
use crate::protocol::mysql::read::ErrPacket;
use crate::protocol::mysql::response::{Command, Kind, Response};
use crate::protocol::mysql_stream::put_packet;

/// Rows read (and dropped) to end an abandoned answer before the connection is closed
/// instead.
const DRAIN_LIMIT: usize = 1024;
/// A physical packet this long continues in the next one (rows of 16 MiB and more).
const CONTINUED: usize = 0xFF_FFFF;

/// Why a shard did not deliver its rows.
#[derive(Debug)]
pub(super) enum Failure {
    /// The server's error.
    Server {
        /// MySQL error number.
        code: u16,
        /// SQLSTATE.
        sqlstate: String,
        /// The message, prefixed with the shard.
        message: String,
    },
    /// The connection failed or the answer could not be read.
    Lost(String),
}

/// Where a shard's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Request sent, nothing read.
    Sent,
    /// Column definitions read; rows follow.
    Rows,
    /// The answer ended (rows done, or an error read).
    Ended,
}

/// A shard's answer being read.
pub(super) struct ShardAnswer<'c> {
    /// The shard.
    pub shard: u32,
    conn: &'c mut MyConn,
    state: State,
    /// Where the answer stands (the one answer state machine of the MySQL side).
    response: Response,
}

impl<'c> ShardAnswer<'c> {
    /// A stream over `conn` (nothing sent yet).
    pub(super) fn new(shard: u32, conn: &'c mut MyConn) -> ShardAnswer<'c> {
        ShardAnswer {
            shard,
            response: Response::new(Command::Query, conn.capabilities),
            conn,
            state: State::Ended,
        }
    }

    /// Sends `sql` as a `COM_QUERY`.
    pub(super) async fn send(&mut self, sql: &str) -> Result<(), Failure> {
        let mut out = BytesMut::with_capacity(sql.len() + 5);
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(com::QUERY);
        payload.extend_from_slice(sql.as_bytes());
        put_packet(&mut out, 0, &payload);
        self.conn
            .write(&out)
            .await
            .map_err(|e| self.lost(&e.to_string()))?;
        self.state = State::Sent;
        self.response = Response::new(Command::Query, self.conn.capabilities);
        Ok(())
    }

    /// Reads the column count and definitions; returns the definition payloads.
    pub(super) async fn columns(&mut self) -> Result<Vec<Vec<u8>>, Failure> {
        let mut defs = Vec::new();
        loop {
            let packet = self.packet().await?;
            match self.feed(&packet)? {
                Kind::Err(_) => return Err(self.server_error(&packet)),
                Kind::Ok(_) => return Err(self.broke("a statement without rows")),
                Kind::ColumnCount(n) if n <= 4096 => defs.reserve(n as usize),
                Kind::ColumnCount(_) => return Err(self.broke("too many columns")),
                Kind::Column => defs.push(packet),
                Kind::Eof { .. } => {
                    self.state = State::Rows;
                    return Ok(defs);
                }
                _ => return Err(self.broke("an unexpected packet before the rows")),
            }
        }
    }

    /// The next row's payload; `None` once the rows ended.
    pub(super) async fn next_row(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        if self.state != State::Rows {
            return Ok(None);
        }
        let packet = self.packet().await?;
        match self.feed(&packet)? {
            Kind::Row => Ok(Some(packet)),
            Kind::Eof { .. } => {
                self.state = State::Ended;
                Ok(None)
            }
            Kind::Err(_) => Err(self.server_error(&packet)),
            _ => Err(self.broke("an unexpected packet among the rows")),
        }
    }

    /// What a packet is in the answer.
    fn feed<'p>(&mut self, payload: &'p [u8]) -> Result<Kind<'p>, Failure> {
        match self.response.feed(payload) {
            Ok(step) => Ok(step.kind),
            Err(e) => Err(self.broke(e.0)),
        }
    }

    /// Ends the answer without using it: the rest of the rows are read if there are
    /// few, else the connection is marked broken (it will be closed, and a transaction
    /// on it doomed) — no waiting for a large answer nobody reads.
    pub(super) async fn abandon(&mut self) {
        if self.state == State::Sent && self.columns().await.is_err() {
            return;
        }
        for _ in 0..DRAIN_LIMIT {
            match self.next_row().await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
        self.conn.broken = true;
    }

    /// Whether the connection must not be reused.
    pub(super) fn broken(&self) -> bool {
        self.conn.broken
    }

    async fn packet(&mut self) -> Result<Vec<u8>, Failure> {
        let packet = match self.conn.read().await {
            Ok(p) => p,
            Err(e) => {
                self.state = State::Ended;
                return Err(self.lost(&e.to_string()));
            }
        };
        if packet.payload().len() >= CONTINUED {
            self.conn.broken = true;
            self.state = State::Ended;
            return Err(self.lost("a row of 16 MiB or more cannot be merged across shards"));
        }
        Ok(packet.payload().to_vec())
    }

    fn server_error(&mut self, payload: &[u8]) -> Failure {
        self.state = State::Ended;
        match ErrPacket::parse(payload) {
            Ok(err) => Failure::Server {
                code: err.code,
                sqlstate: err.sqlstate.unwrap_or("HY000").to_string(),
                message: format!("shard {}: {}", self.shard, err.message_lossy()),
            },
            Err(_) => self.broke("a malformed error packet"),
        }
    }

    fn broke(&mut self, what: &str) -> Failure {
        self.conn.broken = true;
        self.state = State::Ended;
        Failure::Lost(format!(
            "shardwire: shard {} sent {what} to a scattered read",
            self.shard
        ))
    }

    fn lost(&self, reason: &str) -> Failure {
        Failure::Lost(format!("shardwire: lost shard {}: {reason}", self.shard))
    }
}
