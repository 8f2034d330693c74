//! One server answer to the client, packet by packet.
//!
//! Server connections use the classic result-set format; for a client that negotiated
//! `CLIENT_DEPRECATE_EOF` the EOF after column definitions is dropped and the EOF that
//! ends the rows becomes an OK with the 0xFE header, sequence ids shifted to match.
//! Rows are never decoded: the only packets looked into are the first of each result
//! (OK, ERR or a column count) and the ends. The client's buffer is flushed whenever it
//! grows past a threshold, so a large result streams through in constant memory.

use super::reply;
use super::session::Session;
use crate::backend::mysql::conn::MyConn;
use crate::backend::pg::ServerError;
use crate::protocol::mysql::build;
use crate::protocol::mysql::consts::status;
use crate::protocol::mysql::read::{session_summary, OkPacket, PrepareOk};
use crate::protocol::mysql::response::{Command, Kind, Response};
use crate::protocol::mysql_stream::Packet;

/// Flush to the client when this much is buffered.
const FLUSH_AT: usize = 64 * 1024;

/// What kind of answer is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnswerKind {
    /// COM_QUERY or COM_STMT_EXECUTE: result sets or OK/ERR, possibly several.
    Results,
    /// COM_STMT_PREPARE: PREPARE_OK and definitions, or ERR.
    Prepare {
        /// The id the client knows the statement by.
        client_id: u32,
    },
}

/// Where the answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sink {
    /// To the client.
    Client,
    /// Nowhere: the caller reports (statements run on several shards).
    Collect,
}

/// How an answer ended.
#[derive(Debug, Default, Clone)]
pub(super) struct Ended {
    /// Status flags of the last packet.
    pub status: u16,
    /// The error, when it ended with one (code, SQLSTATE, message).
    pub error: Option<(u16, String, String)>,
    /// Affected rows of the OKs (summed).
    pub affected_rows: u64,
    /// Last insert id of the last OK.
    pub last_insert_id: u64,
    /// Warnings of the last OK.
    pub warnings: u16,
    /// For a prepare: the server's statement id and parameter count.
    pub prepared: Option<PrepareOk>,
    /// Whether any result set (rows) was part of the answer.
    pub had_rows: bool,
}

impl Session {
    /// Relays the answer now arriving on `conn`. A server failure is returned (the caller
    /// tells the client); the connection is then marked broken.
    pub(super) async fn forward(
        &mut self,
        conn: &mut MyConn,
        kind: AnswerKind,
        sink: Sink,
    ) -> Result<Ended, ServerError> {
        let mut ended = Ended::default();
        self.relayed_seq = None;
        // Cursors are cleared from every execute the proxy sends, so a text and a binary
        // answer end the same way.
        let command = match kind {
            AnswerKind::Results => Command::Query,
            AnswerKind::Prepare { .. } => Command::Prepare,
        };
        let mut response = Response::new(command, conn.capabilities);
        // Added to each server sequence id: negative once packets were dropped.
        let mut shift: u8 = 0;
        let translate = self.deprecate_eof();
        // The last packet was a definition: an EOF now ends definitions, not rows.
        let mut in_definitions = false;
        loop {
            let packet = conn.read().await?;
            let step = response
                .feed(packet.payload())
                .map_err(|e| bad(conn, e.0))?;
            match step.kind {
                Kind::Ok(ok) => {
                    self.absorb_ok(conn, &ok, &mut ended);
                    self.relay(&packet, shift, sink);
                }
                Kind::Err(err) => {
                    ended.error = Some((
                        err.code,
                        err.sqlstate.unwrap_or("HY000").to_string(),
                        err.message_lossy().into_owned(),
                    ));
                    self.relay(&packet, shift, sink);
                }
                Kind::PrepareOk(ok) => {
                    ended.prepared = Some(ok);
                    if let AnswerKind::Prepare { client_id } = kind {
                        self.relay_prepare_ok(&packet, client_id, sink);
                    }
                }
                Kind::ColumnCount(_) => {
                    ended.had_rows = true;
                    self.relay(&packet, shift, sink);
                }
                Kind::Column => {
                    in_definitions = true;
                    self.relay(&packet, shift, sink);
                }
                Kind::Eof { status, .. } if in_definitions => {
                    in_definitions = false;
                    if status & status::CURSOR_EXISTS != 0 {
                        return Err(bad(conn, "the server opened a cursor"));
                    }
                    // Clients with CLIENT_DEPRECATE_EOF have no EOF after definitions.
                    if translate {
                        shift = shift.wrapping_sub(1);
                    } else {
                        self.relay(&packet, shift, sink);
                    }
                }
                Kind::Eof { warnings, status } => {
                    ended.status = status;
                    ended.warnings = warnings;
                    // The server's transaction state, for pinning and the pool.
                    conn.status = status;
                    if translate && sink == Sink::Client {
                        // …and end rows with an OK carrying the 0xFE header.
                        let mut seq = packet.seq().wrapping_add(shift);
                        build::end_of_rows(&mut self.out, &mut seq, self.caps, warnings, status);
                        self.relayed_seq = Some(seq.wrapping_sub(1));
                    } else {
                        self.relay(&packet, shift, sink);
                    }
                }
                Kind::Row | Kind::Continuation | Kind::Progress => {
                    self.relay(&packet, shift, sink);
                }
                Kind::LocalInfile(_) | Kind::Statistics => {
                    return Err(bad(conn, "a LOCAL INFILE request or a statistics string"));
                }
            }
            if step.end {
                return Ok(ended);
            }
            if self.out.len() >= FLUSH_AT {
                if let Err(e) = self.flush().await {
                    // The client is gone; the server connection is mid-answer, unusable.
                    conn.broken = true;
                    return Err(ServerError::Protocol {
                        node: conn.node.name.clone(),
                        reason: format!("client went away: {e}"),
                    });
                }
            }
        }
    }

    /// Copies a packet to the client with its sequence id shifted.
    fn relay(&mut self, packet: &Packet, shift: u8, sink: Sink) {
        if sink == Sink::Collect {
            return;
        }
        let at = self.out.len();
        let seq = packet.seq().wrapping_add(shift);
        self.out.extend_from_slice(packet.raw());
        self.out[at + 3] = seq;
        self.relayed_seq = Some(seq);
    }

    /// Copies COM_STMT_PREPARE_OK with the client's statement id in place of the server's.
    fn relay_prepare_ok(&mut self, packet: &Packet, client_id: u32, sink: Sink) {
        if sink == Sink::Collect {
            return;
        }
        let at = self.out.len();
        self.out.extend_from_slice(packet.raw());
        build::set_prepare_ok_statement_id(&mut self.out[at + 4..], client_id);
    }

    /// Takes what an OK says: counts and the GTID it reports.
    fn absorb_ok(&mut self, conn: &mut MyConn, ok: &OkPacket<'_>, ended: &mut Ended) {
        ended.status = ok.status;
        conn.status = ok.status;
        ended.affected_rows += ok.affected_rows;
        ended.last_insert_id = ok.last_insert_id;
        ended.warnings = ok.warnings;
        if ok.status & status::SESSION_STATE_CHANGED != 0 {
            if let Ok(summary) = session_summary(ok.session_state) {
                if let Some(gtid) = summary.last_gtid.filter(|g| !g.is_empty()) {
                    conn.last_gtid = Some(bytes::Bytes::copy_from_slice(gtid.as_bytes()));
                }
            }
        }
    }
}

fn bad(conn: &mut MyConn, what: impl std::fmt::Display) -> ServerError {
    conn.broken = true;
    ServerError::Protocol {
        node: conn.node.name.clone(),
        reason: format!("unexpected answer: {what}"),
    }
}

/// Tells the client a server failed mid-answer.
pub(super) fn lost(session: &mut Session, e: &ServerError) {
    let message = format!("shardwire: lost the server connection: {e}");
    // After part of an answer went out, the error takes the next packet's place (clients
    // accept an ERR where a row was due).
    let seq = session.relayed_seq.take().map_or(1, |s| s.wrapping_add(1));
    reply::err(
        session,
        seq,
        crate::protocol::mysql::errcode::BACKEND_LOST,
        &message,
    );
}
