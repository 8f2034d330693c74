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
use crate::protocol::mysql::consts::{header, status};
use crate::protocol::mysql::lenenc;
use crate::protocol::mysql::read::{session_summary, EofPacket, ErrPacket, OkPacket, PrepareOk};
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

#[derive(Debug, Clone, Copy)]
enum State {
    /// The first packet of a result.
    First,
    /// Column definitions still to come.
    Columns(u64),
    /// The EOF after the column definitions.
    ColumnsEnd,
    /// Rows.
    Rows,
    /// Prepare: `left` definitions of this block to come, then a block of `then`.
    Definitions { left: u16, then: u16 },
    /// Prepare: the EOF after a block of definitions, then a block of `then`.
    DefinitionsEnd { then: u16 },
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
        let mut state = match kind {
            AnswerKind::Results => State::First,
            AnswerKind::Prepare { .. } => State::First,
        };
        // Added to each server sequence id: negative when packets were dropped.
        let mut shift: u8 = 0;
        let translate = self.deprecate_eof();
        let caps = conn.capabilities;
        let mut continuing = false;
        loop {
            let packet = conn.read().await?;
            if continuing {
                // The rest of a row of 16 MiB or more.
                continuing = packet.continues();
                self.relay(&packet, shift, sink);
                continue;
            }
            continuing = packet.continues();
            let payload = packet.payload();
            let first = payload.first().copied();
            match state {
                State::First => match first {
                    Some(header::OK) => {
                        if let AnswerKind::Prepare { client_id } = kind {
                            let ok = PrepareOk::parse(payload).map_err(|e| bad(conn, e))?;
                            ended.prepared = Some(ok);
                            self.relay_prepare_ok(&packet, client_id, sink);
                            let (params, columns) = (ok.num_params, ok.num_columns);
                            state = match (params, columns) {
                                (0, 0) => return Ok(ended),
                                (0, c) => State::Definitions { left: c, then: 0 },
                                (p, c) => State::Definitions { left: p, then: c },
                            };
                            continue;
                        }
                        let ok = OkPacket::parse(payload, caps).map_err(|e| bad(conn, e))?;
                        self.absorb_ok(conn, &ok, &mut ended);
                        self.relay(&packet, shift, sink);
                        if ok.status & status::MORE_RESULTS_EXISTS == 0 {
                            return Ok(ended);
                        }
                    }
                    Some(header::ERR) => {
                        let err = ErrPacket::parse(payload).map_err(|e| bad(conn, e))?;
                        ended.error = Some((
                            err.code,
                            err.sqlstate.unwrap_or("HY000").to_string(),
                            err.message_lossy().into_owned(),
                        ));
                        self.relay(&packet, shift, sink);
                        return Ok(ended);
                    }
                    Some(header::LOCAL_INFILE) | None => {
                        return Err(bad(conn, "unexpected LOCAL INFILE request or empty packet"))
                    }
                    Some(_) => {
                        let (columns, _) =
                            lenenc::read_int(payload).ok_or_else(|| bad(conn, "column count"))?;
                        ended.had_rows = true;
                        self.relay(&packet, shift, sink);
                        state = if columns == 0 {
                            State::ColumnsEnd
                        } else {
                            State::Columns(columns)
                        };
                    }
                },
                State::Columns(left) => {
                    self.relay(&packet, shift, sink);
                    state = if left <= 1 {
                        State::ColumnsEnd
                    } else {
                        State::Columns(left - 1)
                    };
                }
                State::ColumnsEnd => {
                    if first != Some(header::EOF) {
                        return Err(bad(conn, "no EOF after column definitions"));
                    }
                    let eof = EofPacket::parse(payload).map_err(|e| bad(conn, e))?;
                    if eof.status & status::CURSOR_EXISTS != 0 {
                        // Cursors are cleared from every execute the proxy sends.
                        return Err(bad(conn, "the server opened a cursor"));
                    }
                    if translate {
                        shift = shift.wrapping_sub(1);
                    } else {
                        self.relay(&packet, shift, sink);
                    }
                    state = State::Rows;
                }
                State::Rows => match first {
                    Some(header::EOF) if payload.len() < 9 => {
                        let eof = EofPacket::parse(payload).map_err(|e| bad(conn, e))?;
                        ended.status = eof.status;
                        // The server's transaction state, for pinning and the pool.
                        conn.status = eof.status;
                        ended.warnings = eof.warnings;
                        if translate {
                            if sink == Sink::Client {
                                let mut seq = packet.seq().wrapping_add(shift);
                                build::end_of_rows(
                                    &mut self.out,
                                    &mut seq,
                                    self.caps,
                                    eof.warnings,
                                    eof.status,
                                );
                            }
                        } else {
                            self.relay(&packet, shift, sink);
                        }
                        if eof.status & status::MORE_RESULTS_EXISTS == 0 {
                            return Ok(ended);
                        }
                        state = State::First;
                    }
                    Some(header::ERR) => {
                        let err = ErrPacket::parse(payload).map_err(|e| bad(conn, e))?;
                        ended.error = Some((
                            err.code,
                            err.sqlstate.unwrap_or("HY000").to_string(),
                            err.message_lossy().into_owned(),
                        ));
                        self.relay(&packet, shift, sink);
                        return Ok(ended);
                    }
                    _ => self.relay(&packet, shift, sink),
                },
                State::Definitions { left, then } => {
                    self.relay(&packet, shift, sink);
                    state = if left <= 1 {
                        State::DefinitionsEnd { then }
                    } else {
                        State::Definitions {
                            left: left - 1,
                            then,
                        }
                    };
                }
                State::DefinitionsEnd { then } => {
                    if first != Some(header::EOF) {
                        return Err(bad(conn, "no EOF after statement definitions"));
                    }
                    if translate {
                        shift = shift.wrapping_sub(1);
                    } else {
                        self.relay(&packet, shift, sink);
                    }
                    if then == 0 {
                        return Ok(ended);
                    }
                    state = State::Definitions {
                        left: then,
                        then: 0,
                    };
                }
            }
            if self.out.len() >= FLUSH_AT {
                if let Err(e) = self.flush().await {
                    // The client is gone; drain nothing more, the connection is unusable.
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
