//! Whole answers to the proxy's own statements on a server connection (XA commands,
//! settings, recovery queries): read to the end, rows as text. Client traffic never goes
//! through here; it is forwarded packet by packet.

use bytes::Bytes;

use super::conn::MyConn;
use crate::backend::pg::ServerError;
use crate::protocol::mysql::lenenc;
use crate::protocol::mysql::read::session_summary;
use crate::protocol::mysql::response::{Command, Kind, Response};

/// A server error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerErr {
    /// MySQL error code.
    pub code: u16,
    /// SQLSTATE.
    pub sqlstate: String,
    /// Message.
    pub message: String,
}

/// What a control statement (or statements) returned.
#[derive(Debug, Default)]
pub struct Answer {
    /// The first error; statements after it did not run.
    pub error: Option<ServerErr>,
    /// Status flags at the end.
    pub status: u16,
    /// Affected rows, summed over the statements.
    pub affected_rows: u64,
    /// Rows of every result set, columns as text (`None` for NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

impl Answer {
    /// The error as a `Result`.
    pub fn ok(self) -> Result<Answer, ServerErr> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }
}

/// Reads the complete answer to one COM_QUERY (several results with multi-statements).
pub async fn read_answer(conn: &mut MyConn) -> Result<Answer, ServerError> {
    let mut response = Response::new(Command::Query, conn.capabilities);
    let mut answer = Answer::default();
    let mut columns = 0;
    loop {
        let packet = conn.read().await?;
        let payload = packet.payload();
        let step = response.feed(payload).map_err(|e| bad(conn, e.0))?;
        match step.kind {
            Kind::Ok(ok) => {
                answer.affected_rows += ok.affected_rows;
                answer.status = ok.status;
                if let Ok(summary) = session_summary(ok.session_state) {
                    if let Some(gtid) = summary.last_gtid.filter(|g| !g.is_empty()) {
                        conn.last_gtid = Some(Bytes::copy_from_slice(gtid.as_bytes()));
                    }
                }
            }
            Kind::Err(err) => {
                answer.error = Some(ServerErr {
                    code: err.code,
                    sqlstate: err.sqlstate.unwrap_or("HY000").to_string(),
                    message: err.message_lossy().into_owned(),
                });
            }
            Kind::ColumnCount(n) => columns = n,
            Kind::Eof { status, .. } => answer.status = status,
            Kind::Row => answer.rows.push(text_row(payload, columns)),
            Kind::Column | Kind::Progress => {}
            Kind::Continuation | Kind::PrepareOk(_) | Kind::LocalInfile(_) | Kind::Statistics => {
                return Err(bad(conn, "an answer a control statement cannot have"));
            }
        }
        if step.end {
            return Ok(answer);
        }
    }
}

fn text_row(mut payload: &[u8], columns: u64) -> Vec<Option<String>> {
    (0..columns)
        .map(|_| {
            let (value, used) = lenenc::read_nullable_str(payload)?;
            payload = &payload[used..];
            value.map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .collect()
}

fn bad(conn: &mut MyConn, what: impl std::fmt::Display) -> ServerError {
    conn.broken = true;
    ServerError::Protocol {
        node: conn.node.name.clone(),
        reason: format!("bad answer: {what}"),
    }
}
