//! Control statements on a raw server connection (BEGIN, PREPARE TRANSACTION, COMMIT
//! PREPARED …): send simple queries, read to ReadyForQuery, keep the command tags and the
//! first error. Used by the coordinator, never for client traffic.

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
    /// The first column of every row the statements returned (text format).
    pub values: Vec<Option<String>>,
}

impl Answer {
    /// The first column of the first row.
    pub fn first_value(&self) -> Option<&str> {
        self.values.first().and_then(|v| v.as_deref())
    }

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
    if let Err(e) = conn.writer.send_all(&out).await {
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
            backend::DATA_ROW => answer.values.push(read::first_column(frame.body())),
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
