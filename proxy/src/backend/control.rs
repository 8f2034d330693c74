//! Control statements on a raw server connection (BEGIN, PREPARE TRANSACTION, COMMIT
//! PREPARED …): send simple queries, read to ReadyForQuery, keep the command tags and the
//! first error. Used by the coordinator, never for client traffic.

use tokio::io::AsyncWriteExt;

use super::pg::ServerConn;
use crate::protocol::pg::build;
use crate::protocol::pg::frame::Frame;
use crate::protocol::pg::read;
use crate::protocol::pg::tag::backend;

/// What the server answered to a pipeline of simple queries.
#[derive(Debug, Default)]
pub struct Answer {
    /// CommandComplete tags, in order.
    pub tags: Vec<String>,
    /// The first ErrorResponse, as the server sent it.
    pub error: Option<Frame>,
    /// The first column of the first row any statement returned (text format).
    pub first_value: Option<String>,
}

impl Answer {
    /// The first error's SQLSTATE and message.
    pub fn error_fields(&self) -> Option<(String, String)> {
        self.error.as_ref().map(|e| read::error_fields(e.body()))
    }
}

/// Sends each of `statements` as its own Query message in one write and reads all the
/// answers. `Err` when the connection failed (the connection is then marked broken).
pub async fn run(conn: &mut ServerConn, statements: &[&str]) -> Result<Answer, String> {
    let mut out = bytes::BytesMut::new();
    for sql in statements {
        build::query(&mut out, sql);
    }
    if let Err(e) = conn.writer.write_all(&out).await {
        conn.broken = true;
        return Err(format!("{}: {e}", conn.node.name));
    }
    let mut answer = Answer::default();
    let mut pending = statements.len();
    while pending > 0 {
        let frame = match conn.reader.next_frame().await {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                conn.broken = true;
                return Err(format!("{} closed the connection", conn.node.name));
            }
            Err(e) => {
                conn.broken = true;
                return Err(format!("{}: {e}", conn.node.name));
            }
        };
        match frame.tag() {
            backend::DATA_ROW if answer.first_value.is_none() => {
                let mut c = read::Cursor::new(frame.body(), "DataRow");
                answer.first_value = c
                    .i16()
                    .ok()
                    .and_then(|_| c.nullable_bytes().ok())
                    .flatten()
                    .map(|b| String::from_utf8_lossy(b).into_owned());
            }
            backend::COMMAND_COMPLETE => answer
                .tags
                .push(read::command_tag(frame.body()).to_string()),
            backend::ERROR_RESPONSE => {
                if read::is_fatal(frame.body()) {
                    conn.broken = true;
                }
                answer.error.get_or_insert(frame);
            }
            backend::READY_FOR_QUERY => {
                pending -= 1;
                if let Some(&status) = frame.body().first() {
                    conn.status = status;
                }
            }
            _ => {}
        }
    }
    Ok(answer)
}

/// Runs one query and returns the first column of its rows (text format); `Err` with the
/// server's message, or with the reason the connection failed.
pub async fn first_column(conn: &mut ServerConn, sql: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = bytes::BytesMut::new();
    build::query(&mut out, sql);
    if let Err(e) = conn.writer.write_all(&out).await {
        conn.broken = true;
        return Err(format!("{}: {e}", conn.node.name));
    }
    let mut values = Vec::new();
    let mut error = None;
    loop {
        let frame = match conn.reader.next_frame().await {
            Ok(Some(frame)) => frame,
            _ => {
                conn.broken = true;
                return Err(format!("{} closed the connection", conn.node.name));
            }
        };
        match frame.tag() {
            backend::DATA_ROW => {
                let mut c = read::Cursor::new(frame.body(), "DataRow");
                let value = c
                    .i16()
                    .ok()
                    .and_then(|_| c.nullable_bytes().ok())
                    .flatten()
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                values.push(value);
            }
            backend::ERROR_RESPONSE => {
                error.get_or_insert(read::error_fields(frame.body()).1);
            }
            backend::READY_FOR_QUERY => {
                if let Some(&status) = frame.body().first() {
                    conn.status = status;
                }
                return match error {
                    Some(message) => Err(message),
                    None => Ok(values),
                };
            }
            _ => {}
        }
    }
}
