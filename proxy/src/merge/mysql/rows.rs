//! MySQL rows in and out of the merge engine.
//!
//! In: a shard's text row (each value a length-encoded string, 0xFB for NULL) becomes
//! the engine's row body (a 16-bit count, then per value a 32-bit length, -1 for NULL,
//! and the bytes). Out: the engine's rows become MySQL rows: text rows, or for
//! `COM_STMT_EXECUTE` binary rows (0x00, a NULL bitmap with an offset of 2 bits, then
//! the non-NULL values encoded by column type, see [`super::binary`]).

use bytes::{BufMut, BytesMut};

use super::binary::write_value;
use super::double::format_double;
use crate::merge::error::MergeError;
use crate::merge::rows::{Cell, Columns};
use crate::protocol::mysql::lenenc;
use crate::protocol::mysql::packet::framed;

/// The engine's row body for a shard's text row of `width` values.
pub(crate) fn body_of_text_row(payload: &[u8], width: usize) -> Result<Vec<u8>, MergeError> {
    let malformed = || MergeError::malformed("text row");
    let count = i16::try_from(width).map_err(|_| malformed())?;
    let mut body = Vec::with_capacity(payload.len() + 3 * width + 2);
    body.extend_from_slice(&count.to_be_bytes());
    let mut rest = payload;
    for _ in 0..width {
        let (value, used) = lenenc::read_nullable_str(rest).ok_or_else(malformed)?;
        match value {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                let len = i32::try_from(v.len()).map_err(|_| malformed())?;
                body.extend_from_slice(&len.to_be_bytes());
                body.extend_from_slice(v);
            }
        }
        rest = rest.get(used..).ok_or_else(malformed)?;
    }
    if !rest.is_empty() {
        return Err(malformed());
    }
    Ok(body)
}

/// How the client's rows are written.
#[derive(Debug, Clone)]
pub(crate) struct RowFormat {
    /// Binary rows (else text).
    pub binary: bool,
    /// Per client column: `(type, flags)`.
    pub types: Vec<(u8, u16)>,
    /// Per client column: a double the proxy computed (printed the MySQL way).
    pub computed_double: Vec<bool>,
}

impl RowFormat {
    /// Converts the engine's DataRow frames in `frames` into MySQL row packets appended to
    /// `out` from sequence id `*seq`; `frames` is emptied.
    pub(crate) fn convert(
        &self,
        frames: &mut BytesMut,
        out: &mut BytesMut,
        seq: &mut u8,
    ) -> Result<(), MergeError> {
        let mut rest: &[u8] = frames;
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(self.types.len());
        let mut reformatted: Vec<Option<String>> = vec![None; self.types.len()];
        while !rest.is_empty() {
            let (len, after) = rest
                .get(1..)
                .and_then(|r| r.split_first_chunk::<4>())
                .ok_or_else(|| MergeError::malformed("merged row"))?;
            let len = usize::try_from(u32::from_be_bytes(*len))
                .ok()
                .and_then(|l| l.checked_sub(4))
                .ok_or_else(|| MergeError::malformed("merged row"))?;
            let body = after
                .get(..len)
                .ok_or_else(|| MergeError::malformed("merged row"))?;
            rest = after.get(len..).unwrap_or_default();
            let (count, mut columns) = Columns::new(body)?;
            cells.clear();
            for i in 0..count {
                let cell = columns.next_cell()?;
                let slot = reformatted.get_mut(i);
                match (cell, self.computed_double.get(i), slot) {
                    (Some(text), Some(true), Some(slot)) => {
                        let v = std::str::from_utf8(text)
                            .ok()
                            .and_then(|t| t.parse::<f64>().ok())
                            .ok_or_else(|| MergeError::malformed("merged double"))?;
                        *slot = Some(format_double(v));
                    }
                    (_, _, Some(slot)) => *slot = None,
                    _ => {}
                }
                cells.push(cell);
            }
            let cells = cells
                .iter()
                .zip(&reformatted)
                .map(|(cell, again)| match again {
                    Some(text) => Some(text.as_bytes()),
                    None => *cell,
                });
            if self.binary {
                self.binary_row(cells, out, seq)?;
            } else {
                framed(out, seq, |b| {
                    for cell in cells {
                        lenenc::write_nullable_str(b, cell);
                    }
                });
            }
        }
        frames.clear();
        Ok(())
    }

    fn binary_row<'a>(
        &self,
        cells: impl Iterator<Item = Cell<'a>>,
        out: &mut BytesMut,
        seq: &mut u8,
    ) -> Result<(), MergeError> {
        let n = self.types.len();
        let mut bitmap = vec![0u8; (n + 7 + 2) / 8];
        let mut values = BytesMut::new();
        for (i, cell) in cells.enumerate() {
            let (column_type, flags) = self.types.get(i).copied().unwrap_or((0, 0));
            match cell {
                None => {
                    if let Some(b) = bitmap.get_mut((i + 2) / 8) {
                        *b |= 1 << ((i + 2) % 8);
                    }
                }
                Some(text) => write_value(column_type, flags, text, &mut values)?,
            }
        }
        framed(out, seq, |b| {
            b.put_u8(0);
            b.put_slice(&bitmap);
            b.put_slice(&values);
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::rows::write_row;
    use crate::protocol::mysql::consts::column_type as ty;

    #[test]
    fn text_rows_become_bodies_and_back() {
        let payload = b"\x011\xfb\x03abc";
        let body = body_of_text_row(payload, 3).expect("reads");
        assert_eq!(
            body,
            b"\x00\x03\x00\x00\x00\x011\xff\xff\xff\xff\x00\x00\x00\x03abc"
        );
        assert!(body_of_text_row(payload, 2).is_err());
        assert!(body_of_text_row(payload, 4).is_err());
        assert!(body_of_text_row(b"\x05ab", 1).is_err());
        let format = RowFormat {
            binary: false,
            types: vec![(ty::LONG, 0), (ty::VAR_STRING, 0), (ty::DOUBLE, 0)],
            computed_double: vec![false, false, true],
        };
        let mut frames = BytesMut::new();
        write_row(
            &mut frames,
            [Some(&b"1"[..]), None, Some(b"1e+20")].into_iter(),
        );
        let mut out = BytesMut::new();
        let mut seq = 3;
        format
            .convert(&mut frames, &mut out, &mut seq)
            .expect("converts");
        assert_eq!(&out[..], b"\x08\x00\x00\x03\x011\xfb\x041e20");
        assert_eq!(seq, 4);
        assert!(frames.is_empty());
    }

    #[test]
    fn binary_rows_have_a_null_bitmap_offset_by_two() {
        let format = RowFormat {
            binary: true,
            types: vec![(ty::LONG, 0), (ty::VAR_STRING, 0)],
            computed_double: vec![false, false],
        };
        let mut frames = BytesMut::new();
        write_row(&mut frames, [Some(&b"-2"[..]), None].into_iter());
        let mut out = BytesMut::new();
        format
            .convert(&mut frames, &mut out, &mut 1)
            .expect("converts");
        assert_eq!(&out[4..], b"\x00\x08\xfe\xff\xff\xff");
    }
}
