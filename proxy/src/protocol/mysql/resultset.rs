//! Text result sets the proxy answers itself (`SHOW shardwire.*`, admin statements):
//! column definitions (Protocol::ColumnDefinition41), text rows, and the whole sequence
//! with the right terminators and sequence ids. Column definitions can be read back too.

use bytes::{BufMut, BytesMut};

use super::build;
use super::consts::{cap, charset, column_flag, column_type};
use super::lenenc::{self, Cursor, Malformed};
use super::packet::framed;

/// A column definition (ColumnDefinition41). The catalog is always `def`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnDef<'a> {
    /// Schema (database) name.
    pub schema: &'a [u8],
    /// Table alias.
    pub table: &'a [u8],
    /// Original table name.
    pub org_table: &'a [u8],
    /// Column alias.
    pub name: &'a [u8],
    /// Original column name.
    pub org_name: &'a [u8],
    /// Character set (collation id) of the values.
    pub charset: u16,
    /// Maximum display length.
    pub column_length: u32,
    /// Type ([`column_type`]).
    pub column_type: u8,
    /// Flags ([`column_flag`]).
    pub flags: u16,
    /// Decimals shown (0x1F for "not fixed" on strings and floats).
    pub decimals: u8,
}

impl<'a> ColumnDef<'a> {
    /// A computed text column (`VARCHAR`, utf8mb4), as the proxy's own result sets use.
    pub fn text(name: &'a str) -> Self {
        ColumnDef {
            schema: b"",
            table: b"",
            org_table: b"",
            name: name.as_bytes(),
            org_name: b"",
            charset: u16::from(charset::UTF8MB4_GENERAL_CI),
            column_length: 1024,
            column_type: column_type::VAR_STRING,
            flags: 0,
            decimals: 0x1F,
        }
    }

    /// A computed `BIGINT` column (values still sent as text in text rows).
    pub fn bigint(name: &'a str) -> Self {
        ColumnDef {
            charset: u16::from(charset::BINARY),
            column_length: 20,
            column_type: column_type::LONGLONG,
            flags: column_flag::BINARY | column_flag::NUM,
            decimals: 0,
            ..ColumnDef::text(name)
        }
    }

    /// Reads a column definition payload.
    pub fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "column definition");
        let _catalog = c.lenenc_str()?;
        let schema = c.lenenc_str()?;
        let table = c.lenenc_str()?;
        let org_table = c.lenenc_str()?;
        let name = c.lenenc_str()?;
        let org_name = c.lenenc_str()?;
        let fixed = c.lenenc_int()?;
        if fixed < 0x0C {
            return Err(c.err());
        }
        let def = ColumnDef {
            schema,
            table,
            org_table,
            name,
            org_name,
            charset: c.u16()?,
            column_length: c.u32()?,
            column_type: c.u8()?,
            flags: c.u16()?,
            decimals: c.u8()?,
        };
        c.bytes(2)?; // filler
        Ok(def)
    }
}

/// Appends a column definition packet.
pub fn column_def(out: &mut BytesMut, seq: &mut u8, col: &ColumnDef<'_>) {
    framed(out, seq, |b| {
        lenenc::write_str(b, b"def");
        lenenc::write_str(b, col.schema);
        lenenc::write_str(b, col.table);
        lenenc::write_str(b, col.org_table);
        lenenc::write_str(b, col.name);
        lenenc::write_str(b, col.org_name);
        b.put_u8(0x0C);
        b.put_u16_le(col.charset);
        b.put_u32_le(col.column_length);
        b.put_u8(col.column_type);
        b.put_u16_le(col.flags);
        b.put_u8(col.decimals);
        b.put_u16(0);
    });
}

/// Appends a text row: each value a length-encoded string, 0xFB for NULL.
pub fn text_row<V: AsRef<[u8]>>(out: &mut BytesMut, seq: &mut u8, values: &[Option<V>]) {
    framed(out, seq, |b| {
        for v in values {
            lenenc::write_nullable_str(b, v.as_ref().map(AsRef::as_ref));
        }
    });
}

/// Appends a whole text result set answering one command: column count, definitions,
/// an EOF unless `DEPRECATE_EOF`, the rows, and the end (EOF, or an OK with the 0xFE
/// header under `DEPRECATE_EOF`) carrying `status`. Sequence ids continue from `*seq`
/// (1 when answering a command).
pub fn text_result_set<R, V>(
    out: &mut BytesMut,
    seq: &mut u8,
    caps: u32,
    status: u16,
    columns: &[ColumnDef<'_>],
    rows: &[R],
) where
    R: AsRef<[Option<V>]>,
    V: AsRef<[u8]>,
{
    framed(out, seq, |b| lenenc::write_int(b, columns.len() as u64));
    for col in columns {
        column_def(out, seq, col);
    }
    if caps & cap::DEPRECATE_EOF == 0 {
        build::eof(out, seq, caps, 0, status);
    }
    for row in rows {
        text_row(out, seq, row.as_ref());
    }
    build::end_of_rows(out, seq, caps, 0, status);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::mysql::consts::status;
    use crate::protocol::mysql::packet::split_all;
    use crate::protocol::mysql::response::{Command, Response};
    use mysql_common::io::ParseBuf;
    use mysql_common::packets::Column;

    #[test]
    fn column_def_matches_mysql_common() {
        let col = ColumnDef {
            schema: b"app",
            table: b"t",
            org_table: b"accounts",
            org_name: b"id",
            ..ColumnDef::bigint("id")
        };
        let mut out = BytesMut::new();
        let mut seq = 2;
        column_def(&mut out, &mut seq, &col);
        let p = split_all(&out);
        let payload = &p[0].1;
        assert_eq!(ColumnDef::parse(payload), Ok(col));
        let theirs: Column = ParseBuf(payload).parse(()).unwrap();
        assert_eq!(theirs.schema_ref(), b"app");
        assert_eq!(theirs.table_ref(), b"t");
        assert_eq!(theirs.org_table_ref(), b"accounts");
        assert_eq!(theirs.name_ref(), b"id");
        assert_eq!(theirs.org_name_ref(), b"id");
        assert_eq!(theirs.character_set(), 63);
        assert_eq!(theirs.column_length(), 20);
        assert_eq!(theirs.column_type() as u8, column_type::LONGLONG);
        assert_eq!(theirs.flags().bits(), col.flags);
        assert_eq!(theirs.decimals(), 0);
        for cut in 0..payload.len() {
            assert!(ColumnDef::parse(&payload[..cut]).is_err());
        }
    }

    #[test]
    fn text_result_set_sequence_ids_and_terminators() {
        let columns = [ColumnDef::text("name"), ColumnDef::bigint("n")];
        let rows = [[Some("a"), Some("1")], [None, Some("2")]];
        for caps in [cap::PROTOCOL_41, cap::PROTOCOL_41 | cap::DEPRECATE_EOF] {
            let mut out = BytesMut::new();
            let mut seq = 1;
            text_result_set(
                &mut out,
                &mut seq,
                caps,
                status::AUTOCOMMIT,
                &columns,
                &rows,
            );
            let p = split_all(&out);
            let classic = caps & cap::DEPRECATE_EOF == 0;
            assert_eq!(p.len(), if classic { 7 } else { 6 });
            for (i, (s, _)) in p.iter().enumerate() {
                assert_eq!(usize::from(*s), i + 1);
            }
            assert_eq!(p[0].1, [2]);
            let first_row = if classic { 4 } else { 3 };
            assert_eq!(p[first_row].1, b"\x01a\x011");
            assert_eq!(p[first_row + 1].1, b"\xfb\x012");
            // The response state machine agrees on where it ends.
            let mut r = Response::new(Command::Query, caps);
            let ends: Vec<bool> = p.iter().map(|(_, pl)| r.feed(pl).unwrap().end).collect();
            assert_eq!(ends.iter().filter(|e| **e).count(), 1);
            assert_eq!(ends.last(), Some(&true));
            assert_eq!(r.status(), Some(status::AUTOCOMMIT));
        }
    }
}
