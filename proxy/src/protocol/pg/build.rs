//! Builders for the messages the proxy makes itself, appended to an output buffer so a
//! response can be assembled and sent in one write.

use bytes::{BufMut, BytesMut};

use super::tag::{auth, backend, frontend};

/// Appends a frame: tag, length placeholder, body written by `f`, then the real length.
pub fn frame(out: &mut BytesMut, tag: u8, f: impl FnOnce(&mut BytesMut)) {
    out.put_u8(tag);
    let len_at = out.len();
    out.put_i32(0);
    f(out);
    let len = (out.len() - len_at) as i32;
    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
}

fn cstr(out: &mut BytesMut, s: &str) {
    out.put_slice(s.as_bytes());
    out.put_u8(0);
}

/// Severity of an ErrorResponse.
#[derive(Clone, Copy, Debug)]
pub enum Severity {
    /// The statement failed; the session continues.
    Error,
    /// The session ends.
    Fatal,
}

/// ErrorResponse with severity, SQLSTATE and message.
pub fn error_response(out: &mut BytesMut, severity: Severity, code: &str, message: &str) {
    let sev = match severity {
        Severity::Error => "ERROR",
        Severity::Fatal => "FATAL",
    };
    frame(out, backend::ERROR_RESPONSE, |b| {
        b.put_u8(b'S');
        cstr(b, sev);
        b.put_u8(b'V');
        cstr(b, sev);
        b.put_u8(b'C');
        cstr(b, code);
        b.put_u8(b'M');
        cstr(b, message);
        b.put_u8(0);
    });
}

/// NoticeResponse (a warning the client may show).
pub fn notice(out: &mut BytesMut, code: &str, message: &str) {
    frame(out, backend::NOTICE_RESPONSE, |b| {
        b.put_u8(b'S');
        cstr(b, "WARNING");
        b.put_u8(b'V');
        cstr(b, "WARNING");
        b.put_u8(b'C');
        cstr(b, code);
        b.put_u8(b'M');
        cstr(b, message);
        b.put_u8(0);
    });
}

/// ReadyForQuery with a transaction status byte.
pub fn ready_for_query(out: &mut BytesMut, status: u8) {
    frame(out, backend::READY_FOR_QUERY, |b| b.put_u8(status));
}

/// CommandComplete with a tag such as `BEGIN`.
pub fn command_complete(out: &mut BytesMut, tag: &str) {
    frame(out, backend::COMMAND_COMPLETE, |b| cstr(b, tag));
}

/// ParameterStatus.
pub fn parameter_status(out: &mut BytesMut, name: &str, value: &str) {
    frame(out, backend::PARAMETER_STATUS, |b| {
        cstr(b, name);
        cstr(b, value);
    });
}

/// BackendKeyData.
pub fn backend_key_data(out: &mut BytesMut, pid: i32, secret: i32) {
    frame(out, backend::BACKEND_KEY_DATA, |b| {
        b.put_i32(pid);
        b.put_i32(secret);
    });
}

/// An Authentication message of the given subtype with a payload.
pub fn authentication(out: &mut BytesMut, kind: i32, payload: &[u8]) {
    frame(out, backend::AUTHENTICATION, |b| {
        b.put_i32(kind);
        b.put_slice(payload);
    });
}

/// AuthenticationOk.
pub fn auth_ok(out: &mut BytesMut) {
    authentication(out, auth::OK, &[]);
}

/// A message with an empty body (ParseComplete, CloseComplete, NoData…).
pub fn empty(out: &mut BytesMut, tag: u8) {
    frame(out, tag, |_| {});
}

/// RowDescription of text columns, for results the proxy makes (SHOW shardwire.*).
pub fn row_description(out: &mut BytesMut, columns: &[&str]) {
    frame(out, backend::ROW_DESCRIPTION, |b| {
        b.put_i16(columns.len() as i16);
        for c in columns {
            cstr(b, c);
            b.put_i32(0); // table oid
            b.put_i16(0); // column number
            b.put_i32(25); // text
            b.put_i16(-1); // variable length
            b.put_i32(-1); // no type modifier
            b.put_i16(0); // text format
        }
    });
}

/// DataRow of text values.
pub fn data_row(out: &mut BytesMut, values: &[Option<&str>]) {
    frame(out, backend::DATA_ROW, |b| {
        b.put_i16(values.len() as i16);
        for v in values {
            match v {
                Some(v) => {
                    b.put_i32(v.len() as i32);
                    b.put_slice(v.as_bytes());
                }
                None => b.put_i32(-1),
            }
        }
    });
}

/// A simple Query (frontend).
pub fn query(out: &mut BytesMut, sql: &str) {
    frame(out, frontend::QUERY, |b| cstr(b, sql));
}

/// A Parse (frontend).
pub fn parse(out: &mut BytesMut, name: &str, sql: &str, param_types: &[u32]) {
    frame(out, frontend::PARSE, |b| {
        cstr(b, name);
        cstr(b, sql);
        b.put_i16(param_types.len() as i16);
        for t in param_types {
            b.put_u32(*t);
        }
    });
}

/// A Bind (frontend) under another statement name; `tail` is the original message's bytes
/// after the statement name.
pub fn bind_renamed(out: &mut BytesMut, portal: &str, statement: &str, tail: &[u8]) {
    frame(out, frontend::BIND, |b| {
        cstr(b, portal);
        cstr(b, statement);
        b.put_slice(tail);
    });
}

/// A Describe or Close (frontend) of a statement or portal.
pub fn target(out: &mut BytesMut, tag: u8, kind: u8, name: &str) {
    frame(out, tag, |b| {
        b.put_u8(kind);
        cstr(b, name);
    });
}

/// Sync (frontend).
pub fn sync(out: &mut BytesMut) {
    empty(out, frontend::SYNC);
}

/// Terminate (frontend).
pub fn terminate(out: &mut BytesMut) {
    empty(out, frontend::TERMINATE);
}

/// An untagged startup-phase packet: length, code, body.
pub fn startup_packet(out: &mut BytesMut, code: i32, f: impl FnOnce(&mut BytesMut)) {
    let len_at = out.len();
    out.put_i32(0);
    out.put_i32(code);
    f(out);
    let len = (out.len() - len_at) as i32;
    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
}

/// A StartupMessage with the given parameters.
pub fn startup_message(out: &mut BytesMut, params: &[(&str, &str)]) {
    startup_packet(out, super::tag::startup::PROTOCOL_3_0, |b| {
        for (k, v) in params {
            cstr(b, k);
            cstr(b, v);
        }
        b.put_u8(0);
    });
}

/// A password message (cleartext, md5 or SASL response payload).
pub fn password(out: &mut BytesMut, payload: &[u8]) {
    frame(out, frontend::PASSWORD, |b| b.put_slice(payload));
}

/// SASLInitialResponse: mechanism and initial data.
pub fn sasl_initial_response(out: &mut BytesMut, mechanism: &str, data: &[u8]) {
    frame(out, frontend::PASSWORD, |b| {
        cstr(b, mechanism);
        b.put_i32(data.len() as i32);
        b.put_slice(data);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_themselves() {
        let mut out = BytesMut::new();
        ready_for_query(&mut out, b'I');
        assert_eq!(&out[..], &[b'Z', 0, 0, 0, 5, b'I']);
        let mut out = BytesMut::new();
        command_complete(&mut out, "BEGIN");
        assert_eq!(&out[..], b"C\0\0\0\x0aBEGIN\0");
    }
}
