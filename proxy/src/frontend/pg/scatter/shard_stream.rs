//! One shard's side of a scattered read: a pooled connection, the request written to
//! it, and its answer read one frame at a time — so a slow client slows the shard (its
//! socket fills and the server waits) instead of growing the proxy's memory.

use bytes::Bytes;

use crate::backend::pool::{self, PooledConn};
use crate::cancel::{self, ServerKey};
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, txn_status};

/// Why a shard did not deliver its rows.
#[derive(Debug)]
pub(crate) enum ShardFailure {
    /// The server reported an error: its ErrorResponse frame, forwarded as it is.
    Server(Frame),
    /// The connection failed or the server broke the protocol.
    Lost(String),
}

impl ShardFailure {
    /// The SQLSTATE and message a client gets for a lost shard.
    pub(crate) fn lost_error(&self) -> Option<(&'static str, &str)> {
        match self {
            ShardFailure::Lost(message) => Some((sqlstate::CONNECTION_FAILURE, message)),
            ShardFailure::Server(_) => None,
        }
    }
}

/// A shard's answer being read.
#[derive(Debug)]
pub(crate) struct ShardStream {
    /// The shard number.
    pub shard: u32,
    conn: Option<PooledConn>,
    /// ReadyForQuery messages still to come (a settings replay adds one).
    pending_ready: u32,
    /// The rows have ended (CommandComplete seen).
    rows_done: bool,
    /// A statement failed on the server: rows end, and the error is reported once.
    failed: bool,
}

impl ShardStream {
    /// A stream over `conn`, which will answer `requests` Query/Sync messages.
    pub(crate) fn new(shard: u32, conn: PooledConn, requests: u32) -> ShardStream {
        ShardStream {
            shard,
            conn: Some(conn),
            pending_ready: requests,
            rows_done: false,
            failed: false,
        }
    }

    /// The key that cancels this shard's statement.
    pub(crate) fn cancel_key(&self) -> Option<ServerKey> {
        self.conn.as_ref().map(|conn| ServerKey {
            node: conn.node.clone(),
            pid: conn.cancel_key.0,
            secret: conn.cancel_key.1,
        })
    }

    /// Whether the server reported an error for the statement.
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    /// Sends the request.
    pub(crate) async fn send(&mut self, request: &[u8]) -> Result<(), ShardFailure> {
        let shard = self.shard;
        let conn = self.conn_mut()?;
        if let Err(e) = conn.writer.send_all(request).await {
            conn.broken = true;
            return Err(ShardFailure::Lost(format!(
                "shardwire: lost the connection to shard {shard} ({}): {e}",
                conn.node.name
            )));
        }
        Ok(())
    }

    /// Reads up to the RowDescription of the shard statement and returns its body;
    /// `None` if the statement returns no rows.
    pub(crate) async fn description(&mut self) -> Result<Option<Bytes>, ShardFailure> {
        loop {
            let frame = self.next_frame().await?;
            if self.pending_ready > 1 {
                // Still the answer to the settings replay sent before the statement.
                continue;
            }
            match frame.tag() {
                backend::ROW_DESCRIPTION => return Ok(Some(frame.raw().slice(5..))),
                backend::NO_DATA | backend::COMMAND_COMPLETE | backend::EMPTY_QUERY => {
                    self.rows_done = true;
                    return Ok(None);
                }
                backend::READY_FOR_QUERY if self.pending_ready == 0 => {
                    self.rows_done = true;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }

    /// Copies the answer to a Describe (ParameterDescription, RowDescription or NoData)
    /// to `out`.
    pub(crate) async fn forward_description(
        &mut self,
        out: &mut bytes::BytesMut,
    ) -> Result<(), ShardFailure> {
        while self.pending_ready > 0 {
            let frame = self.next_frame().await?;
            if matches!(
                frame.tag(),
                backend::PARAMETER_DESCRIPTION | backend::ROW_DESCRIPTION | backend::NO_DATA
            ) {
                out.extend_from_slice(frame.raw());
            }
        }
        Ok(())
    }

    /// The next DataRow frame, or `None` once the statement's rows have ended.
    pub(crate) async fn next_row(&mut self) -> Result<Option<Frame>, ShardFailure> {
        if self.rows_done {
            return Ok(None);
        }
        loop {
            let frame = self.next_frame().await?;
            match frame.tag() {
                backend::DATA_ROW => return Ok(Some(frame)),
                backend::COMMAND_COMPLETE | backend::EMPTY_QUERY | backend::PORTAL_SUSPENDED => {
                    self.rows_done = true;
                    return Ok(None);
                }
                backend::READY_FOR_QUERY if self.pending_ready == 0 => {
                    self.rows_done = true;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }

    /// Reads the rest of the answer and gives the connection back to its pool if it is
    /// idle and in step; otherwise closes it.
    pub(crate) async fn finish(mut self) {
        while self.pending_ready > 0 {
            match self.next_frame().await {
                // An error of a later statement (none expected) still ends at ReadyForQuery.
                Ok(_) | Err(ShardFailure::Server(_)) => {}
                Err(ShardFailure::Lost(_)) => break,
            }
        }
        self.release();
    }

    /// Gives up on this shard: asks its server to cancel the statement and closes the
    /// connection (the server stops at its next write at the latest).
    pub(crate) async fn abandon(mut self) {
        if self.pending_ready == 0 {
            self.release();
            return;
        }
        if let Some(conn) = self.conn.take() {
            {
                let key = ServerKey {
                    node: conn.node.clone(),
                    pid: conn.cancel_key.0,
                    secret: conn.cancel_key.1,
                };
                tokio::spawn(async move { cancel::send_cancel(&key).await });
            }
            pool::discard(conn);
        }
    }

    fn release(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.pending_ready > 0 || conn.broken || conn.status != txn_status::IDLE {
            pool::discard(conn);
        }
    }

    fn conn_mut(&mut self) -> Result<&mut PooledConn, ShardFailure> {
        let shard = self.shard;
        self.conn.as_mut().ok_or_else(|| {
            ShardFailure::Lost(format!("shardwire: shard {shard} has no connection"))
        })
    }

    /// The next frame; errors end the rows, ReadyForQuery is counted.
    async fn next_frame(&mut self) -> Result<Frame, ShardFailure> {
        let shard = self.shard;
        let conn = self.conn_mut()?;
        let lost = match conn.reader.next_frame().await {
            Ok(Some(frame)) => Ok(frame),
            Ok(None) => Err(format!(
                "shardwire: shard {shard} ({}) closed the connection",
                conn.node.name
            )),
            Err(e) => Err(format!(
                "shardwire: lost the connection to shard {shard} ({}): {e}",
                conn.node.name
            )),
        };
        let frame = match lost {
            Ok(frame) => frame,
            Err(message) => {
                if let Some(conn) = self.conn.take() {
                    pool::discard(conn);
                }
                self.rows_done = true;
                return Err(ShardFailure::Lost(message));
            }
        };
        let Some(conn) = self.conn.as_mut() else {
            return Err(ShardFailure::Lost(format!(
                "shardwire: shard {shard} has no connection"
            )));
        };
        match frame.tag() {
            backend::READY_FOR_QUERY => {
                self.pending_ready = self.pending_ready.saturating_sub(1);
                if let Some(&status) = frame.body().first() {
                    conn.status = status;
                }
            }
            backend::ERROR_RESPONSE => {
                if read::is_fatal(frame.body()) {
                    conn.broken = true;
                }
                if !self.failed {
                    self.failed = true;
                    self.rows_done = true;
                    return Err(ShardFailure::Server(frame));
                }
            }
            _ => {}
        }
        Ok(frame)
    }
}

impl Drop for ShardStream {
    fn drop(&mut self) {
        // Dropped without `finish` (the client left, a task was cancelled): the
        // connection is mid-answer and cannot be reused.
        if let Some(conn) = self.conn.take() {
            if self.pending_ready > 0 {
                pool::discard(conn);
            }
        }
    }
}
