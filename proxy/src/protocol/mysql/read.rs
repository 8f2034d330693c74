//! Borrowed readers for the server packets the proxy looks inside: OK (with its
//! session-state changes, where MariaDB reports `last_gtid`), ERR, EOF and
//! COM_STMT_PREPARE_OK. Every reader takes the whole payload (header byte included) and
//! returns [`Malformed`] instead of panicking.

use super::consts::{cap, header, session_track, status};
use super::lenenc::{Cursor, Malformed};

/// An OK packet (header 0x00, or 0xFE when it ends a result set under `DEPRECATE_EOF`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OkPacket<'a> {
    /// Affected (or, with `FOUND_ROWS`, matched) rows.
    pub affected_rows: u64,
    /// Last insert id (0 = none).
    pub last_insert_id: u64,
    /// Server status flags ([`status`]).
    pub status: u16,
    /// Warning count.
    pub warnings: u16,
    /// Human-readable info ("Rows matched: 1  Changed: 1  Warnings: 0"), may be empty.
    pub info: &'a [u8],
    /// Session-state-change entries (present when `SESSION_TRACK` was negotiated and
    /// `SESSION_STATE_CHANGED` is set); read with [`SessionChanges`] or
    /// [`session_summary`].
    pub session_state: &'a [u8],
}

impl<'a> OkPacket<'a> {
    /// Reads an OK packet under the client capabilities `caps` (`PROTOCOL_41`,
    /// `TRANSACTIONS`, `SESSION_TRACK` matter).
    ///
    /// The info field is read as a length-encoded string, as MySQL and MariaDB write it
    /// (`net_send_ok`), also without `SESSION_TRACK` where the manual says string<EOF>;
    /// if it does not parse that way, the rest of the payload is taken as the info.
    pub fn parse(payload: &'a [u8], caps: u32) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "OK");
        let h = c.u8()?;
        if h != header::OK && h != header::EOF {
            return Err(c.err());
        }
        let mut ok = OkPacket {
            affected_rows: c.lenenc_int()?,
            last_insert_id: c.lenenc_int()?,
            ..OkPacket::default()
        };
        if caps & cap::PROTOCOL_41 != 0 {
            ok.status = c.u16()?;
            ok.warnings = c.u16()?;
        } else if caps & cap::TRANSACTIONS != 0 {
            ok.status = c.u16()?;
        }
        if c.is_empty() {
            return Ok(ok);
        }
        if caps & cap::SESSION_TRACK != 0 {
            ok.info = c.lenenc_str()?;
            if ok.status & status::SESSION_STATE_CHANGED != 0 && !c.is_empty() {
                ok.session_state = c.lenenc_str()?;
            }
        } else {
            let rest = c.rest();
            ok.info = match c.lenenc_str() {
                Ok(info) if c.is_empty() => info,
                _ => rest,
            };
        }
        Ok(ok)
    }

    /// The session-state-change entries.
    pub fn session_changes(&self) -> SessionChanges<'a> {
        SessionChanges {
            rest: self.session_state,
        }
    }
}

/// An ERR packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrPacket<'a> {
    /// Error number (0xFFFF: a MariaDB progress report, not an error).
    pub code: u16,
    /// SQLSTATE, when the server sent one (`#` marker, 4.1 protocol).
    pub sqlstate: Option<&'a str>,
    /// Message bytes (in the connection's character set).
    pub message: &'a [u8],
}

/// The error number of a MariaDB progress report carried in an ERR packet.
pub const PROGRESS_REPORT_CODE: u16 = 0xFFFF;

impl<'a> ErrPacket<'a> {
    /// Reads an ERR packet. The sqlstate is recognized by its `#` marker, so this also
    /// reads the ERR a server sends before capabilities are settled.
    pub fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "ERR");
        if c.u8()? != header::ERR {
            return Err(c.err());
        }
        let code = c.u16()?;
        let mut sqlstate = None;
        if code != PROGRESS_REPORT_CODE && c.peek() == Some(b'#') && c.rest().len() >= 6 {
            let state = c.bytes(6)?.get(1..).unwrap_or_default();
            sqlstate = std::str::from_utf8(state)
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        Ok(ErrPacket {
            code,
            sqlstate,
            message: c.rest(),
        })
    }

    /// Whether this is a MariaDB progress report (code 0xFFFF) rather than an error.
    pub fn is_progress(&self) -> bool {
        self.code == PROGRESS_REPORT_CODE
    }

    /// The message as text, invalid UTF-8 replaced.
    pub fn message_lossy(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.message)
    }
}

/// An EOF packet (0xFE, payload shorter than 9 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EofPacket {
    /// Warning count.
    pub warnings: u16,
    /// Server status flags.
    pub status: u16,
}

impl EofPacket {
    /// Reads an EOF packet (pre-4.1 EOFs are just the header: warnings and status 0).
    pub fn parse(payload: &[u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "EOF");
        if c.u8()? != header::EOF || payload.len() >= 9 {
            return Err(c.err());
        }
        if c.is_empty() {
            return Ok(EofPacket::default());
        }
        Ok(EofPacket {
            warnings: c.u16()?,
            status: c.u16()?,
        })
    }
}

/// Status and warnings of a packet ending a result set: an EOF packet, or an OK packet
/// with the 0xFE header under `DEPRECATE_EOF` (told apart by length: an EOF has at most
/// 5 bytes, such an OK at least 7). Returns the OK when it was one.
pub fn end_of_rows(
    payload: &[u8],
    caps: u32,
) -> Result<(EofPacket, Option<OkPacket<'_>>), Malformed> {
    if payload.len() < 7 {
        return EofPacket::parse(payload).map(|e| (e, None));
    }
    let ok = OkPacket::parse(payload, caps)?;
    let eof = EofPacket {
        warnings: ok.warnings,
        status: ok.status,
    };
    Ok((eof, Some(ok)))
}

/// COM_STMT_PREPARE_OK.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrepareOk {
    /// The server's statement id.
    pub statement_id: u32,
    /// Result columns (their definitions follow the parameters').
    pub num_columns: u16,
    /// Parameters (their definitions follow this packet).
    pub num_params: u16,
    /// Warning count.
    pub warnings: u16,
}

impl PrepareOk {
    /// Reads a COM_STMT_PREPARE_OK payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "COM_STMT_PREPARE_OK");
        if c.u8()? != header::OK {
            return Err(c.err());
        }
        let statement_id = c.u32()?;
        let num_columns = c.u16()?;
        let num_params = c.u16()?;
        // Filler and warnings are absent from pre-4.1 servers.
        let warnings = match (c.u8(), c.u16()) {
            (Ok(_), Ok(w)) => w,
            _ => 0,
        };
        Ok(PrepareOk {
            statement_id,
            num_columns,
            num_params,
            warnings,
        })
    }
}

/// One session-state-change entry: its type ([`session_track`]) and data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionChange<'a> {
    /// Entry type.
    pub kind: u8,
    /// Entry data (layout by type).
    pub data: &'a [u8],
}

impl<'a> SessionChange<'a> {
    /// The (name, value) pairs of a `SYSTEM_VARIABLES` entry (none for other types).
    pub fn system_variables(&self) -> SystemVariables<'a> {
        SystemVariables {
            rest: if self.kind == session_track::SYSTEM_VARIABLES {
                self.data
            } else {
                &[]
            },
        }
    }
}

/// Iterator over the entries of an OK packet's session state; yields an error and stops
/// on a malformed entry.
#[derive(Clone, Debug)]
pub struct SessionChanges<'a> {
    rest: &'a [u8],
}

impl<'a> SessionChanges<'a> {
    /// Entries of raw session-state data (an [`OkPacket::session_state`]).
    pub fn new(state: &'a [u8]) -> Self {
        SessionChanges { rest: state }
    }
}

impl<'a> Iterator for SessionChanges<'a> {
    type Item = Result<SessionChange<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut c = Cursor::new(self.rest, "session state");
        let entry = c.u8().and_then(|kind| {
            Ok(SessionChange {
                kind,
                data: c.lenenc_str()?,
            })
        });
        self.rest = if entry.is_ok() { c.rest() } else { &[] };
        Some(entry)
    }
}

/// Iterator over the (name, value) pairs of a `SYSTEM_VARIABLES` entry.
#[derive(Clone, Debug)]
pub struct SystemVariables<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SystemVariables<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut c = Cursor::new(self.rest, "session state system variable");
        let pair = c.lenenc_str().and_then(|name| Ok((name, c.lenenc_str()?)));
        self.rest = if pair.is_ok() { c.rest() } else { &[] };
        Some(pair)
    }
}

/// What an OK packet's session state says, as far as the proxy cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionSummary<'a> {
    /// MariaDB's `last_gtid` (`session_track_system_variables` includes it), e.g.
    /// `0-1-42`; empty when the statement wrote nothing.
    pub last_gtid: Option<&'a str>,
    /// Other system variables changed (e.g. `autocommit`, `character_set_client`).
    pub other_variables: bool,
    /// The new default schema (`USE db`).
    pub schema: Option<&'a [u8]>,
    /// The data of a `GTIDS` entry (MySQL's `session_track_gtids`).
    pub gtids: Option<&'a [u8]>,
    /// Entries of other types (state change, transaction state or characteristics).
    pub other: bool,
}

/// Summarizes raw session-state data (an [`OkPacket::session_state`]).
pub fn session_summary(state: &[u8]) -> Result<SessionSummary<'_>, Malformed> {
    let mut s = SessionSummary::default();
    for entry in SessionChanges::new(state) {
        let entry = entry?;
        match entry.kind {
            session_track::SYSTEM_VARIABLES => {
                for pair in entry.system_variables() {
                    let (name, value) = pair?;
                    if name.eq_ignore_ascii_case(b"last_gtid") {
                        let v =
                            std::str::from_utf8(value).map_err(|_| Malformed("session state"))?;
                        s.last_gtid = Some(v);
                    } else {
                        s.other_variables = true;
                    }
                }
            }
            session_track::SCHEMA => {
                s.schema = Some(Cursor::new(entry.data, "session state schema").lenenc_str()?);
            }
            session_track::GTIDS => s.gtids = Some(entry.data),
            _ => s.other = true,
        }
    }
    Ok(s)
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
