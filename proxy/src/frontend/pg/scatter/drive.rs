//! The merge loop of a scattered read: shard descriptions in, the client's
//! RowDescription, rows and CommandComplete out.
//!
//! Streamed plans keep one head row per shard and always send the least (a k-way merge:
//! memory is one row per shard, whatever the result size); the next row is read from
//! the shard whose head was sent, so a slow client leaves rows in the shards' sockets.
//! Grouped plans absorb every partial row (memory: one entry per group), then drain the
//! merged groups in client-sized pieces.

use std::cmp::Ordering;

use bytes::BytesMut;

use super::shard_stream::{ShardFailure, ShardStream};
use crate::frontend::pg::pump::ClientIo;
use crate::frontend::pg::session::End;
use crate::merge::{Emit, Merge, MergeError};
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::sqlstate;

/// Output is written to the client once this much is pending.
const FLUSH_AT: usize = 64 * 1024;

/// What the client is sent besides rows.
pub(crate) struct Framing {
    /// Send the RowDescription (simple Query, or a Describe of the portal).
    pub describe: bool,
}

/// Runs a scattered read to the end. `Ok(true)`: rows and CommandComplete sent;
/// `Ok(false)`: an error was reported to the client; `Err`: the client is gone.
pub(crate) async fn drive(
    mut streams: Vec<ShardStream>,
    make_merge: impl FnOnce(&[u8]) -> Result<Merge, MergeError>,
    framing: Framing,
    io: &mut ClientIo,
) -> Result<bool, End> {
    let mut description = None;
    for i in 0..streams.len() {
        match streams[i].description().await {
            Ok(Some(body)) => {
                description.get_or_insert(body);
            }
            Ok(None) => {}
            Err(failure) => return fail(streams, failure, io).await,
        }
    }
    let Some(description) = description else {
        let lost = ShardFailure::Lost("shardwire: the shards returned no row description".into());
        return fail(streams, lost, io).await;
    };
    let mut merge = match make_merge(&description) {
        Ok(m) => m,
        Err(e) => {
            abandon_all(streams).await;
            build::error_response(&mut io.out, Severity::Error, e.sqlstate, &e.message);
            return Ok(false);
        }
    };
    if framing.describe {
        merge.write_row_description(&mut io.out);
    }
    let merged = if merge.grouped() {
        grouped(&mut streams, &mut merge, io).await?
    } else {
        streamed(&mut streams, &mut merge, io).await?
    };
    if let Err(failure) = merged {
        return fail(streams, failure, io).await;
    }
    build::command_complete(&mut io.out, &format!("SELECT {}", merge.rows_sent()));
    for stream in streams {
        stream.finish().await;
    }
    Ok(true)
}

/// The k-way merge of sorted shard streams.
async fn streamed(
    streams: &mut [ShardStream],
    merge: &mut Merge,
    io: &mut ClientIo,
) -> Result<Result<(), ShardFailure>, End> {
    let mut heads: Vec<Option<Frame>> = Vec::with_capacity(streams.len());
    for stream in streams.iter_mut() {
        match stream.next_row().await {
            Ok(row) => heads.push(row),
            Err(f) => return Ok(Err(f)),
        }
    }
    while !merge.done() {
        let mut best: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some(row) = head else { continue };
            let better = match best.and_then(|b| heads[b].as_ref()) {
                None => true,
                Some(current) => merge.compare(row.body(), current.body()) == Ordering::Less,
            };
            if better {
                best = Some(i);
            }
        }
        let Some(b) = best else { break };
        let Some(row) = heads[b].take() else { break };
        match merge.emit(row.body(), &mut io.out) {
            Ok(Emit::Done) => break,
            Ok(_) => {}
            Err(e) => return Ok(Err(merge_failure(e))),
        }
        if io.out.len() >= FLUSH_AT {
            io.flush().await.map_err(|_| End::Close)?;
        }
        match streams[b].next_row().await {
            Ok(row) => heads[b] = row,
            Err(f) => return Ok(Err(f)),
        }
    }
    Ok(Ok(()))
}

/// Absorb every shard's partial groups, then send the merged ones.
async fn grouped(
    streams: &mut [ShardStream],
    merge: &mut Merge,
    io: &mut ClientIo,
) -> Result<Result<(), ShardFailure>, End> {
    for stream in streams.iter_mut() {
        loop {
            match stream.next_row().await {
                Ok(Some(row)) => {
                    if let Err(e) = merge.absorb(row.body()) {
                        return Ok(Err(merge_failure(e)));
                    }
                }
                Ok(None) => break,
                Err(f) => return Ok(Err(f)),
            }
        }
    }
    loop {
        let more = match merge.drain(&mut io.out, FLUSH_AT) {
            Ok(more) => more,
            Err(e) => return Ok(Err(merge_failure(e))),
        };
        if !more {
            return Ok(Ok(()));
        }
        io.flush().await.map_err(|_| End::Close)?;
    }
}

/// A merge error travels like a shard's: as an ErrorResponse to send.
fn merge_failure(e: MergeError) -> ShardFailure {
    let mut out = BytesMut::new();
    build::error_response(&mut out, Severity::Error, e.sqlstate, &e.message);
    ShardFailure::Server(Frame::from_raw(out.freeze()))
}

/// Reports `failure` to the client once, cancels the other shards' statements.
async fn fail(
    streams: Vec<ShardStream>,
    failure: ShardFailure,
    io: &mut ClientIo,
) -> Result<bool, End> {
    match &failure {
        ShardFailure::Server(frame) => io.out.extend_from_slice(frame.raw()),
        ShardFailure::Lost(message) => build::error_response(
            &mut io.out,
            Severity::Error,
            sqlstate::CONNECTION_FAILURE,
            message,
        ),
    }
    abandon_all(streams).await;
    Ok(false)
}

/// Ends every stream: the one that reported the error is read to its end and kept, the
/// others are cancelled.
async fn abandon_all(streams: Vec<ShardStream>) {
    for stream in streams {
        if stream.has_failed() {
            stream.finish().await;
        } else {
            stream.abandon().await;
        }
    }
}
