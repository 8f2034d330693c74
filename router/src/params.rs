//! Bind parameters: how the proxy hands them to the router, and how binary-format values
//! become shard keys.
//!
//! The proxy implements [`ParamSource`] over a Bind message's bytes, so resolving a
//! prepared statement's shard copies nothing. Text-format values are read like literals
//! ([`value`](crate::value)); binary-format ones by the parameter's type OID, or by their
//! length when the client left the type unspecified (OID 0): 2, 4 or 8 bytes for the
//! integer types, 16 for uuid, the raw bytes for text.
//!
//! MySQL's prepared statements (`COM_STMT_EXECUTE`) use the same [`ParamValue`], with no
//! field added: the router numbers the `?`s of the statement text 1, 2 … in order of
//! appearance, and [`ParamSource::param`]`(n)` must give the value of the n-th `?`. The
//! MySQL frontend converts each value to what this module already reads, which keeps
//! MySQL's wire types out of the router:
//! - integers (`TINY`, `SHORT`, `LONG`, `LONGLONG`, `INT24`, little-endian, signed or
//!   unsigned by the parameter's flag): rendered as decimal text, [`ParamValue::text`]
//!   (an unsigned value above `i64::MAX` is then `22003` for an integer key, as it
//!   should be);
//! - strings and decimals (`VAR_STRING`, `STRING`, `VARCHAR`, `BLOB` …, `NEWDECIMAL`: a
//!   length-prefixed byte string on the wire): the bytes as a text-format value
//!   (`ParamValue { bytes: Some(b), binary: false, type_oid: 0 }`), read like a string
//!   literal — `'42'` for an integer key, a 36-character uuid for a uuid key;
//! - `NULL` (the null bitmap): [`ParamValue::null`], shard 0;
//! - other types (floats, dates) are no valid shard key: passing them as text makes the
//!   router refuse them (`22P02`) rather than guess.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;

use crate::hash::{shard_of, ShardKey};
use crate::value::{shard_of_text, TextOrigin, ValueError};

/// PostgreSQL type OIDs (`pg_type.dat`) the router reads.
pub mod oid {
    /// `smallint`.
    pub const INT2: u32 = 21;
    /// `integer`.
    pub const INT4: u32 = 23;
    /// `bigint`.
    pub const INT8: u32 = 20;
    /// `text`.
    pub const TEXT: u32 = 25;
    /// `varchar`.
    pub const VARCHAR: u32 = 1043;
    /// `char(n)` / `bpchar`.
    pub const BPCHAR: u32 = 1042;
    /// `name`.
    pub const NAME: u32 = 19;
    /// `unknown` (untyped literal).
    pub const UNKNOWN: u32 = 705;
    /// `uuid`.
    pub const UUID: u32 = 2950;
    /// `smallint[]`.
    pub const INT2_ARRAY: u32 = 1005;
    /// `integer[]`.
    pub const INT4_ARRAY: u32 = 1007;
    /// `bigint[]`.
    pub const INT8_ARRAY: u32 = 1016;
    /// `text[]`.
    pub const TEXT_ARRAY: u32 = 1009;
    /// `varchar[]`.
    pub const VARCHAR_ARRAY: u32 = 1015;
    /// `uuid[]`.
    pub const UUID_ARRAY: u32 = 2951;
}

/// Where a plan's `$n` values come from at resolve time. The proxy implements it over a
/// Bind message without copying.
pub trait ParamSource {
    /// Parameter `$n` (1-based); `None` if the message has no such parameter.
    fn param(&self, n: u16) -> Option<ParamValue<'_>>;
}

/// One Bind parameter, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    /// The value's bytes; `None` for SQL `NULL`.
    pub bytes: Option<&'a [u8]>,
    /// Binary format (format code 1) rather than text (0).
    pub binary: bool,
    /// The parameter's type OID from Parse; 0 when unspecified.
    pub type_oid: u32,
}

impl<'a> ParamValue<'a> {
    /// A text-format value of unspecified type.
    pub fn text(text: &'a str) -> ParamValue<'a> {
        ParamValue {
            bytes: Some(text.as_bytes()),
            binary: false,
            type_oid: 0,
        }
    }

    /// A binary-format value of type `type_oid`.
    pub fn binary(bytes: &'a [u8], type_oid: u32) -> ParamValue<'a> {
        ParamValue {
            bytes: Some(bytes),
            binary: true,
            type_oid,
        }
    }

    /// SQL `NULL`.
    pub fn null() -> ParamValue<'a> {
        ParamValue {
            bytes: None,
            binary: false,
            type_oid: 0,
        }
    }
}

/// No parameters at all: the simple query protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoParams;

impl ParamSource for NoParams {
    fn param(&self, _n: u16) -> Option<ParamValue<'_>> {
        None
    }
}

impl ParamSource for [ParamValue<'_>] {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        self.get(usize::from(n).checked_sub(1)?).copied()
    }
}

impl<const N: usize> ParamSource for [ParamValue<'_>; N] {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        self[..].param(n)
    }
}

impl ParamSource for Vec<ParamValue<'_>> {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        self[..].param(n)
    }
}

/// The shard of a scalar parameter used as a key of `key_type`.
pub(crate) fn shard_of_param(
    value: &ParamValue<'_>,
    key_type: KeyType,
    shards: NonZeroU32,
) -> Result<u32, ValueError> {
    match value.bytes {
        None => Ok(shard_of(&ShardKey::Null, shards)),
        Some(bytes) if !value.binary => shard_of_text(bytes, TextOrigin::Text, key_type, shards),
        Some(bytes) => shard_of_binary(bytes, value.type_oid, key_type, shards),
    }
}

/// Whether values of type `type_oid` are sent as plain text bytes in binary format.
fn is_text_type(type_oid: u32) -> bool {
    matches!(
        type_oid,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN
    )
}

/// The shard of a binary-format value of type `type_oid` (0 = unspecified).
pub(crate) fn shard_of_binary(
    bytes: &[u8],
    type_oid: u32,
    key_type: KeyType,
    shards: NonZeroU32,
) -> Result<u32, ValueError> {
    if is_text_type(type_oid) {
        return shard_of_text(bytes, TextOrigin::Text, key_type, shards);
    }
    let wrong = || {
        ValueError::Binary(format!(
            "{} bytes of type OID {type_oid} for a {key_type} key",
            bytes.len()
        ))
    };
    let key = match key_type {
        KeyType::Bigint | KeyType::Integer | KeyType::Smallint => {
            ShardKey::Int(binary_int(bytes, type_oid).ok_or_else(wrong)?)
        }
        KeyType::Text if type_oid == 0 => ShardKey::Text(bytes),
        KeyType::Text => return Err(wrong()),
        KeyType::Uuid => match (type_oid, <[u8; 16]>::try_from(bytes)) {
            (0 | oid::UUID, Ok(uuid)) => ShardKey::Uuid(uuid),
            _ => return Err(wrong()),
        },
    };
    Ok(shard_of(&key, shards))
}

/// A big-endian `int2`/`int4`/`int8`, by type OID or, for OID 0, by length.
fn binary_int(bytes: &[u8], type_oid: u32) -> Option<i64> {
    match (type_oid, bytes.len()) {
        (0 | oid::INT2, 2) => Some(i16::from_be_bytes(bytes.try_into().ok()?).into()),
        (0 | oid::INT4, 4) => Some(i32::from_be_bytes(bytes.try_into().ok()?).into()),
        (0 | oid::INT8, 8) => Some(i64::from_be_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::parse_uuid;

    fn uuid_text(bytes: &[u8]) -> Option<[u8; 16]> {
        parse_uuid(std::str::from_utf8(bytes).ok()?)
    }

    fn two() -> NonZeroU32 {
        NonZeroU32::new(2).expect("non-zero")
    }

    fn int_shard(value: i64) -> u32 {
        shard_of(&ShardKey::Int(value), two())
    }

    #[test]
    fn binary_integers_are_read_by_type_or_by_length() {
        for (bytes, oid) in [
            (7i16.to_be_bytes().to_vec(), oid::INT2),
            (7i32.to_be_bytes().to_vec(), oid::INT4),
            (7i64.to_be_bytes().to_vec(), oid::INT8),
            (7i16.to_be_bytes().to_vec(), 0),
            (7i32.to_be_bytes().to_vec(), 0),
            (7i64.to_be_bytes().to_vec(), 0),
        ] {
            let value = ParamValue::binary(&bytes, oid);
            assert_eq!(
                shard_of_param(&value, KeyType::Bigint, two()),
                Ok(int_shard(7)),
                "{bytes:?} as {oid}"
            );
        }
    }

    #[test]
    fn binary_values_of_the_wrong_size_or_type_are_refused() {
        let four = 7i32.to_be_bytes();
        for (bytes, oid, key_type) in [
            (&four[..], oid::INT8, KeyType::Bigint),
            (&four[..3], 0, KeyType::Bigint),
            (&four[..], oid::UUID, KeyType::Integer),
            (&four[..], oid::INT4, KeyType::Text),
            (&four[..], 0, KeyType::Uuid),
        ] {
            let value = ParamValue::binary(bytes, oid);
            assert!(
                matches!(
                    shard_of_param(&value, key_type, two()),
                    Err(ValueError::Binary(_))
                ),
                "{bytes:?} as {oid} for {key_type}"
            );
        }
    }

    #[test]
    fn null_parameters_land_on_shard_zero() {
        assert_eq!(
            shard_of_param(&ParamValue::null(), KeyType::Uuid, two()),
            Ok(0)
        );
    }

    #[test]
    fn text_typed_binary_values_are_text() {
        let value = ParamValue::binary(b"42", oid::TEXT);
        assert_eq!(
            shard_of_param(&value, KeyType::Bigint, two()),
            Ok(int_shard(42))
        );
        let uuid = b"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        let value = ParamValue::binary(uuid, oid::VARCHAR);
        let expected = shard_of(&ShardKey::Uuid(uuid_text(uuid).expect("uuid")), two());
        assert_eq!(shard_of_param(&value, KeyType::Uuid, two()), Ok(expected));
    }

    #[test]
    fn slices_and_vectors_are_parameter_sources() {
        let params = vec![ParamValue::text("1"), ParamValue::null()];
        assert_eq!(params.param(1), Some(ParamValue::text("1")));
        assert_eq!(params.param(2), Some(ParamValue::null()));
        assert_eq!(params.param(0), None);
        assert_eq!(params.param(3), None);
        assert_eq!(NoParams.param(1), None);
    }
}
