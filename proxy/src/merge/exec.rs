//! Values known only per execution — `LIMIT`, `OFFSET`, `ORDER BY` positions and `HAVING`
//! constants — and how the engine reads them.
//!
//! The plan refers to them by [`ValueRef`]; the executor answers through [`Values`] from
//! the statement's literals or the Bind parameters. Constants ([`ValueRef::Const`]) are
//! read by the engine itself.

use std::borrow::Cow;

use shardwire_router::{Literal, LiteralKind, ValueRef};

use super::error::{code, MergeError};
use super::numeric::Numeric;

/// A value as the executor has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecValue<'a> {
    /// A literal as written in SQL: `10`, `-5`, `1.5`, `'it''s'`, `E'a\n'`, `NULL`.
    Sql(&'a str),
    /// A Bind parameter.
    Param {
        /// The value; `None` for NULL.
        bytes: Option<&'a [u8]>,
        /// Binary format (else text).
        binary: bool,
        /// The parameter's type OID; 0 if unspecified.
        type_oid: u32,
    },
}

/// Where the engine gets the values a plan refers to (the executor implements it over the
/// statement's literals and Bind parameters).
pub trait Values {
    /// The value of `r`; `None` if there is none. [`ValueRef::Const`] never reaches this.
    fn get(&self, r: &ValueRef) -> Option<ExecValue<'_>>;
}

/// No values: for plans that refer to none (or only to constants).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValues;

impl Values for NoValues {
    fn get(&self, _: &ValueRef) -> Option<ExecValue<'_>> {
        None
    }
}

/// A value read for the engine: its bytes (quotes and escapes of SQL strings removed) and
/// format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The bytes; `None` for NULL.
    pub bytes: Option<Vec<u8>>,
    /// Binary format.
    pub binary: bool,
    /// The type OID of a Bind parameter (0 unspecified or a literal).
    pub type_oid: u32,
}

/// Reads `r`.
pub(crate) fn resolve(values: &dyn Values, r: &ValueRef) -> Result<Resolved, MergeError> {
    let value = match r {
        ValueRef::Const(sql) => Some(ExecValue::Sql(sql)),
        other => values.get(other),
    };
    let value = value.ok_or_else(|| {
        MergeError::new(
            code::INTERNAL_ERROR,
            format_args!("no value for {r:?} at execution"),
        )
    })?;
    Ok(match value {
        ExecValue::Param {
            bytes,
            binary,
            type_oid,
        } => Resolved {
            bytes: bytes.map(<[u8]>::to_vec),
            binary,
            type_oid,
        },
        ExecValue::Sql(sql) => Resolved {
            bytes: sql_value(sql)?.map(Cow::into_owned),
            binary: false,
            type_oid: 0,
        },
    })
}

/// The value of a SQL literal; `None` for `NULL`.
fn sql_value(sql: &str) -> Result<Option<Cow<'_, [u8]>>, MergeError> {
    let text = sql.trim();
    if text.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    let kind = if text.starts_with('\'') {
        LiteralKind::String
    } else if text.starts_with("E'") || text.starts_with("e'") {
        LiteralKind::EscapeString
    } else {
        LiteralKind::Number
    };
    Literal { text, kind }.value().map(Some).ok_or_else(|| {
        MergeError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format_args!("invalid literal {text}"),
        )
    })
}

/// An integer value (`LIMIT`, `OFFSET`, a sort position): text (a non-integer number is
/// rounded, as the cast to `bigint` does) or binary int2/int4/int8 by length. `None` for
/// NULL.
pub(crate) fn integer(value: &Resolved) -> Result<Option<i64>, MergeError> {
    let Some(bytes) = &value.bytes else {
        return Ok(None);
    };
    let invalid = || {
        MergeError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format_args!(
                "invalid input syntax for type bigint: \"{}\"",
                String::from_utf8_lossy(bytes)
            ),
        )
    };
    if value.binary {
        let n = match bytes.len() {
            2 => bytes
                .as_slice()
                .try_into()
                .map(i16::from_be_bytes)
                .map(i64::from),
            4 => bytes
                .as_slice()
                .try_into()
                .map(i32::from_be_bytes)
                .map(i64::from),
            _ => bytes.as_slice().try_into().map(i64::from_be_bytes),
        };
        return n.map(Some).map_err(|_| invalid());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| invalid())?.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Some(n));
    }
    match Numeric::parse_text(text.as_bytes()) {
        Some(n @ Numeric::Finite { .. }) => round_to_integer(&n).map(Some).ok_or_else(|| {
            MergeError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range")
        }),
        _ => Err(invalid()),
    }
}

/// Rounds a finite numeric half away from zero to an `i64`.
fn round_to_integer(n: &Numeric) -> Option<i64> {
    let Numeric::Finite { mantissa, scale } = n else {
        return None;
    };
    let unit = num_bigint::BigInt::from(10u32).pow(*scale);
    let half = &unit / 2u32;
    let magnitude = (num_traits::Signed::abs(mantissa) + half) / unit;
    let value = if num_traits::Signed::is_negative(mantissa) {
        -magnitude
    } else {
        magnitude
    };
    i64::try_from(value).ok()
}

/// Which bound a count is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// `LIMIT`.
    Limit,
    /// `OFFSET`.
    Offset,
}

/// A `LIMIT` or `OFFSET` count: non-negative; `None` for NULL.
pub(crate) fn count(
    values: &dyn Values,
    r: &ValueRef,
    bound: Bound,
) -> Result<Option<u64>, MergeError> {
    let Some(n) = integer(&resolve(values, r)?)? else {
        return Ok(None);
    };
    u64::try_from(n).map(Some).map_err(|_| match bound {
        Bound::Limit => MergeError::new(
            code::INVALID_ROW_COUNT_IN_LIMIT,
            "LIMIT must not be negative",
        ),
        Bound::Offset => MergeError::new(
            code::INVALID_ROW_COUNT_IN_OFFSET,
            "OFFSET must not be negative",
        ),
    })
}

/// An `ORDER BY` position (1-based) among `columns` visible columns, as a 0-based index.
pub(crate) fn ordinal(
    values: &dyn Values,
    r: &ValueRef,
    columns: usize,
) -> Result<usize, MergeError> {
    let n = integer(&resolve(values, r)?)?.unwrap_or(0);
    match usize::try_from(n) {
        Ok(i) if (1..=columns).contains(&i) => Ok(i - 1),
        _ => Err(MergeError::new(
            code::INVALID_COLUMN_REFERENCE,
            format_args!("ORDER BY position {n} is not in select list"),
        )),
    }
}
