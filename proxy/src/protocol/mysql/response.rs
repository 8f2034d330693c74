//! Where a server's answer to one command ends, fed packet by packet, so the proxy can
//! forward the answer as packets without decoding rows.
//!
//! Text and binary result sets: the first packet is OK, ERR, a `LOCAL INFILE` request or
//! the column count; then that many column definitions; an EOF unless `DEPRECATE_EOF`;
//! rows until an EOF (0xFE, payload shorter than 9 bytes) or, under `DEPRECATE_EOF`, an
//! OK with the 0xFE header (payload shorter than 0xFFFFFF), or an ERR. A final status
//! with `MORE_RESULTS_EXISTS` means another result follows. A row is never mistaken for
//! an end: binary rows start with 0x00, and a text row starting with 0xFE (an 8-byte
//! length) is at least 9 bytes long — at least 0xFFFFFF in practice. An execute that
//! opened a cursor answers with the column definitions and an end packet carrying
//! `CURSOR_EXISTS`, and no rows (they come with COM_STMT_FETCH).
//!
//! A packet continuing a 0xFFFFFF-byte packet carries no header of its own; the machine
//! recognizes continuations by the previous packet's length.

use super::consts::{cap, header, status};
use super::lenenc::{self, Malformed};
use super::packet::MAX_PAYLOAD;
use super::read::{end_of_rows, ErrPacket, OkPacket, PrepareOk};

/// What command the answer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// COM_QUERY (text result sets, possibly several).
    Query,
    /// COM_STMT_EXECUTE (binary result sets, possibly a cursor).
    Execute,
    /// COM_STMT_FETCH (rows of an open cursor, then an end packet).
    Fetch,
    /// COM_STMT_PREPARE.
    Prepare,
    /// COM_FIELD_LIST (column definitions, then an end packet).
    FieldList,
    /// COM_STATISTICS (one string packet).
    Statistics,
    /// Commands answered by one OK or ERR: PING, INIT_DB, RESET_CONNECTION, STMT_RESET,
    /// and SET_OPTION (which answers with an EOF).
    Simple,
}

/// What one packet of the answer was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// An OK packet (a whole answer, or one result of several, or the end of rows under
    /// `DEPRECATE_EOF` with the 0xFE header). Its session state holds `last_gtid`.
    Ok(OkPacket<'a>),
    /// An ERR packet: the answer ends.
    Err(ErrPacket<'a>),
    /// A MariaDB progress report (ERR with code 0xFFFF): not the end.
    Progress,
    /// An EOF packet (end of column definitions, or of rows) with its status.
    Eof {
        /// Warning count.
        warnings: u16,
        /// Status flags.
        status: u16,
    },
    /// The column count opening a result set.
    ColumnCount(u64),
    /// A column (or parameter) definition.
    Column,
    /// A row.
    Row,
    /// COM_STMT_PREPARE_OK.
    PrepareOk(PrepareOk),
    /// A `LOCAL INFILE` request naming a file: the client must now send the file's
    /// contents and an empty packet; the server's OK or ERR follows.
    LocalInfile(&'a [u8]),
    /// The string answering COM_STATISTICS.
    Statistics,
    /// A continuation of a 0xFFFFFF-byte packet.
    Continuation,
}

/// One packet's place in the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// What the packet was.
    pub kind: Kind<'a>,
    /// Whether it ends the whole answer (a packet continuing it would still follow when
    /// it is 0xFFFFFF bytes long, which no end packet is).
    pub end: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Expecting the first packet of a result (or the OK/ERR of a simple command).
    First,
    /// Column definitions left; then an EOF (classic) or rows.
    Columns(u64),
    /// Expecting the EOF after the column definitions.
    ColumnsEof,
    /// Rows until an end packet.
    Rows,
    /// Prepare: parameter definitions left, then column definitions.
    Params { left: u16, columns: u16 },
    /// Prepare: EOF after the parameter definitions, then column definitions.
    ParamsEof { columns: u16 },
    /// Prepare: column definitions left.
    PrepareColumns(u16),
    /// Prepare: EOF after the column definitions.
    PrepareColumnsEof,
    /// After a LOCAL INFILE request: the server's OK or ERR.
    InfileResult,
    /// Column definitions until an end packet (COM_FIELD_LIST).
    FieldList,
    /// The answer is complete.
    Done,
}

/// Tracks one command's answer.
#[derive(Clone, Debug)]
pub struct Response {
    command: Command,
    deprecate_eof: bool,
    caps: u32,
    state: State,
    /// The previous packet was 0xFFFFFF bytes: the next continues it.
    continued: bool,
    status: Option<u16>,
    error: Option<u16>,
}

impl Response {
    /// A tracker for the answer to `command` under the capabilities negotiated with the
    /// server (`caps`).
    pub fn new(command: Command, caps: u32) -> Self {
        let state = match command {
            Command::Fetch => State::Rows,
            Command::FieldList => State::FieldList,
            _ => State::First,
        };
        Response {
            command,
            deprecate_eof: caps & cap::DEPRECATE_EOF != 0,
            caps,
            state,
            continued: false,
            status: None,
            error: None,
        }
    }

    /// Whether the answer is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The status flags of the last OK or EOF packet seen (the final status once done,
    /// unless the answer ended with an ERR, which carries none).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The error number when the answer ended with an ERR.
    pub fn error(&self) -> Option<u16> {
        self.error
    }

    /// Feeds the next packet's whole payload.
    pub fn feed<'a>(&mut self, payload: &'a [u8]) -> Result<Step<'a>, Malformed> {
        let continuation = self.continued;
        self.continued = payload.len() == MAX_PAYLOAD;
        if continuation {
            return Ok(self.step(Kind::Continuation));
        }
        if self.state == State::Done {
            return Err(Malformed("response (packet after the end)"));
        }
        let first = payload.first().copied();
        if first == Some(header::ERR) {
            let err = ErrPacket::parse(payload)?;
            if err.is_progress() {
                return Ok(self.step(Kind::Progress));
            }
            self.error = Some(err.code);
            self.state = State::Done;
            return Ok(self.step(Kind::Err(err)));
        }
        match self.state {
            State::First => self.first(payload),
            State::InfileResult => self.ok_only(payload),
            State::Columns(left) => {
                self.state = match left {
                    0 | 1 if self.deprecate_eof => State::Rows,
                    0 | 1 => State::ColumnsEof,
                    n => State::Columns(n - 1),
                };
                Ok(self.step(Kind::Column))
            }
            State::ColumnsEof => {
                let (warnings, st) = self.eof(payload)?;
                self.state = if self.command == Command::Execute && st & status::CURSOR_EXISTS != 0
                {
                    State::Done
                } else {
                    State::Rows
                };
                Ok(self.step(Kind::Eof {
                    warnings,
                    status: st,
                }))
            }
            State::Rows | State::FieldList => {
                if self.is_end_of_rows(payload) {
                    return self.end_of_result(payload);
                }
                Ok(self.step(if self.state == State::Rows {
                    Kind::Row
                } else {
                    Kind::Column
                }))
            }
            State::Params { left, columns } => {
                self.state = match (left, self.deprecate_eof) {
                    (0 | 1, false) => State::ParamsEof { columns },
                    (0 | 1, true) => Self::prepare_columns(columns),
                    (n, _) => State::Params {
                        left: n - 1,
                        columns,
                    },
                };
                Ok(self.step(Kind::Column))
            }
            State::ParamsEof { columns } => {
                let (warnings, st) = self.eof(payload)?;
                self.state = Self::prepare_columns(columns);
                Ok(self.step(Kind::Eof {
                    warnings,
                    status: st,
                }))
            }
            State::PrepareColumns(left) => {
                self.state = match (left, self.deprecate_eof) {
                    (0 | 1, false) => State::PrepareColumnsEof,
                    (0 | 1, true) => State::Done,
                    (n, _) => State::PrepareColumns(n - 1),
                };
                Ok(self.step(Kind::Column))
            }
            State::PrepareColumnsEof => {
                let (warnings, st) = self.eof(payload)?;
                self.state = State::Done;
                Ok(self.step(Kind::Eof {
                    warnings,
                    status: st,
                }))
            }
            State::Done => Err(Malformed("response (packet after the end)")),
        }
    }

    fn step<'a>(&self, kind: Kind<'a>) -> Step<'a> {
        Step {
            kind,
            end: self.state == State::Done && !self.continued,
        }
    }

    fn first<'a>(&mut self, payload: &'a [u8]) -> Result<Step<'a>, Malformed> {
        let first = payload.first().copied().ok_or(Malformed("response"))?;
        match (self.command, first) {
            (Command::Statistics, _) => {
                self.state = State::Done;
                Ok(self.step(Kind::Statistics))
            }
            (Command::Prepare, header::OK) => {
                let p = PrepareOk::parse(payload)?;
                self.state = match p.num_params {
                    0 => Self::prepare_columns(p.num_columns),
                    n => State::Params {
                        left: n,
                        columns: p.num_columns,
                    },
                };
                Ok(self.step(Kind::PrepareOk(p)))
            }
            (Command::Query | Command::Execute | Command::Simple, header::OK) => {
                self.ok_only(payload)
            }
            // COM_SET_OPTION answers with an EOF (an OK with 0xFE under DEPRECATE_EOF).
            (Command::Simple, header::EOF) => self.end_of_result(payload),
            (Command::Query | Command::Execute, header::LOCAL_INFILE) => {
                self.state = State::InfileResult;
                Ok(self.step(Kind::LocalInfile(payload.get(1..).unwrap_or_default())))
            }
            (Command::Query | Command::Execute, _) => {
                let (n, used) = lenenc::read_int(payload).ok_or(Malformed("column count"))?;
                if n == 0 || used != payload.len() {
                    return Err(Malformed("column count"));
                }
                self.state = State::Columns(n);
                Ok(self.step(Kind::ColumnCount(n)))
            }
            _ => Err(Malformed("response")),
        }
    }

    fn prepare_columns(columns: u16) -> State {
        match columns {
            0 => State::Done,
            n => State::PrepareColumns(n),
        }
    }

    /// An OK packet ending a result (or a simple command's answer).
    fn ok_only<'a>(&mut self, payload: &'a [u8]) -> Result<Step<'a>, Malformed> {
        if payload.first() != Some(&header::OK) {
            return Err(Malformed("OK"));
        }
        let ok = OkPacket::parse(payload, self.caps)?;
        self.finish_result(ok.status);
        Ok(self.step(Kind::Ok(ok)))
    }

    fn end_of_result<'a>(&mut self, payload: &'a [u8]) -> Result<Step<'a>, Malformed> {
        let (eof, ok) = end_of_rows(payload, self.caps)?;
        self.finish_result(eof.status);
        Ok(self.step(match ok {
            Some(ok) => Kind::Ok(ok),
            None => Kind::Eof {
                warnings: eof.warnings,
                status: eof.status,
            },
        }))
    }

    fn finish_result(&mut self, st: u16) {
        self.status = Some(st);
        let more = st & status::MORE_RESULTS_EXISTS != 0;
        self.state = if more && matches!(self.command, Command::Query | Command::Execute) {
            State::First
        } else {
            State::Done
        };
    }

    fn eof(&mut self, payload: &[u8]) -> Result<(u16, u16), Malformed> {
        let (eof, _) = end_of_rows(payload, self.caps)?;
        self.status = Some(eof.status);
        Ok((eof.warnings, eof.status))
    }

    fn is_end_of_rows(&self, payload: &[u8]) -> bool {
        payload.first() == Some(&header::EOF)
            && if self.deprecate_eof {
                payload.len() < MAX_PAYLOAD
            } else {
                payload.len() < 9
            }
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
