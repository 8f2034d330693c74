//! Builders for the server packets the proxy makes itself (OK, ERR, EOF, the end of a
//! result set, COM_STMT_PREPARE_OK, auth switch and more-data), each appended to an
//! output buffer as a whole packet at sequence id `*seq` (advanced past it), so a
//! response is assembled and sent in one write. Fields depend on the capabilities the
//! client negotiated (`caps`).

use bytes::{BufMut, BytesMut};

use super::consts::{cap, header, status};
use super::errcode::ErrorCode;
use super::lenenc;
use super::packet::framed;
use super::read::{OkPacket, PrepareOk};

/// Appends an OK packet (header 0x00).
///
/// Info is written as a length-encoded string, as servers do (see
/// [`OkPacket::parse`]); without `SESSION_TRACK` only when not empty. Under
/// `SESSION_TRACK` the session state is written when `ok.status` has
/// `SESSION_STATE_CHANGED`.
pub fn ok(out: &mut BytesMut, seq: &mut u8, caps: u32, ok: &OkPacket<'_>) {
    ok_with_header(out, seq, caps, header::OK, ok);
}

/// Appends the packet that ends a result set's rows: an EOF packet, or under
/// `DEPRECATE_EOF` an OK packet with the 0xFE header.
pub fn end_of_rows(out: &mut BytesMut, seq: &mut u8, caps: u32, warnings: u16, status: u16) {
    if caps & cap::DEPRECATE_EOF != 0 {
        let ok = OkPacket {
            status,
            warnings,
            ..OkPacket::default()
        };
        ok_with_header(out, seq, caps, header::EOF, &ok);
    } else {
        eof(out, seq, caps, warnings, status);
    }
}

fn ok_with_header(out: &mut BytesMut, seq: &mut u8, caps: u32, head: u8, ok: &OkPacket<'_>) {
    framed(out, seq, |b| {
        b.put_u8(head);
        lenenc::write_int(b, ok.affected_rows);
        lenenc::write_int(b, ok.last_insert_id);
        if caps & cap::PROTOCOL_41 != 0 {
            b.put_u16_le(ok.status);
            b.put_u16_le(ok.warnings);
        } else if caps & cap::TRANSACTIONS != 0 {
            b.put_u16_le(ok.status);
        }
        let state_changed = ok.status & status::SESSION_STATE_CHANGED != 0;
        if caps & cap::SESSION_TRACK != 0 {
            if state_changed || !ok.info.is_empty() {
                lenenc::write_str(b, ok.info);
            }
            if state_changed {
                lenenc::write_str(b, ok.session_state);
            }
        } else if !ok.info.is_empty() {
            lenenc::write_str(b, ok.info);
        }
    });
}

/// Appends an EOF packet (0xFE, and warnings + status under `PROTOCOL_41`).
pub fn eof(out: &mut BytesMut, seq: &mut u8, caps: u32, warnings: u16, status: u16) {
    framed(out, seq, |b| {
        b.put_u8(header::EOF);
        if caps & cap::PROTOCOL_41 != 0 {
            b.put_u16_le(warnings);
            b.put_u16_le(status);
        }
    });
}

/// Appends an ERR packet: code, `#` + SQLSTATE under `PROTOCOL_41` (a SQLSTATE that is
/// not 5 ASCII characters becomes `HY000`), message.
pub fn err(out: &mut BytesMut, seq: &mut u8, caps: u32, code: u16, sqlstate: &str, message: &str) {
    framed(out, seq, |b| {
        b.put_u8(header::ERR);
        b.put_u16_le(code);
        if caps & cap::PROTOCOL_41 != 0 {
            b.put_u8(b'#');
            let valid = sqlstate.len() == 5 && sqlstate.bytes().all(|c| c.is_ascii_alphanumeric());
            b.put_slice(if valid { sqlstate } else { "HY000" }.as_bytes());
        }
        b.put_slice(message.as_bytes());
    });
}

/// Appends an ERR packet for a named error.
pub fn error(out: &mut BytesMut, seq: &mut u8, caps: u32, e: ErrorCode, message: &str) {
    err(out, seq, caps, e.code, e.sqlstate, message);
}

/// Appends COM_STMT_PREPARE_OK (the parameter and column definitions follow).
pub fn prepare_ok(out: &mut BytesMut, seq: &mut u8, p: &PrepareOk) {
    framed(out, seq, |b| {
        b.put_u8(header::OK);
        b.put_u32_le(p.statement_id);
        b.put_u16_le(p.num_columns);
        b.put_u16_le(p.num_params);
        b.put_u8(0);
        b.put_u16_le(p.warnings);
    });
}

/// Overwrites the statement id of a COM_STMT_PREPARE_OK payload in place (the proxy
/// gives clients its own ids); false if the payload is not one.
pub fn set_prepare_ok_statement_id(payload: &mut [u8], id: u32) -> bool {
    if payload.len() < 9 {
        return false;
    }
    match payload {
        [header::OK, a, b, c, d, ..] => {
            [*a, *b, *c, *d] = id.to_le_bytes();
            true
        }
        _ => false,
    }
}

/// Appends an AuthSwitchRequest: 0xFE, plugin name, NUL, plugin data (the salt), NUL.
pub fn auth_switch(out: &mut BytesMut, seq: &mut u8, plugin: &str, data: &[u8]) {
    framed(out, seq, |b| {
        b.put_u8(header::EOF);
        b.put_slice(plugin.as_bytes());
        b.put_u8(0);
        b.put_slice(data);
        b.put_u8(0);
    });
}

/// Appends AuthMoreData: 0x01 and the data (e.g. caching_sha2's fast-auth result or a
/// public key).
pub fn auth_more_data(out: &mut BytesMut, seq: &mut u8, data: &[u8]) {
    framed(out, seq, |b| {
        b.put_u8(header::AUTH_MORE_DATA);
        b.put_slice(data);
    });
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
