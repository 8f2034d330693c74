//! Packets the proxy answers with itself, appended to the session's output buffer.

use shardwire_router::RouteError;

use super::session::Session;
use crate::protocol::mysql::build;
use crate::protocol::mysql::errcode::{self, ErrorCode};
use crate::protocol::mysql::read::OkPacket;
use crate::protocol::mysql::resultset::{text_result_set, ColumnDef};

/// OK at sequence id `seq`, with the session's status flags.
pub(super) fn ok(
    session: &mut Session,
    seq: u8,
    affected_rows: u64,
    last_insert_id: u64,
    info: &str,
) {
    let mut seq = seq;
    let packet = OkPacket {
        affected_rows,
        last_insert_id,
        status: session.status_flags(),
        info: info.as_bytes(),
        ..OkPacket::default()
    };
    build::ok(&mut session.out, &mut seq, session.caps, &packet);
}

/// ERR at sequence id `seq`.
pub(super) fn err(session: &mut Session, seq: u8, code: ErrorCode, message: &str) {
    let mut seq = seq;
    build::error(&mut session.out, &mut seq, session.caps, code, message);
}

/// ERR with a server's own code and SQLSTATE (an error from one shard of several).
pub(super) fn server_err(session: &mut Session, code: u16, sqlstate: &str, message: &str) {
    let mut seq = 1;
    build::err(
        &mut session.out,
        &mut seq,
        session.caps,
        code,
        sqlstate,
        message,
    );
}

/// ERR for a statement the router refused, its SQLSTATE mapped to MySQL's numbers.
pub(super) fn route_err(session: &mut Session, e: &RouteError) {
    let code = errcode::from_pg_sqlstate(e.sqlstate);
    err(session, 1, code, &e.message);
}

/// EOF at sequence id `seq` (COM_SET_OPTION's answer), or the OK with the 0xFE header
/// that replaces it for `CLIENT_DEPRECATE_EOF` clients, as MariaDB sends.
pub(super) fn eof(session: &mut Session, seq: u8) {
    let mut seq = seq;
    let status = session.status_flags();
    build::end_of_rows(&mut session.out, &mut seq, session.caps, 0, status);
}

/// A small text result set of string columns (SHOW answers).
pub(super) fn rows(session: &mut Session, columns: &[&str], rows: &[Vec<Option<String>>]) {
    let defs: Vec<ColumnDef<'_>> = columns.iter().map(|c| ColumnDef::text(c)).collect();
    let mut seq = 1;
    let status = session.status_flags();
    let caps = session.caps;
    text_result_set(&mut session.out, &mut seq, caps, status, &defs, rows);
}
