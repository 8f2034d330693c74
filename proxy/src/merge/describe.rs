//! RowDescription bodies: the shard's, read into fields, and the client's, written from
//! the fields the client sees.

use bytes::{BufMut, BytesMut};

use super::error::{code, MergeError};
use super::types::Kind;
use crate::protocol::pg::build::frame;
use crate::protocol::pg::tag::backend::ROW_DESCRIPTION;

/// One field of a RowDescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// Column name (bytes: the server's encoding).
    pub name: Vec<u8>,
    /// Table OID, 0 if not a table column.
    pub table_oid: i32,
    /// Attribute number, 0 if not a table column.
    pub attnum: i16,
    /// Type OID.
    pub type_oid: u32,
    /// Type length (-1 varlena).
    pub typlen: i16,
    /// Type modifier.
    pub typmod: i32,
    /// Format code: 0 text, 1 binary.
    pub format: i16,
    /// How values decode and compare: `Kind::of(type_oid)` for PostgreSQL columns; the
    /// MySQL merge sets it from the column definition (collation, unsigned …).
    pub kind: Kind,
    /// MySQL: the decimals a `DECIMAL` column shows, which set an average's scale
    /// (MariaDB's rule); `None` for PostgreSQL (`numeric_div`'s scale).
    pub decimals: Option<u32>,
}

impl Field {
    /// Whether values come in binary format.
    pub(crate) fn binary(&self) -> bool {
        self.format == 1
    }

    /// The name for messages.
    pub(crate) fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Reads a RowDescription body.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Field>, MergeError> {
    let mut r = Reader(body);
    let count = usize::try_from(r.i16()?).map_err(|_| malformed())?;
    let mut fields = Vec::with_capacity(count);
    for _ in 0..count {
        let name = r.cstr()?.to_vec();
        let table_oid = r.i32()?;
        let attnum = r.i16()?;
        let type_oid = r.i32()? as u32;
        let typlen = r.i16()?;
        let typmod = r.i32()?;
        let format = r.i16()?;
        check_format(format).map_err(|_| malformed())?;
        fields.push(Field {
            name,
            table_oid,
            attnum,
            type_oid,
            typlen,
            typmod,
            format,
            kind: Kind::of(type_oid),
            decimals: None,
        });
    }
    if !r.0.is_empty() {
        return Err(malformed());
    }
    Ok(fields)
}

/// Appends a RowDescription frame with `fields`.
pub(crate) fn write(out: &mut BytesMut, fields: &[Field]) {
    frame(out, ROW_DESCRIPTION, |b| {
        b.put_i16(fields.len() as i16);
        for f in fields {
            b.put_slice(&f.name);
            b.put_u8(0);
            b.put_i32(f.table_oid);
            b.put_i16(f.attnum);
            b.put_u32(f.type_oid);
            b.put_i16(f.typlen);
            b.put_i32(f.typmod);
            b.put_i16(f.format);
        }
    });
}

/// The client's result-format code for visible column `index`, from its Bind codes (none:
/// all text; one: every column; else one per column).
pub(crate) fn client_format(codes: &[i16], index: usize) -> i16 {
    match codes {
        [] => 0,
        [only] => *only,
        many => many.get(index).copied().unwrap_or(0),
    }
}

/// Checks that a format code is text (0) or binary (1).
pub(crate) fn check_format(format: i16) -> Result<i16, MergeError> {
    match format {
        0 | 1 => Ok(format),
        other => Err(MergeError::new(
            code::PROTOCOL_VIOLATION,
            format_args!("unsupported format code: {other}"),
        )),
    }
}

fn malformed() -> MergeError {
    MergeError::malformed("RowDescription")
}

/// A bounds-checked cursor.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], MergeError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(malformed)?;
        self.0 = rest;
        Ok(*head)
    }

    fn i16(&mut self) -> Result<i16, MergeError> {
        self.take::<2>().map(i16::from_be_bytes)
    }

    fn i32(&mut self) -> Result<i32, MergeError> {
        self.take::<4>().map(i32::from_be_bytes)
    }

    fn cstr(&mut self) -> Result<&'a [u8], MergeError> {
        let end = self.0.iter().position(|&b| b == 0).ok_or_else(malformed)?;
        let (name, rest) = self.0.split_at(end);
        self.0 = rest.get(1..).unwrap_or_default();
        Ok(name)
    }
}
