//! Shard-key values in text form: parsing them the way PostgreSQL's input functions do and
//! mapping them to shards.
//!
//! Values arrive as literals of the statement text, text-format Bind parameters or array
//! elements; the key's configured type decides how they are read: integers as
//! `int8in` reads them (surrounding whitespace, a sign, digits, and PostgreSQL 16's
//! `0x`/`0o`/`0b` prefixes and `_` separators), text as its bytes, uuids as `uuid_in`
//! reads them ([`parse_uuid`]). A value of the wrong shape is an error here, before any
//! backend sees it: never a guess at a shard.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;

use crate::error::{sqlstate, RouteError};
use crate::hash::{parse_uuid, shard_of, ShardKey};

/// Why a value is not a valid shard key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueError {
    /// Not a valid value of the key's type (`22P02`); the value, shortened.
    Invalid(String),
    /// An integer outside the `bigint` range (`22003`); the value, shortened.
    OutOfRange(String),
    /// A binary-format value of the wrong size or type (`22P03`); what is wrong.
    Binary(String),
}

impl ValueError {
    /// An [`ValueError::Invalid`] for `bytes`.
    pub fn invalid(bytes: &[u8]) -> ValueError {
        ValueError::Invalid(shorten(bytes))
    }
}

/// Where a text value came from, which matters for one case: a numeric literal is never a
/// valid uuid, though its digits might spell one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOrigin {
    /// A numeric literal (`42`, `-5`).
    Number,
    /// A string literal, a text-format parameter or an array element.
    Text,
}

/// The shard of the key whose text form is `text`, read as `key_type`.
pub(crate) fn shard_of_text(
    text: &[u8],
    origin: TextOrigin,
    key_type: KeyType,
    shards: NonZeroU32,
) -> Result<u32, ValueError> {
    let key = match key_type {
        KeyType::Bigint | KeyType::Integer | KeyType::Smallint => ShardKey::Int(parse_int(text)?),
        KeyType::Text => ShardKey::Text(text),
        KeyType::Uuid => {
            let parsed = match origin {
                TextOrigin::Text => std::str::from_utf8(text).ok().and_then(parse_uuid),
                TextOrigin::Number => None,
            };
            ShardKey::Uuid(parsed.ok_or_else(|| ValueError::invalid(text))?)
        }
    };
    Ok(shard_of(&key, shards))
}

/// Parses an integer as PostgreSQL 16's `int8in` does.
pub(crate) fn parse_int(text: &[u8]) -> Result<i64, ValueError> {
    // The common case first: plain decimal digits that cannot overflow.
    if !text.is_empty() && text.len() <= 18 && text.iter().all(u8::is_ascii_digit) {
        return Ok(text.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')));
    }
    let invalid = || ValueError::invalid(text);
    let trimmed = text.trim_ascii();
    let (negative, unsigned) = match trimmed {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, trimmed),
    };
    let (radix, digits) = match unsigned {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        _ => (10, unsigned),
    };
    if digits.is_empty() || digits.first() == Some(&b'_') || digits.last() == Some(&b'_') {
        return Err(invalid());
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let mut previous_underscore = false;
    for &b in digits {
        if b == b'_' {
            if previous_underscore {
                return Err(invalid());
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        let digit = (b as char).to_digit(radix).ok_or_else(invalid)?;
        match magnitude
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(u64::from(digit)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
    }
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    match value {
        Some(value) if !overflow => Ok(value),
        _ => Err(ValueError::OutOfRange(shorten(text))),
    }
}

/// The client's error for a key value of the wrong shape; `whose` says which key it is
/// (`shard key "id" of table "t", parameter $2`).
pub(crate) fn key_value_error(error: ValueError, key_type: KeyType, whose: &str) -> RouteError {
    match error {
        ValueError::Invalid(value) => RouteError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format_args!("invalid input syntax for type {key_type}: \"{value}\" ({whose})"),
        ),
        ValueError::OutOfRange(value) => RouteError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format_args!("value \"{value}\" is out of range for type bigint ({whose})"),
        ),
        ValueError::Binary(detail) => RouteError::new(
            sqlstate::INVALID_BINARY_REPRESENTATION,
            format_args!("incorrect binary data format ({whose}): {detail}"),
        ),
    }
}

/// A value for an error message: lossy UTF-8, at most 64 characters.
pub(crate) fn shorten(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_int8in() {
        for (text, value) in [
            ("42", 42),
            ("  -42 ", -42),
            ("+7", 7),
            ("0x1F", 31),
            ("-0o17", -15),
            ("0b101", 5),
            ("1_000_000", 1_000_000),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(parse_int(text.as_bytes()), Ok(value), "{text}");
        }
    }

    #[test]
    fn malformed_integers_are_invalid_and_huge_ones_out_of_range() {
        for text in [
            "", "-", "1.5", "1e3", "abc", "1__0", "_1", "1_", "0x", "12a", "1 2",
        ] {
            assert_eq!(
                parse_int(text.as_bytes()),
                Err(ValueError::Invalid(text.to_owned())),
                "{text:?}"
            );
        }
        for text in [
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999",
        ] {
            assert_eq!(
                parse_int(text.as_bytes()),
                Err(ValueError::OutOfRange(text.to_owned())),
                "{text}"
            );
        }
    }

    #[test]
    fn uuids_must_be_strings() {
        let two = NonZeroU32::new(2).expect("non-zero");
        let digits = b"a0eebc999c0b4ef8bb6d6bb9bd380a11";
        assert!(shard_of_text(digits, TextOrigin::Text, KeyType::Uuid, two).is_ok());
        let number = b"12345678123456781234567812345678";
        assert!(shard_of_text(number, TextOrigin::Number, KeyType::Uuid, two).is_err());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(100);
        assert_eq!(shorten(long.as_bytes()).chars().count(), 65);
    }
}
