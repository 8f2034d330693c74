//! Literals taken out of a statement by the normalizer, and their values.
//!
//! A [`Literal`] borrows the constant as written in the client's SQL; its value is only
//! computed when a plan needs it (a shard-key value, a transaction id), by the rules of
//! PostgreSQL's scanner: `''` inside standard strings, and the backslash escapes of
//! `E'…'` strings (`\n`, octal, `\x` hex, `\u`/`\U` Unicode with surrogate pairs).
//! MySQL strings (`'…'` and `"…"`) follow MySQL's rules instead, see
//! [`LiteralKind::MySqlString`].

use std::borrow::Cow;

/// A literal taken out of a statement, by reference into the original SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal<'a> {
    /// The literal as written, quotes, `E` prefix and folded sign included.
    pub text: &'a str,
    /// What kind of literal it is.
    pub kind: LiteralKind,
}

/// The kinds of literal the normalizer replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// A numeric constant, possibly with a folded `-` sign.
    Number,
    /// A standard string constant `'…'` (`''` stands for `'`).
    String,
    /// An escape string constant `E'…'` (backslash escapes).
    EscapeString,
    /// A MySQL string constant, `'…'` or `"…"`: a doubled quote stands for one, and `\`
    /// escapes as MySQL defines (`\0 \b \n \r \t \Z`, `\%` and `\_` keep their
    /// backslash, any other character stands for itself).
    MySqlString,
}

impl<'a> Literal<'a> {
    /// The literal's value: the number as written, or the string with its quotes removed
    /// and escapes decoded (as bytes: `E'\377'` need not be UTF-8). `None` for an invalid
    /// escape sequence.
    pub fn value(&self) -> Option<Cow<'a, [u8]>> {
        match self.kind {
            LiteralKind::Number => Some(Cow::Borrowed(self.text.as_bytes())),
            LiteralKind::String => {
                let body = strip_quotes(self.text, 0)?;
                Some(if body.contains("''") {
                    Cow::Owned(body.replace("''", "'").into_bytes())
                } else {
                    Cow::Borrowed(body.as_bytes())
                })
            }
            LiteralKind::EscapeString => {
                decode_escapes(strip_quotes(self.text, 1)?).map(Cow::Owned)
            }
            LiteralKind::MySqlString => mysql_value(self.text),
        }
    }
}

/// The text between the quotes of a string constant with a `prefix`-byte prefix.
fn strip_quotes(text: &str, prefix: usize) -> Option<&str> {
    text.get(prefix..)?.strip_prefix('\'')?.strip_suffix('\'')
}

/// The value of a MySQL string constant (see [`LiteralKind::MySqlString`]); borrowed
/// when it holds no escapes.
fn mysql_value(text: &str) -> Option<Cow<'_, [u8]>> {
    let quote = *text.as_bytes().first()?;
    if !matches!(quote, b'\'' | b'"') || text.len() < 2 || !text.ends_with(quote as char) {
        return None;
    }
    let body = &text.as_bytes()[1..text.len() - 1];
    if !body.iter().any(|&b| b == b'\\' || b == quote) {
        return Some(Cow::Borrowed(body));
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == quote {
            // A doubled quote inside the string (the lexer saw to it that it is one).
            out.push(quote);
            i += 2;
            continue;
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        // A backslash at the very end escaped the closing quote: unterminated.
        let &c = body.get(i + 1)?;
        i += 2;
        match c {
            b'0' => out.push(0),
            b'b' => out.push(0x08),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'Z' => out.push(0x1a),
            // Kept for LIKE patterns, where they mean a literal `%` / `_`.
            b'%' | b'_' => out.extend_from_slice(&[b'\\', c]),
            other => out.push(other),
        }
    }
    Some(Cow::Owned(out))
}

/// Decodes the body of an `E'…'` string as PostgreSQL does.
fn decode_escapes(body: &str) -> Option<Vec<u8>> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            // A doubled quote inside the string.
            out.push(b'\'');
            i += 2;
            continue;
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let &c = bytes.get(i + 1)?;
        i += 2;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'0'..=b'7' => {
                let (value, used) = radix_prefix(&bytes[i - 1..], 8, 3);
                out.push(value as u8);
                i += used - 1;
            }
            b'x' => {
                let (value, used) = radix_prefix(&bytes[i..], 16, 2);
                if used == 0 {
                    out.push(b'x');
                } else {
                    out.push(value as u8);
                    i += used;
                }
            }
            b'u' | b'U' => {
                let width = if c == b'u' { 4 } else { 8 };
                let (mut code, used) = radix_prefix(&bytes[i..], 16, width);
                if used != width {
                    return None;
                }
                i += width;
                if (0xD800..0xDC00).contains(&code) {
                    // A UTF-16 surrogate pair written as two escapes.
                    let low = bytes.get(i..i + 6).filter(|s| s.starts_with(b"\\u"))?;
                    let (low, used) = radix_prefix(&low[2..], 16, 4);
                    if used != 4 || !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                let ch = char::from_u32(code)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// The value of up to `max` leading digits of `radix` in `bytes`, and how many there were.
fn radix_prefix(bytes: &[u8], radix: u32, max: usize) -> (u32, usize) {
    let mut value = 0u32;
    let mut used = 0;
    for &b in bytes.iter().take(max) {
        let Some(digit) = (b as char).to_digit(radix) else {
            break;
        };
        value = value * radix + digit;
        used += 1;
    }
    (value, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, kind: LiteralKind) -> Option<Vec<u8>> {
        Literal { text, kind }.value().map(Cow::into_owned)
    }

    #[test]
    fn numbers_are_their_text_and_strings_lose_their_quotes() {
        assert_eq!(value("-42", LiteralKind::Number), Some(b"-42".to_vec()));
        assert_eq!(value("'a''b'", LiteralKind::String), Some(b"a'b".to_vec()));
        assert_eq!(
            value("E'\\377'", LiteralKind::EscapeString),
            Some(vec![0xff])
        );
        assert_eq!(value("'unterminated", LiteralKind::String), None);
        assert_eq!(value("E'\\", LiteralKind::EscapeString), None);
    }

    #[test]
    fn mysql_strings_decode_mysql_escapes_in_either_quote() {
        let mysql = |text| value(text, LiteralKind::MySqlString);
        assert_eq!(mysql("'plain'"), Some(b"plain".to_vec()));
        assert_eq!(mysql(r#""it's""#), Some(b"it's".to_vec()));
        assert_eq!(mysql(r"'it\'s'"), Some(b"it's".to_vec()));
        assert_eq!(mysql("'a''b'"), Some(b"a'b".to_vec()));
        assert_eq!(mysql(r#""a""b\"""#), Some(b"a\"b\"".to_vec()));
        assert_eq!(
            mysql(r"'\0\b\n\r\t\Z\\\%\_\q'"),
            Some(b"\0\x08\n\r\t\x1a\\\\%\\_q".to_vec())
        );
        assert_eq!(mysql(r"'open\'"), None);
        assert_eq!(mysql("'"), None);
    }
}
