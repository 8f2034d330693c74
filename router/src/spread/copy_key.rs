//! The shard-key field of one `COPY` data row, read as PostgreSQL's `COPY FROM` reads
//! fields (`CopyReadAttributesText`, `CopyReadAttributesCSV` in `copyfromparse.c`).
//!
//! Text format: fields end at the delimiter unless it is backslash-escaped; a field
//! equal to the null string as written (`\N`) is NULL; otherwise backslash escapes are
//! decoded (`\t`, `\n`, `\\`, octal `\101`, hex `\x41`, any other byte as itself).
//! CSV: fields end at the delimiter outside quotes; inside quotes the escape character
//! before a quote or escape character stands for it; an unquoted field equal to the null
//! string (empty by default) is NULL. Only the key field is decoded; the row itself goes
//! to its shard unchanged.

use std::borrow::Cow;

use super::copy_format::CopyFormat;

/// Why a row has no key field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldError {
    /// The row has fewer fields than the key's position.
    Missing,
    /// A CSV quoted field runs to the end of the row.
    Unterminated,
}

/// The key field (`index`, 0-based) of `row` (its line ending removed): `None` for
/// NULL, else its decoded value.
pub(super) fn key_field<'r>(
    row: &'r [u8],
    format: &CopyFormat,
    index: usize,
) -> Result<Option<Cow<'r, [u8]>>, FieldError> {
    if format.csv {
        csv_field(row, format, index)
    } else {
        let raw = text_field(row, format.delimiter, index).ok_or(FieldError::Missing)?;
        Ok((raw != format.null.as_slice()).then(|| decode_text(raw)))
    }
}

/// The raw bytes of field `index` of a text-format row.
fn text_field(row: &[u8], delimiter: u8, index: usize) -> Option<&[u8]> {
    let mut field = 0;
    let mut start = 0;
    let mut i = 0;
    while i < row.len() {
        let b = row[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        if b == delimiter {
            if field == index {
                return row.get(start..i);
            }
            field += 1;
            start = i + 1;
        }
        i += 1;
    }
    (field == index).then(|| row.get(start..).unwrap_or(b""))
}

/// A text-format field with its backslash escapes decoded.
fn decode_text(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.contains(&b'\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        // A backslash ending the field escapes nothing and is dropped, as PostgreSQL does.
        let Some(&c) = raw.get(i) else { break };
        i += 1;
        let decoded = match c {
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                (value & 0xff) as u8
            }
            b'x' => match raw.get(i).and_then(|&d| hex(d)) {
                Some(first) => {
                    i += 1;
                    match raw.get(i).and_then(|&d| hex(d)) {
                        Some(second) => {
                            i += 1;
                            first * 16 + second
                        }
                        None => first,
                    }
                }
                None => b'x',
            },
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            other => other,
        };
        out.push(decoded);
    }
    Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Field `index` of a CSV row: `None` for NULL, else its value without quotes.
fn csv_field<'r>(
    row: &'r [u8],
    format: &CopyFormat,
    index: usize,
) -> Result<Option<Cow<'r, [u8]>>, FieldError> {
    let (delimiter, quote, escape) = (format.delimiter, format.quote, format.escape);
    let mut field = 0;
    let mut i = 0;
    loop {
        let start = i;
        let mut saw_quote = false;
        let mut value = Vec::new();
        let wanted = field == index;
        // Alternating unquoted and quoted parts, up to a delimiter outside quotes.
        let end = 'field: loop {
            loop {
                let Some(&c) = row.get(i) else {
                    break 'field i;
                };
                i += 1;
                if c == delimiter {
                    break 'field i - 1;
                }
                if c == quote {
                    saw_quote = true;
                    break;
                }
                if wanted {
                    value.push(c);
                }
            }
            loop {
                let Some(&c) = row.get(i) else {
                    return Err(FieldError::Unterminated);
                };
                i += 1;
                if c == escape {
                    if let Some(&next) = row.get(i).filter(|&&n| n == escape || n == quote) {
                        if wanted {
                            value.push(next);
                        }
                        i += 1;
                        continue;
                    }
                }
                if c == quote {
                    break;
                }
                if wanted {
                    value.push(c);
                }
            }
        };
        if wanted {
            let raw = row.get(start..end).unwrap_or(b"");
            if !saw_quote && raw == format.null.as_slice() {
                return Ok(None);
            }
            return Ok(Some(if saw_quote {
                Cow::Owned(value)
            } else {
                Cow::Borrowed(raw)
            }));
        }
        if end >= row.len() {
            return Err(FieldError::Missing);
        }
        field += 1;
    }
}
