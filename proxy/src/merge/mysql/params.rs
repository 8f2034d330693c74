//! A prepared statement's parameters as SQL literals, for a scattered read that the
//! proxy runs on the shards as plain text (`COM_QUERY`).
//!
//! Why text: each shard's rows then come in the text protocol like every other
//! scattered read, so one decoder serves both, and the pooled shard connections need no
//! per-statement preparation. Values keep their meaning: integers and decimals as
//! numbers, doubles in exponent form (a `DOUBLE` literal), dates and times as quoted
//! text (MySQL converts them where they meet a temporal column, as it does a parameter),
//! strings as `_utf8mb4 X'…'` (hex: immune to `NO_BACKSLASH_ESCAPES` and quoting; the
//! introducer gives them the connection's character set), invalid UTF-8 as `X'…'`.
//!
//! [`fill`] puts the literals where the shard text has its `?` markers, skipping
//! quoted strings, quoted identifiers and comments, as MySQL's lexer does.

use std::fmt::Write;

use crate::protocol::mysql::consts::{column_type as ty, PARAM_UNSIGNED};
use crate::protocol::mysql::execute::ParamValue;

/// One parameter: its SQL literal and its value as text (`None` for NULL), which is
/// what the merge reads for `LIMIT ?` and the like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLiteral {
    /// The literal.
    pub sql: String,
    /// The value as text.
    pub text: Option<Vec<u8>>,
}

/// The literal of a parameter of type `t` (flag byte `flag`); `long` is its long data.
pub fn literal(
    t: u8,
    flag: u8,
    value: ParamValue<'_>,
    long: Option<&[u8]>,
) -> Result<ParamLiteral, String> {
    let bytes = match (value, long) {
        (ParamValue::Null, _) => {
            return Ok(ParamLiteral {
                sql: "NULL".into(),
                text: None,
            })
        }
        (ParamValue::LongData, Some(data)) => return Ok(string(data)),
        (ParamValue::LongData, None) => return Err("long data parameter without data".into()),
        (ParamValue::Value(v), _) => v,
    };
    let bad = || format!("malformed value of parameter type {t}");
    let number = |text: String| ParamLiteral {
        sql: text.clone(),
        text: Some(text.into_bytes()),
    };
    let unsigned = flag & PARAM_UNSIGNED != 0;
    let int = |width: usize| -> Result<ParamLiteral, String> {
        let b = bytes.get(..width).ok_or_else(bad)?;
        let mut le = [0u8; 16];
        le[..width].copy_from_slice(b);
        if !unsigned && b.last().is_some_and(|x| x & 0x80 != 0) {
            le[width..].fill(0xFF);
        }
        Ok(number(i128::from_le_bytes(le).to_string()))
    };
    let float = |v: f64| -> Result<ParamLiteral, String> {
        if v.is_finite() {
            Ok(number(format!("{v:e}")))
        } else {
            Err("a parameter is not a finite number".into())
        }
    };
    match t {
        ty::NULL => Ok(ParamLiteral {
            sql: "NULL".into(),
            text: None,
        }),
        ty::TINY => int(1),
        ty::SHORT | ty::YEAR => int(2),
        ty::LONG | ty::INT24 => int(4),
        ty::LONGLONG => int(8),
        ty::FLOAT => {
            let b: [u8; 4] = bytes.try_into().map_err(|_| bad())?;
            float(f64::from(f32::from_le_bytes(b)))
        }
        ty::DOUBLE => {
            let b: [u8; 8] = bytes.try_into().map_err(|_| bad())?;
            float(f64::from_le_bytes(b))
        }
        ty::DATE | ty::DATETIME | ty::TIMESTAMP => {
            let text = datetime_text(bytes, t == ty::DATE).ok_or_else(bad)?;
            Ok(quoted_text(text))
        }
        ty::TIME => Ok(quoted_text(time_text(bytes).ok_or_else(bad)?)),
        ty::DECIMAL | ty::NEWDECIMAL if is_decimal(bytes) => {
            Ok(number(String::from_utf8_lossy(bytes).into_owned()))
        }
        _ => Ok(string(bytes)),
    }
}

fn is_decimal(b: &[u8]) -> bool {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let mut dots = 0;
    !digits.is_empty()
        && digits.first().is_some_and(u8::is_ascii_digit)
        && digits.iter().all(|&c| {
            dots += usize::from(c == b'.');
            c.is_ascii_digit() || c == b'.'
        })
        && dots <= 1
}

/// A string value: `_utf8mb4 X'…'`, or `X'…'` for bytes that are not UTF-8.
fn string(bytes: &[u8]) -> ParamLiteral {
    let mut sql = String::with_capacity(2 * bytes.len() + 12);
    if std::str::from_utf8(bytes).is_ok() {
        sql.push_str("_utf8mb4 ");
    }
    sql.push_str("X'");
    for b in bytes {
        let _ = write!(sql, "{b:02X}");
    }
    sql.push('\'');
    ParamLiteral {
        sql,
        text: Some(bytes.to_vec()),
    }
}

/// A quoted literal of text made by the proxy (digits, `-`, `:`, `.` and spaces only).
fn quoted_text(text: String) -> ParamLiteral {
    ParamLiteral {
        sql: format!("'{text}'"),
        text: Some(text.into_bytes()),
    }
}

fn datetime_text(b: &[u8], date_only: bool) -> Option<String> {
    let (y, mo, d) = match b {
        [] => (0, 0, 0),
        [y0, y1, mo, d, ..] => (u16::from_le_bytes([*y0, *y1]), *mo, *d),
        _ => return None,
    };
    let (h, mi, s) = match b.get(4..7) {
        Some([h, mi, s]) => (*h, *mi, *s),
        _ => (0, 0, 0),
    };
    let us = match b.get(7..11) {
        Some(&[a, b2, c, e]) => u32::from_le_bytes([a, b2, c, e]),
        _ => 0,
    };
    if !matches!(b.len(), 0 | 4 | 7 | 11) {
        return None;
    }
    Some(if date_only {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
    })
}

fn time_text(b: &[u8]) -> Option<String> {
    if !matches!(b.len(), 0 | 8 | 12) {
        return None;
    }
    let negative = b.first().is_some_and(|&n| n != 0);
    let days = match b.get(1..5) {
        Some(&[a, b2, c, d]) => u64::from(u32::from_le_bytes([a, b2, c, d])),
        _ => 0,
    };
    let (h, mi, s) = match b.get(5..8) {
        Some(&[h, mi, s]) => (u64::from(h), mi, s),
        _ => (0, 0, 0),
    };
    let us = match b.get(8..12) {
        Some(&[a, b2, c, d]) => u32::from_le_bytes([a, b2, c, d]),
        _ => 0,
    };
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{:02}:{mi:02}:{s:02}.{us:06}", days * 24 + h))
}

/// `sql` with its `?` markers replaced by `literals`, in order. Fails if the counts
/// differ.
pub fn fill(sql: &str, literals: &[&str]) -> Result<String, String> {
    let bytes = sql.as_bytes();
    let mut out =
        String::with_capacity(sql.len() + literals.iter().map(|l| l.len()).sum::<usize>());
    let mut next = literals.iter();
    let mut at = 0;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i, c),
            b'#' => i = skip_to_line_end(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-')
                && bytes.get(i + 2).is_none_or(|b| b.is_ascii_whitespace()) =>
            {
                i = skip_to_line_end(bytes, i)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql
                    .get(i + 2..)
                    .and_then(|rest| rest.find("*/"))
                    .map_or(bytes.len(), |end| i + 2 + end + 2);
            }
            b'?' => {
                let literal = next.next().ok_or("more ? markers than parameters")?;
                out.push_str(sql.get(at..i).unwrap_or(""));
                out.push_str(literal);
                i += 1;
                at = i;
            }
            _ => i += 1,
        }
    }
    if next.next().is_some() {
        return Err("fewer ? markers than parameters".into());
    }
    out.push_str(sql.get(at..).unwrap_or(""));
    Ok(out)
}

/// The index after the quoted run that starts at `start` with `quote` (backslash
/// escapes in strings, doubled quotes everywhere).
fn skip_quoted(b: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        if c == b'\\' && quote != b'`' {
            i += 2;
        } else if c == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn skip_to_line_end(b: &[u8], start: usize) -> usize {
    b.get(start..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
        .map_or(b.len(), |p| start + p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(t: u8, flag: u8, v: &[u8]) -> String {
        literal(t, flag, ParamValue::Value(v), None)
            .expect("reads")
            .sql
    }

    #[test]
    fn values_become_literals_of_their_type() {
        assert_eq!(lit(ty::LONG, 0, &(-5i32).to_le_bytes()), "-5");
        assert_eq!(
            lit(ty::LONGLONG, PARAM_UNSIGNED, &[0xFF; 8]),
            "18446744073709551615"
        );
        assert_eq!(lit(ty::DOUBLE, 0, &1.5f64.to_le_bytes()), "1.5e0");
        assert_eq!(lit(ty::VAR_STRING, 0, b"a'b"), "_utf8mb4 X'612762'");
        assert_eq!(lit(ty::BLOB, 0, b"\xff"), "X'FF'");
        assert_eq!(lit(ty::NEWDECIMAL, 0, b"-1.50"), "-1.50");
        assert_eq!(
            lit(ty::NEWDECIMAL, 0, b"1;drop"),
            "_utf8mb4 X'313B64726F70'"
        );
        assert_eq!(lit(ty::DATE, 0, &[0xE4, 7, 1, 2]), "'2020-01-02'");
        assert_eq!(
            lit(ty::DATETIME, 0, &[0xE4, 7, 1, 2, 3, 4, 5]),
            "'2020-01-02 03:04:05.000000'"
        );
        assert_eq!(
            lit(ty::TIME, 0, &[1, 1, 0, 0, 0, 1, 0, 1]),
            "'-25:00:01.000000'"
        );
        assert!(literal(ty::LONG, 0, ParamValue::Value(b"\x01"), None).is_err());
        let null = literal(ty::LONG, 0, ParamValue::Null, None).expect("null");
        assert_eq!((null.sql.as_str(), null.text), ("NULL", None));
        assert!(literal(
            ty::DOUBLE,
            0,
            ParamValue::Value(&f64::NAN.to_le_bytes()),
            None
        )
        .is_err());
    }

    #[test]
    fn markers_are_filled_outside_strings_and_comments() {
        let sql =
            "SELECT '?', `a?`, \"it\\\"s?\" FROM t -- ?\nWHERE a = ? /* ? */ AND b IN (?, ?) # ?";
        let filled = fill(sql, &["1", "'x'", "NULL"]).expect("fills");
        assert_eq!(
            filled,
            "SELECT '?', `a?`, \"it\\\"s?\" FROM t -- ?\nWHERE a = 1 /* ? */ AND b IN ('x', NULL) # ?"
        );
        assert!(fill("SELECT ?", &[]).is_err());
        assert!(fill("SELECT 1", &["1"]).is_err());
        assert_eq!(
            fill("SELECT 'unterminated ?", &[]).as_deref(),
            Ok("SELECT 'unterminated ?")
        );
    }
}
