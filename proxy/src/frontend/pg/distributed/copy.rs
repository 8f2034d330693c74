//! `COPY … FROM STDIN` into a sharded (or reference) table: every shard of the
//! transaction runs the client's `COPY` statement, the client's data is split by shard
//! key as it streams in ([`CopySplitter`]) — or copied whole to every shard for a
//! reference table — and the row counts are summed. Outside a transaction block the copy
//! commits on all shards through the coordinator, or on none.

use bytes::{BufMut, BytesMut};
use shardwire_router::{CopySplitter, SpreadAction};

use super::super::session::{Bound, End, Session};
use super::spread::Tally;
use crate::protocol::pg::build;
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read;
use crate::protocol::pg::sqlstate;
use crate::protocol::pg::tag::{backend, frontend, txn_status};

/// Data buffered per shard before it is written.
const SHARD_BUFFER: usize = 64 * 1024;

impl Session {
    /// Runs a `COPY … FROM STDIN` spread over `shards`. Queues the client's answer; the
    /// caller adds ReadyForQuery. `Err` when the client left.
    pub(in crate::frontend::pg) async fn run_copy(
        &mut self,
        sql: &str,
        action: &SpreadAction,
        shards: &[u32],
        copies: bool,
    ) -> Result<(), End> {
        let implicit = !self.in_transaction();
        if implicit {
            self.txn_begin = Some(self.begin_text("BEGIN"));
        }
        let mut action = action.clone();
        let mut participants: Vec<Bound> = Vec::with_capacity(shards.len());
        // Whether each participant's server is in COPY mode (only those get CopyDone or
        // CopyFail and have an answer to read).
        let mut started: Vec<bool> = Vec::with_capacity(shards.len());
        let mut copy_in: Option<Frame> = None;
        let mut failure: Option<Frame> = None;
        for &shard in shards {
            let mut bound = match self.participant(shard).await {
                Ok(b) => b,
                Err((code, message)) => {
                    failure = Some(error_frame(&code, &message));
                    break;
                }
            };
            bound.wrote = true;
            if let SpreadAction::Copy(plan) = &mut action {
                if !plan.columns_listed {
                    // Asked once, before any shard is in COPY mode.
                    match key_position(&mut bound, &plan.table, &plan.key_column).await {
                        Ok(i) => {
                            plan.key_column_index = i;
                            plan.columns_listed = true;
                        }
                        Err(message) => {
                            failure = Some(error_frame(sqlstate::FEATURE_NOT_SUPPORTED, &message));
                            participants.push(bound);
                            started.push(false);
                            break;
                        }
                    }
                }
            }
            match start_copy(&mut bound, sql).await {
                Ok(frame) => {
                    copy_in.get_or_insert(frame);
                    started.push(true);
                }
                Err(frame) => {
                    failure = Some(frame);
                    started.push(false);
                }
            }
            participants.push(bound);
            if failure.is_some() {
                break;
            }
        }
        let mut tally = Tally::new(copies);
        if failure.is_none() {
            if let Some(frame) = &copy_in {
                self.io.out.extend_from_slice(frame.raw());
                self.flush().await?;
            }
            failure = self.stream_copy_data(&action, &mut participants).await?;
        } else {
            for (bound, _) in participants.iter_mut().zip(&started).filter(|(_, s)| **s) {
                abort_copy(bound, "another shard refused the COPY").await;
            }
        }
        // Every shard in COPY mode answers its COPY (count or error).
        for (bound, _) in participants.iter_mut().zip(&started).filter(|(_, s)| **s) {
            match finish_copy(bound).await {
                Ok(tag) => tally.add_tag(&tag),
                Err(frame) => {
                    failure.get_or_insert(frame);
                }
            }
        }
        self.parked.extend(participants);
        if self.bound.is_none() {
            self.bound = self.parked.pop();
        }
        let failed = failure.is_some();
        if let Some(frame) = failure {
            self.io.out.extend_from_slice(frame.raw());
        }
        if implicit {
            self.finish_distributed(!failed, &tally.text(), None).await;
        } else if failed {
            self.failed = true;
        } else {
            build::command_complete(&mut self.io.out, &tally.text());
        }
        Ok(())
    }

    /// Reads the client's CopyData until CopyDone or CopyFail and sends each shard its
    /// rows. Returns the failure to report (a bad key, the client's CopyFail).
    async fn stream_copy_data(
        &mut self,
        action: &SpreadAction,
        participants: &mut [Bound],
    ) -> Result<Option<Frame>, End> {
        let count = self.shard_count();
        let mut splitter = match action {
            SpreadAction::Copy(plan) => Some(CopySplitter::new(plan, count)),
            _ => None,
        };
        let mut buffers: Vec<BytesMut> = participants.iter().map(|_| BytesMut::new()).collect();
        let index: Vec<u32> = participants.iter().map(|b| b.shard).collect();
        let mut failure: Option<Frame> = None;
        loop {
            let frame = match self.io.reader.next_frame().await {
                Ok(Some(frame)) => frame,
                _ => return Err(End::Close),
            };
            match frame.tag() {
                frontend::COPY_DATA => {
                    if failure.is_some() {
                        continue;
                    }
                    let data = frame.body();
                    let mut sink = |shard: u32, row: &[u8]| {
                        if let Some(i) = index.iter().position(|s| *s == shard) {
                            put_copy_data(&mut buffers[i], row);
                        }
                    };
                    let split = match splitter.as_mut() {
                        Some(s) => s.feed(data, &mut sink),
                        None => {
                            for b in buffers.iter_mut() {
                                put_copy_data(b, data);
                            }
                            Ok(())
                        }
                    };
                    if let Err(e) = split {
                        failure = Some(error_frame(e.sqlstate, &e.message));
                        continue;
                    }
                    for (i, bound) in participants.iter_mut().enumerate() {
                        if buffers[i].len() >= SHARD_BUFFER {
                            write_all(bound, &mut buffers[i]).await;
                        }
                    }
                }
                frontend::COPY_DONE => {
                    if failure.is_none() {
                        if let Some(s) = splitter.as_mut() {
                            let mut sink = |shard: u32, row: &[u8]| {
                                if let Some(i) = index.iter().position(|s| *s == shard) {
                                    put_copy_data(&mut buffers[i], row);
                                }
                            };
                            if let Err(e) = s.finish(&mut sink) {
                                failure = Some(error_frame(e.sqlstate, &e.message));
                            }
                        }
                    }
                    for (i, bound) in participants.iter_mut().enumerate() {
                        if failure.is_some() {
                            buffers[i].clear();
                            build::frame(&mut buffers[i], frontend::COPY_FAIL, |b| {
                                b.put_slice(b"shardwire: COPY abandoned\0")
                            });
                        } else {
                            build::empty(&mut buffers[i], frontend::COPY_DONE);
                        }
                        write_all(bound, &mut buffers[i]).await;
                    }
                    return Ok(failure);
                }
                frontend::COPY_FAIL => {
                    let reason = read::Cursor::new(frame.body(), "CopyFail")
                        .cstr()
                        .unwrap_or("")
                        .to_string();
                    for (i, bound) in participants.iter_mut().enumerate() {
                        buffers[i].clear();
                        build::frame(&mut buffers[i], frontend::COPY_FAIL, |b| {
                            b.put_slice(reason.as_bytes());
                            b.put_u8(0);
                        });
                        write_all(bound, &mut buffers[i]).await;
                    }
                    return Ok(Some(error_frame(
                        "57014",
                        &format!("COPY from stdin failed: {reason}"),
                    )));
                }
                // PostgreSQL ignores these during COPY IN.
                frontend::FLUSH | frontend::SYNC => {}
                other => {
                    self.fatal(
                        sqlstate::PROTOCOL_VIOLATION,
                        &format!("unexpected message type {other} during COPY from stdin"),
                    )
                    .await;
                    return Err(End::Close);
                }
            }
        }
    }
}

/// Appends one CopyData frame.
fn put_copy_data(out: &mut BytesMut, data: &[u8]) {
    build::frame(out, frontend::COPY_DATA, |b| b.put_slice(data));
}

/// Writes and clears a shard's buffer; a failed write marks the connection broken (its
/// answer then reports the loss).
async fn write_all(bound: &mut Bound, buffer: &mut BytesMut) {
    if !buffer.is_empty() {
        if bound.conn.writer.send_all(buffer).await.is_err() {
            bound.conn.broken = true;
        }
        buffer.clear();
    }
}

/// An ErrorResponse frame.
fn error_frame(code: &str, message: &str) -> Frame {
    let mut out = BytesMut::new();
    build::error_response(&mut out, build::Severity::Error, code, message);
    Frame::from_raw(out.freeze())
}

/// Sends the COPY statement; `Ok(CopyInResponse)` or the shard's error (read through
/// ReadyForQuery).
async fn start_copy(bound: &mut Bound, sql: &str) -> Result<Frame, Frame> {
    let mut out = BytesMut::new();
    build::query(&mut out, sql);
    let lost = |shard: u32| {
        error_frame(
            sqlstate::CONNECTION_FAILURE,
            &format!("shardwire: lost the connection to shard {shard}"),
        )
    };
    if bound.conn.writer.send_all(&out).await.is_err() {
        bound.conn.broken = true;
        return Err(lost(bound.shard));
    }
    let mut error = None;
    loop {
        let Ok(Some(frame)) = bound.conn.reader.next_frame().await else {
            bound.conn.broken = true;
            return Err(lost(bound.shard));
        };
        match frame.tag() {
            backend::COPY_IN_RESPONSE => return Ok(frame),
            backend::ERROR_RESPONSE => error = Some(frame),
            backend::READY_FOR_QUERY => {
                if let Some(&status) = frame.body().first() {
                    bound.conn.status = status;
                }
                return Err(error.unwrap_or_else(|| {
                    error_frame(
                        sqlstate::PROTOCOL_VIOLATION,
                        "shardwire: the shard did not start the COPY",
                    )
                }));
            }
            _ => {}
        }
    }
}

/// Ends a started COPY on a shard that will not get data.
async fn abort_copy(bound: &mut Bound, reason: &str) {
    if bound.conn.status == txn_status::FAILED {
        return;
    }
    let mut out = BytesMut::new();
    build::frame(&mut out, frontend::COPY_FAIL, |b| {
        b.put_slice(reason.as_bytes());
        b.put_u8(0);
    });
    write_all(bound, &mut out).await;
}

/// Reads a shard's answer to its COPY: the command tag, or its error.
async fn finish_copy(bound: &mut Bound) -> Result<String, Frame> {
    if bound.conn.broken {
        return Err(error_frame(
            sqlstate::CONNECTION_FAILURE,
            &format!("shardwire: lost the connection to shard {}", bound.shard),
        ));
    }
    if bound.conn.status == txn_status::FAILED {
        // `start_copy` already read this shard's error and ReadyForQuery.
        return Err(error_frame(
            sqlstate::IN_FAILED_TRANSACTION,
            "shardwire: the COPY failed on a shard",
        ));
    }
    let mut tag = String::new();
    let mut error = None;
    loop {
        let Ok(Some(frame)) = bound.conn.reader.next_frame().await else {
            bound.conn.broken = true;
            return Err(error_frame(
                sqlstate::CONNECTION_FAILURE,
                &format!("shardwire: lost the connection to shard {}", bound.shard),
            ));
        };
        match frame.tag() {
            backend::COMMAND_COMPLETE => tag = read::command_tag(frame.body()).to_string(),
            backend::ERROR_RESPONSE => error = Some(frame),
            backend::READY_FOR_QUERY => {
                if let Some(&status) = frame.body().first() {
                    bound.conn.status = status;
                }
                return match error {
                    Some(e) => Err(e),
                    None => Ok(tag),
                };
            }
            _ => {}
        }
    }
}

/// The position of `key` among the columns `COPY table FROM STDIN` expects (every
/// non-generated column, in table order), asked of a shard inside the transaction.
async fn key_position(bound: &mut Bound, table: &str, key: &str) -> Result<usize, String> {
    let sql = format!(
        "SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = '{}'::regclass \
         AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        table.replace('\'', "''")
    );
    let answer = crate::backend::control::run(&mut bound.conn, &[&sql]).await?;
    if let Some((_, message)) = answer.error_fields() {
        return Err(message);
    }
    let columns = answer.values;
    columns
        .iter()
        .position(|c| c.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(key)))
        .ok_or_else(|| {
            format!("shardwire: COPY into sharded table \"{table}\": its shard key \"{key}\" is not among the table's columns")
        })
}
