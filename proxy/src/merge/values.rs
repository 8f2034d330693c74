//! Column values decoded by kind, in either wire format: ordering (sort keys, min/max,
//! HAVING) and canonical bytes (group identity, DISTINCT).
//!
//! Both formats of a kind decode to the same [`Value`], so they compare alike; the
//! canonical bytes of a value only need to agree within one column, whose format is fixed.

use std::cmp::Ordering;

use super::datetime;
use super::error::{code, MergeError};
use super::mysql::{time as mysql_time, Collation};
use super::numcmp::{Num, TextNum};
use super::numeric::{BinaryHeader, Numeric};
use super::types::Kind;

/// A decoded, comparable value.
pub(crate) enum Value<'a> {
    /// Integers and oids.
    Int(i64),
    /// `real` (widened exactly) and `double precision`.
    Float(f64),
    /// `numeric`.
    Num(Num<'a>),
    /// Text kinds, in byte order (`char(n)` without trailing spaces); other kinds' bytes.
    Bytes(&'a [u8]),
    /// `bool`.
    Bool(bool),
    /// Date, timestamp, timestamptz or time as a number of days or microseconds.
    Time(i64),
    /// `uuid`.
    Uuid([u8; 16]),
    /// A MySQL string under a collation.
    Collated(&'a [u8], Collation),
}

/// Decodes one non-NULL value of `kind` in text or binary format.
pub(crate) fn decode(kind: Kind, binary: bool, bytes: &[u8]) -> Result<Value<'_>, MergeError> {
    let value = if binary {
        decode_binary(kind, bytes)
    } else {
        decode_text(kind, bytes)
    };
    value.ok_or_else(|| invalid(kind, binary, bytes))
}

fn invalid(kind: Kind, binary: bool, bytes: &[u8]) -> MergeError {
    if binary {
        MergeError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format_args!(
                "invalid binary value of type {} ({} bytes)",
                kind.name(),
                bytes.len()
            ),
        )
    } else {
        MergeError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format_args!(
                "invalid input syntax for type {}: \"{}\"",
                kind.name(),
                String::from_utf8_lossy(bytes)
            ),
        )
    }
}

fn decode_binary(kind: Kind, b: &[u8]) -> Option<Value<'_>> {
    Some(match kind {
        Kind::Int => Value::Int(match b.len() {
            2 => i64::from(i16::from_be_bytes(b.try_into().ok()?)),
            4 => i64::from(i32::from_be_bytes(b.try_into().ok()?)),
            8 => i64::from_be_bytes(b.try_into().ok()?),
            _ => return None,
        }),
        Kind::Oid => Value::Int(i64::from(u32::from_be_bytes(b.try_into().ok()?))),
        Kind::Numeric => Value::Num(Num::Binary(BinaryHeader::parse(b)?)),
        Kind::Float4 => Value::Float(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
        Kind::Float8 => Value::Float(f64::from_be_bytes(b.try_into().ok()?)),
        Kind::Text | Kind::Other => Value::Bytes(b),
        Kind::Bpchar => Value::Bytes(trim_spaces(b)),
        Kind::Bool => match b {
            [v] => Value::Bool(*v != 0),
            _ => return None,
        },
        Kind::Date => Value::Time(match i32::from_be_bytes(b.try_into().ok()?) {
            i32::MIN => i64::MIN,
            i32::MAX => i64::MAX,
            days => i64::from(days),
        }),
        Kind::Timestamp | Kind::Timestamptz | Kind::Time => {
            Value::Time(i64::from_be_bytes(b.try_into().ok()?))
        }
        Kind::Uuid => Value::Uuid(b.try_into().ok()?),
        Kind::Collated(_) | Kind::MyTime => decode_text(kind, b)?,
    })
}

fn decode_text(kind: Kind, b: &[u8]) -> Option<Value<'_>> {
    let text = || std::str::from_utf8(b).ok().map(str::trim);
    Some(match kind {
        Kind::Int => Value::Int(text()?.parse().ok()?),
        Kind::Oid => Value::Int(i64::from(text()?.parse::<u32>().ok()?)),
        Kind::Numeric => Value::Num(match TextNum::parse(b) {
            Some(t) => Num::Text(t),
            None => Num::Exact(Numeric::parse_text(b)?),
        }),
        Kind::Float4 => Value::Float(f64::from(text()?.parse::<f32>().ok()?)),
        Kind::Float8 => Value::Float(text()?.parse().ok()?),
        Kind::Text | Kind::Other => Value::Bytes(b),
        Kind::Bpchar => Value::Bytes(trim_spaces(b)),
        Kind::Bool => Value::Bool(parse_bool(text()?)?),
        Kind::Date => Value::Time(datetime::parse_date(b)?),
        Kind::Timestamp => Value::Time(datetime::parse_timestamp(b, false)?),
        Kind::Timestamptz => Value::Time(datetime::parse_timestamp(b, true)?),
        Kind::Time => Value::Time(datetime::parse_time(b)?),
        Kind::Uuid => Value::Uuid(parse_uuid(text()?)?),
        Kind::Collated(c) => Value::Collated(b, c),
        Kind::MyTime => Value::Time(mysql_time::parse_time(text()?)?),
    })
}

/// `bool` input as PostgreSQL reads it: `t`, `true`, `yes`, `on`, `1` and their opposites
/// (unique prefixes, any case).
fn parse_bool(text: &str) -> Option<bool> {
    let lower = text.to_ascii_lowercase();
    let prefix_of = |word: &str| !lower.is_empty() && word.starts_with(lower.as_str());
    match lower.as_str() {
        "1" | "on" => Some(true),
        "0" | "of" | "off" => Some(false),
        _ if prefix_of("true") || prefix_of("yes") => Some(true),
        _ if prefix_of("false") || prefix_of("no") => Some(false),
        _ => None,
    }
}

/// A uuid's 16 bytes from its hex text (dashes anywhere, braces allowed).
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let hex: Vec<u8> = text.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    &b[..end]
}

/// PostgreSQL's float order: NaN equals NaN and is above everything; -0 = 0.
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl Value<'_> {
    fn as_f64(&self) -> f64 {
        match self {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Num(n) => n.exact().to_f64(),
            _ => f64::NAN,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Int(_) | Value::Float(_) | Value::Num(_) => 0,
            Value::Bytes(_) => 1,
            Value::Bool(_) => 2,
            Value::Time(_) => 3,
            Value::Uuid(_) => 4,
            Value::Collated(..) => 5,
        }
    }
}

/// Orders two values; numbers compare numerically across integer, numeric and float (a
/// float on either side makes it a float comparison, as PostgreSQL casts to `float8`).
/// Values of unrelated kinds (refused before comparing) order by kind, to stay total.
pub(crate) fn compare(a: &Value<'_>, b: &Value<'_>) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(_), Value::Int(_) | Value::Float(_) | Value::Num(_))
        | (Value::Int(_) | Value::Num(_), Value::Float(_)) => cmp_f64(a.as_f64(), b.as_f64()),
        (Value::Num(x), Value::Num(y)) => x.cmp(y),
        (Value::Int(x), Value::Num(y)) => Numeric::from_int(i128::from(*x)).cmp_value(&y.exact()),
        (Value::Num(x), Value::Int(y)) => x.exact().cmp_value(&Numeric::from_int(i128::from(*y))),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Uuid(x), Value::Uuid(y)) => x.cmp(y),
        (Value::Collated(x, c), Value::Collated(y, _)) => c.compare(x, y),
        _ => a.rank().cmp(&b.rank()),
    }
}

/// Appends the canonical bytes of a non-NULL value: equal values of one column (kind and
/// format) give equal bytes. Numeric text loses trailing fractional zeros, binary numeric
/// its display scale; floats map -0 to 0 and every NaN to one; `char(n)` loses trailing
/// spaces; everything else is its bytes.
pub(crate) fn canonical(kind: Kind, binary: bool, bytes: &[u8], out: &mut Vec<u8>) {
    match (kind, binary) {
        (Kind::Numeric, false) if bytes.contains(&b'.') => {
            let mut end = bytes.len();
            while end > 0 && bytes[end - 1] == b'0' {
                end -= 1;
            }
            if end > 0 && bytes[end - 1] == b'.' {
                end -= 1;
            }
            out.extend_from_slice(&bytes[..end]);
        }
        (Kind::Numeric, true) if bytes.len() >= 8 => {
            out.extend_from_slice(&bytes[..6]);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&bytes[8..]);
        }
        (Kind::Float4 | Kind::Float8, false) if bytes == b"-0" => out.push(b'0'),
        (Kind::Float4 | Kind::Float8, true) => match decode_binary(kind, bytes) {
            // -0 matches too.
            Some(Value::Float(0.0)) => out.push(0),
            Some(Value::Float(f)) if f.is_nan() => out.push(1),
            _ => {
                out.push(2);
                out.extend_from_slice(bytes);
            }
        },
        (Kind::Bpchar, _) => out.extend_from_slice(trim_spaces(bytes)),
        (Kind::Collated(c), _) => c.sort_key(bytes, out),
        (Kind::MyTime, _) => match std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| mysql_time::parse_time(t.trim()))
        {
            Some(micros) => out.extend_from_slice(&micros.to_be_bytes()),
            None => out.extend_from_slice(bytes),
        },
        _ => out.extend_from_slice(bytes),
    }
}

/// Appends the canonical identity of a row's cells (length-prefixed, NULLs equal).
pub(crate) fn identity<'a>(
    cells: impl Iterator<Item = (Kind, bool, Option<&'a [u8]>)>,
    out: &mut Vec<u8>,
) {
    let mut scratch = Vec::new();
    for (kind, binary, cell) in cells {
        match cell {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                scratch.clear();
                canonical(kind, binary, bytes, &mut scratch);
                out.extend_from_slice(&(scratch.len() as i32).to_be_bytes());
                out.extend_from_slice(&scratch);
            }
        }
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
