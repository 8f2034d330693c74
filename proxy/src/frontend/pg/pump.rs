//! Streaming a server's answers back to the client.
//!
//! What the client sent becomes a queue of expected responses, one entry per message:
//! forwarded (`Pass`), hidden (`Swallow`: a Parse or `SET` the proxy injected) or made up
//! by the proxy (`Synthetic`: the ParseComplete of a statement the server already knew).
//! Server frames are matched against the queue by tag only — rows are copied through
//! undecoded — and the client is written to once per batch of frames received.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::backend::pg::ServerConn;
use crate::frontend::client_stream::{ClientReader, ClientWriter};
use crate::protocol::pg::frame::FrameReader;
use crate::protocol::pg::tag::{backend, frontend};

/// Client-side socket halves and the pending output.
#[derive(Debug)]
pub struct ClientIo {
    /// Frames from the client.
    pub reader: FrameReader<ClientReader>,
    /// Bytes to the client.
    pub writer: ClientWriter,
    /// Output not yet written.
    pub out: BytesMut,
    /// Bytes written to the client so far (tells whether a failed read can be retried).
    pub sent: u64,
}

impl ClientIo {
    /// Writes pending output.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.writer.send_all(&self.out).await?;
            self.sent += self.out.len() as u64;
            self.out.clear();
        }
        Ok(())
    }
}

/// What to do with the responses to one message.
#[derive(Debug)]
pub enum Action {
    /// Forward to the client.
    Pass,
    /// Hide from the client (errors still go through).
    Swallow,
    /// No server response; send these bytes instead when the entry reaches the front.
    Synthetic(Bytes),
    /// Hide from the client, but keep the first column of the first row (a position the
    /// proxy asked for, pipelined with the client's statement).
    Capture,
}

/// When an entry is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// At ReadyForQuery (Sync, simple Query).
    Ready,
    /// At any of these tags.
    Tags(&'static [u8]),
    /// Immediately (synthetic entries).
    Now,
}

/// Completion tags per extended-protocol message.
pub mod ends {
    use crate::protocol::pg::tag::backend::*;
    /// Parse.
    pub const PARSE: &[u8] = &[PARSE_COMPLETE];
    /// Bind.
    pub const BIND: &[u8] = &[BIND_COMPLETE];
    /// Describe (statement or portal).
    pub const DESCRIBE: &[u8] = &[ROW_DESCRIPTION, NO_DATA];
    /// Execute.
    pub const EXECUTE: &[u8] = &[COMMAND_COMPLETE, EMPTY_QUERY, PORTAL_SUSPENDED];
    /// Close.
    pub const CLOSE: &[u8] = &[CLOSE_COMPLETE];
}

/// One expected response.
#[derive(Debug)]
pub struct Entry {
    /// Forward, hide or make up.
    pub action: Action,
    /// When it is complete.
    pub until: Until,
    /// A statement this entry prepares on the server; forgotten again if it fails.
    pub prepares: Option<Arc<str>>,
}

impl Entry {
    /// A forwarded response.
    pub fn pass(until: Until) -> Entry {
        Entry {
            action: Action::Pass,
            until,
            prepares: None,
        }
    }

    /// A hidden response.
    pub fn swallow(until: Until) -> Entry {
        Entry {
            action: Action::Swallow,
            until,
            prepares: None,
        }
    }

    /// A hidden response whose first value is kept.
    pub fn capture() -> Entry {
        Entry {
            action: Action::Capture,
            until: Until::Ready,
            prepares: None,
        }
    }

    /// A made-up response.
    pub fn synthetic(bytes: Bytes) -> Entry {
        Entry {
            action: Action::Synthetic(bytes),
            until: Until::Now,
            prepares: None,
        }
    }
}

/// How pumping ended.
#[derive(Debug)]
pub enum PumpEnd {
    /// Every expected response arrived; the server is between messages.
    Done {
        /// Whether any ErrorResponse was seen.
        error_seen: bool,
        /// The value a `Capture` entry kept.
        captured: Option<String>,
        /// The client's ReadyForQuery status, when it was held back (see [`pump`]).
        held_ready: Option<u8>,
    },
    /// The client went away or broke the protocol during COPY.
    ClientGone,
    /// The server connection failed.
    ServerLost(String),
    /// A replica failed before any byte of its answer reached the client: the session
    /// runs the request again elsewhere.
    Retry,
}

/// Client output is flushed once it grows past this, so a large result streams through a
/// bounded buffer and a slow client slows the server read instead of growing memory.
const FLUSH_AT: usize = 64 * 1024;

/// Forwards server responses until the queue is empty. With `hold_ready`, the client's
/// ReadyForQuery is not sent but returned, so the session can first wait for replicas
/// (write concern) and report on it before the client may go on.
pub async fn pump(
    server: &mut ServerConn,
    client: &mut ClientIo,
    queue: &mut VecDeque<Entry>,
    hold_ready: bool,
) -> PumpEnd {
    let mut error_seen = false;
    let mut captured = None;
    let mut held_ready = None;
    loop {
        while let Some(Entry {
            action: Action::Synthetic(_),
            ..
        }) = queue.front()
        {
            if let Some(Entry {
                action: Action::Synthetic(bytes),
                ..
            }) = queue.pop_front()
            {
                client.out.extend_from_slice(&bytes);
            }
        }
        let Some(front) = queue.front() else {
            return match client.flush().await {
                Ok(()) => PumpEnd::Done {
                    error_seen,
                    captured,
                    held_ready,
                },
                Err(_) => PumpEnd::ClientGone,
            };
        };
        let header = match server.reader.peek() {
            Ok(Some(h)) => h,
            Ok(None) => {
                if client.flush().await.is_err() {
                    return PumpEnd::ClientGone;
                }
                match server.reader.fill().await {
                    Ok(true) => continue,
                    Ok(false) => return PumpEnd::ServerLost("server closed the connection".into()),
                    Err(e) => return PumpEnd::ServerLost(e.to_string()),
                }
            }
            Err(e) => return PumpEnd::ServerLost(e.to_string()),
        };
        let pass = matches!(front.action, Action::Pass);
        let capture = matches!(front.action, Action::Capture);
        let until = front.until;
        let frame = &server.reader.buffer()[..header.total];
        match header.tag {
            backend::NOTICE_RESPONSE | backend::NOTIFICATION | backend::PARAMETER_STATUS => {
                if pass {
                    client.out.extend_from_slice(frame);
                }
            }
            backend::ERROR_RESPONSE if crate::protocol::pg::read::is_fatal(&frame[5..]) => {
                // The server is closing this connection: the session reports it (or, for a
                // replica read nobody has seen yet, retries it) instead of forwarding it.
                let (code, message) = crate::protocol::pg::read::error_fields(&frame[5..]);
                return PumpEnd::ServerLost(format!("{code} {message}"));
            }
            backend::ERROR_RESPONSE => {
                // An error in a position query the proxy added is its own business.
                if !capture {
                    error_seen = true;
                    client.out.extend_from_slice(frame);
                }
                if until != Until::Ready {
                    // The server skips everything up to the next Sync.
                    while let Some(e) = queue.front() {
                        if e.until == Until::Ready {
                            break;
                        }
                        if let Some(name) = queue.pop_front().and_then(|e| e.prepares) {
                            server.prepared.remove(&name);
                        }
                    }
                }
            }
            backend::READY_FOR_QUERY => {
                server.status = frame.get(5).copied().unwrap_or(b'I');
                if pass && hold_ready {
                    held_ready = Some(server.status);
                } else if pass {
                    client.out.extend_from_slice(frame);
                }
                // Anything still queued before this Sync got no answer (cannot happen with a
                // well-behaved server); drop through to the Sync's own entry.
                while let Some(e) = queue.pop_front() {
                    if e.until == Until::Ready {
                        break;
                    }
                }
            }
            backend::COPY_IN => {
                client.out.extend_from_slice(frame);
                server.reader.consume(header.total);
                if let Err(end) = copy_in(server, client).await {
                    return end;
                }
                continue;
            }
            backend::DATA_ROW if capture => {
                if captured.is_none() {
                    captured = crate::protocol::pg::read::first_column(&frame[5..]);
                }
            }
            tag => {
                if pass {
                    client.out.extend_from_slice(frame);
                }
                if let Until::Tags(tags) = until {
                    if tags.contains(&tag) {
                        queue.pop_front();
                    }
                }
            }
        }
        server.reader.consume(header.total);
        if client.out.len() >= FLUSH_AT && client.flush().await.is_err() {
            return PumpEnd::ClientGone;
        }
    }
}

/// COPY FROM STDIN: client data frames go to the server until CopyDone or CopyFail.
async fn copy_in(server: &mut ServerConn, client: &mut ClientIo) -> Result<(), PumpEnd> {
    if client.flush().await.is_err() {
        return Err(PumpEnd::ClientGone);
    }
    loop {
        let frame = match client.reader.next_frame().await {
            Ok(Some(f)) => f,
            _ => return Err(PumpEnd::ClientGone),
        };
        let tag = frame.tag();
        match tag {
            frontend::COPY_DATA
            | frontend::COPY_DONE
            | frontend::COPY_FAIL
            | frontend::SYNC
            | frontend::FLUSH => {}
            _ => return Err(PumpEnd::ClientGone),
        }
        if let Err(e) = server.writer.send_all(frame.raw()).await {
            return Err(PumpEnd::ServerLost(e.to_string()));
        }
        if tag == frontend::COPY_DONE || tag == frontend::COPY_FAIL {
            return Ok(());
        }
    }
}
