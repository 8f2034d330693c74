//! DataRow bodies: bounds-checked reading of their columns, and writing DataRow frames.
//!
//! A body is an int16 column count, then per column an int32 length (-1 for NULL) and
//! that many bytes. Shard rows are read in place; nothing is copied unless the row must
//! change (hidden columns stripped, merged groups written).

use bytes::{BufMut, BytesMut};

use super::error::MergeError;
use crate::protocol::pg::build::frame;
use crate::protocol::pg::tag::backend::DATA_ROW;

/// One column's value: `None` is SQL NULL.
pub(crate) type Cell<'a> = Option<&'a [u8]>;

/// The columns of a DataRow body, read one by one.
#[derive(Clone, Debug)]
pub(crate) struct Columns<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Columns<'a> {
    /// The columns of `body`, and how many the body says there are.
    pub(crate) fn new(body: &'a [u8]) -> Result<(usize, Columns<'a>), MergeError> {
        let (count, rest) = body.split_first_chunk::<2>().ok_or_else(malformed)?;
        let count = usize::try_from(i16::from_be_bytes(*count)).map_err(|_| malformed())?;
        Ok((count, Columns { rest, left: count }))
    }

    /// The next column.
    pub(crate) fn next_cell(&mut self) -> Result<Cell<'a>, MergeError> {
        if self.left == 0 {
            return Err(malformed());
        }
        self.left -= 1;
        let (len, rest) = self.rest.split_first_chunk::<4>().ok_or_else(malformed)?;
        let len = i32::from_be_bytes(*len);
        if len == -1 {
            self.rest = rest;
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| malformed())?;
        if rest.len() < len {
            return Err(malformed());
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(Some(value))
    }

    /// Bytes after the columns read so far.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

fn malformed() -> MergeError {
    MergeError::malformed("DataRow")
}

/// All columns of `body`, which must have exactly `expected` of them and nothing after.
pub(crate) fn split(body: &[u8], expected: usize) -> Result<Vec<Cell<'_>>, MergeError> {
    let (count, mut columns) = Columns::new(body)?;
    if count != expected {
        return Err(MergeError::malformed(&format!(
            "DataRow ({count} columns where the RowDescription has {expected})"
        )));
    }
    let mut cells = Vec::with_capacity(count);
    for _ in 0..count {
        cells.push(columns.next_cell()?);
    }
    if !columns.rest().is_empty() {
        return Err(malformed());
    }
    Ok(cells)
}

/// Column `index` of `body` (reads only the columns before it).
pub(crate) fn cell(body: &[u8], index: usize) -> Result<Cell<'_>, MergeError> {
    let (count, mut columns) = Columns::new(body)?;
    if index >= count {
        return Err(malformed());
    }
    for _ in 0..index {
        columns.next_cell()?;
    }
    columns.next_cell()
}

/// Checks that `body` has `expected` well-formed columns and returns the byte offset where
/// column `keep` starts (`keep <= expected`): the first `keep` columns are
/// `body[2..offset]`.
pub(crate) fn prefix_end(body: &[u8], expected: usize, keep: usize) -> Result<usize, MergeError> {
    let (count, mut columns) = Columns::new(body)?;
    if count != expected {
        return Err(MergeError::malformed(&format!(
            "DataRow ({count} columns where the RowDescription has {expected})"
        )));
    }
    let mut end = 2;
    for i in 0..count {
        columns.next_cell()?;
        if i + 1 == keep {
            end = body.len() - columns.rest().len();
        }
    }
    if !columns.rest().is_empty() {
        return Err(malformed());
    }
    Ok(end)
}

/// Appends a DataRow frame with these cells.
pub(crate) fn write_row<'a>(out: &mut BytesMut, cells: impl ExactSizeIterator<Item = Cell<'a>>) {
    frame(out, DATA_ROW, |b| {
        b.put_i16(cells.len() as i16);
        for cell in cells {
            match cell {
                None => b.put_i32(-1),
                Some(v) => {
                    b.put_i32(v.len() as i32);
                    b.put_slice(v);
                }
            }
        }
    });
}

/// Appends a DataRow frame whose body is `count` followed by already encoded columns.
pub(crate) fn write_raw_row(out: &mut BytesMut, count: usize, encoded_columns: &[u8]) {
    frame(out, DATA_ROW, |b| {
        b.put_i16(count as i16);
        b.put_slice(encoded_columns);
    });
}

/// Appends a DataRow frame whose body is `body`, unchanged.
pub(crate) fn write_body(out: &mut BytesMut, body: &[u8]) {
    frame(out, DATA_ROW, |b| b.put_slice(body));
}
