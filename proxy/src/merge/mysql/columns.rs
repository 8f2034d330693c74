//! MySQL column definitions as the merge engine's fields, and the column definitions the
//! client gets.
//!
//! MariaDB does not send a string column's collation: the id in its definition is the
//! result character set's default collation (`utf8mb4_general_ci` for `utf8mb4`), and a
//! binary collation (`*_bin`) shows as the BINARY flag. So a non-binary string column is
//! compared under the default collation of its result character set. Deviation: a
//! column declared with another case-insensitive collation (`utf8mb4_unicode_ci` …)
//! is merged as if it were the default one.
//!
//! A column's kind follows its type, flags and collation: integers (an `UNSIGNED
//! BIGINT` reads as an exact number, beyond `i64`), `DECIMAL` (exact, with its
//! decimals), `FLOAT`/`DOUBLE`, dates and datetimes (fixed-width text, byte order),
//! `TIME` (signed microseconds), binary strings (bytes), and strings under a collation
//! [`Collation`] implements. Strings of any other collation, and `ENUM`/`SET` (which
//! MySQL orders by member index), still pass through, but merging that must order or
//! compare them is refused, naming the column and its collation.

use bytes::BytesMut;

use super::collation::{collation_name, Collation};
use crate::merge::describe::Field;
use crate::merge::error::{code, MergeError};
use crate::merge::types::{oid, Kind};
use crate::protocol::mysql::consts::{charset, column_flag, column_type as ty};
use crate::protocol::mysql::packet::framed;
use crate::protocol::mysql::resultset::{column_def, ColumnDef};

/// `ENUM` flag of a column definition.
const ENUM_FLAG: u16 = 0x0100;
/// `SET` flag of a column definition.
const SET_FLAG: u16 = 0x0800;
/// MariaDB's `DECIMAL_MAX_PRECISION`.
const MAX_PRECISION: u32 = 65;
/// MariaDB's `DECIMAL_MAX_SCALE`.
const MAX_SCALE: u32 = 38;
/// Digits MariaDB adds to a `SUM`'s precision (`DECIMAL_LONGLONG_DIGITS`).
const SUM_EXTRA_DIGITS: u32 = 22;
/// Digits MariaDB adds to an `AVG`'s precision and scale (`div_precision_increment`).
const AVG_EXTRA_DIGITS: u32 = 4;
/// Decimals of a floating-point result (`NOT_FIXED_DEC`).
const NOT_FIXED_DEC: u8 = 31;

/// One shard column: its definition as sent, and what the merge reads from it.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// The column definition payload, forwarded unchanged.
    pub payload: Vec<u8>,
    /// Name, for messages.
    pub name: String,
    /// Type ([`ty`]).
    pub column_type: u8,
    /// Flags.
    pub flags: u16,
    /// Display length.
    pub length: u32,
    /// Decimals.
    pub decimals: u8,
    /// The engine's field.
    pub field: Field,
    /// Why values cannot be ordered (sort keys, `MIN`/`MAX`), if so.
    pub no_order: Option<String>,
    /// Why values cannot be compared for equality (`GROUP BY`, `DISTINCT`), if so.
    pub no_equality: Option<String>,
}

impl Column {
    /// Reads a column definition payload.
    pub(crate) fn parse(payload: &[u8]) -> Result<Column, MergeError> {
        let def =
            ColumnDef::parse(payload).map_err(|_| MergeError::malformed("column definition"))?;
        let name = String::from_utf8_lossy(def.name).into_owned();
        let (kind, type_oid) = kind_of(&def);
        let mut no_order = None;
        let mut no_equality = None;
        if kind == Kind::Other {
            let why = match def.column_type {
                ty::GEOMETRY => "a GEOMETRY column".to_string(),
                _ => format!("collation {}", collation_name(def.charset)),
            };
            no_order = Some(why.clone());
            no_equality = Some(why);
        } else if def.flags & (ENUM_FLAG | SET_FLAG) != 0 {
            no_order = Some("an ENUM/SET column (MySQL orders them by member index)".into());
        }
        let decimals = matches!(def.column_type, ty::DECIMAL | ty::NEWDECIMAL)
            .then_some(u32::from(def.decimals));
        Ok(Column {
            payload: payload.to_vec(),
            field: Field {
                name: def.name.to_vec(),
                table_oid: 0,
                attnum: 0,
                type_oid,
                typlen: -1,
                typmod: -1,
                format: 0,
                kind,
                decimals,
            },
            name,
            column_type: def.column_type,
            flags: def.flags,
            length: def.column_length,
            decimals: def.decimals,
            no_order,
            no_equality,
        })
    }

    /// Fails if `what` needs this column's values ordered.
    pub(crate) fn require_order(&self, what: &str) -> Result<(), MergeError> {
        match &self.no_order {
            None => Ok(()),
            Some(why) => Err(self.refusal(what, why)),
        }
    }

    /// Fails if `what` needs this column's values compared for equality.
    pub(crate) fn require_equality(&self, what: &str) -> Result<(), MergeError> {
        match &self.no_equality {
            None => Ok(()),
            Some(why) => Err(self.refusal(what, why)),
        }
    }

    fn refusal(&self, what: &str, why: &str) -> MergeError {
        MergeError::new(
            code::FEATURE_NOT_SUPPORTED,
            format_args!(
                "cannot merge {what} on column `{}` across shards: the proxy does not \
                 implement the comparison of {why}",
                self.name
            ),
        )
    }

    /// Whether values are floating-point numbers.
    pub(crate) fn is_float(&self) -> bool {
        self.field.kind == Kind::Float8
    }

    /// Appends this definition as a packet.
    pub(crate) fn write(&self, out: &mut BytesMut, seq: &mut u8) {
        framed(out, seq, |b| b.extend_from_slice(&self.payload));
    }
}

/// The engine kind and a PostgreSQL type OID standing for the column's type (what the
/// engine encodes merged counts and sums as).
fn kind_of(def: &ColumnDef<'_>) -> (Kind, u32) {
    let unsigned = def.flags & column_flag::UNSIGNED != 0;
    match def.column_type {
        ty::LONGLONG if unsigned => (Kind::Numeric, oid::NUMERIC),
        ty::TINY | ty::SHORT | ty::LONG | ty::INT24 | ty::LONGLONG | ty::YEAR => {
            (Kind::Int, oid::INT8)
        }
        ty::DECIMAL | ty::NEWDECIMAL => (Kind::Numeric, oid::NUMERIC),
        ty::FLOAT | ty::DOUBLE => (Kind::Float8, oid::FLOAT8),
        ty::TIME | ty::TIME2 => (Kind::MyTime, oid::TIME),
        ty::DATE
        | ty::NEWDATE
        | ty::DATETIME
        | ty::DATETIME2
        | ty::TIMESTAMP
        | ty::TIMESTAMP2
        | ty::NULL
        | ty::BIT => (Kind::Text, oid::TEXT),
        ty::GEOMETRY => (Kind::Other, 0),
        _ if def.charset == u16::from(charset::BINARY) => (Kind::Text, oid::TEXT),
        // The id is the result character set's default collation, not the column's:
        // a binary collation shows only as the BINARY flag.
        _ if def.flags & column_flag::BINARY != 0 => (Kind::Collated(Collation::BinPad), oid::TEXT),
        _ => match Collation::of(def.charset) {
            Some(c) => (Kind::Collated(c), oid::TEXT),
            None => (Kind::Other, 0),
        },
    }
}

/// The definition of `AVG(x)` as MariaDB describes it, from that of the shard's
/// `SUM(x)`: `DECIMAL` with 4 more decimals (at most 38) and 4 more digits (at most
/// 65) over a `DECIMAL` sum, else `DOUBLE`. The name is the sum column's (its alias).
///
/// Deviation: a `SUM` of `FLOAT` and of `DOUBLE` look alike, so an average of `FLOAT`
/// reports a `DOUBLE`'s display length (23, MariaDB says 16).
pub(crate) fn write_avg(sum: &Column, out: &mut BytesMut, seq: &mut u8) {
    let mut def = ColumnDef {
        schema: b"",
        table: b"",
        org_table: b"",
        name: sum.field.name.as_slice(),
        org_name: b"",
        charset: u16::from(charset::BINARY),
        column_length: 23,
        column_type: ty::DOUBLE,
        flags: column_flag::BINARY,
        decimals: NOT_FIXED_DEC,
    };
    if !sum.is_float() {
        let sum_scale = u32::from(sum.decimals);
        let point = u32::from(sum_scale > 0);
        // SUM: precision + sign + point; its precision is the argument's + 22.
        let sum_precision = sum.length.saturating_sub(1 + point);
        let precision =
            (sum_precision.saturating_sub(SUM_EXTRA_DIGITS) + AVG_EXTRA_DIGITS).min(MAX_PRECISION);
        let scale = (sum_scale + AVG_EXTRA_DIGITS).min(MAX_SCALE);
        def.column_type = ty::NEWDECIMAL;
        def.decimals = scale as u8;
        def.column_length = precision + u32::from(scale > 0) + 1;
    }
    column_def(out, seq, &def);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload of the one packet in `out`.
    fn payload(out: &BytesMut) -> Vec<u8> {
        out.get(4..).unwrap_or_default().to_vec()
    }

    fn def_payload(def: &ColumnDef<'_>) -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut seq = 0;
        column_def(&mut out, &mut seq, def);
        payload(&out)
    }

    fn column(column_type: u8, flags: u16, charset: u16, length: u32, decimals: u8) -> Column {
        let def = ColumnDef {
            charset,
            column_length: length,
            column_type,
            flags,
            decimals,
            ..ColumnDef::text("c")
        };
        Column::parse(&def_payload(&def)).expect("parses")
    }

    #[test]
    fn kinds_follow_type_flags_and_collation() {
        assert_eq!(column(ty::LONG, 0, 63, 11, 0).field.kind, Kind::Int);
        let unsigned = column(ty::LONGLONG, column_flag::UNSIGNED, 63, 20, 0);
        assert_eq!(unsigned.field.kind, Kind::Numeric);
        let dec = column(ty::NEWDECIMAL, 0, 63, 12, 3);
        assert_eq!(dec.field.decimals, Some(3));
        let ci = column(ty::VAR_STRING, 0, 45, 80, 0);
        assert_eq!(ci.field.kind, Kind::Collated(Collation::GeneralCi));
        assert_eq!(column(ty::BLOB, 0, 63, 80, 0).field.kind, Kind::Text);
        assert_eq!(column(ty::TIME, 0, 63, 10, 0).field.kind, Kind::MyTime);
        let unknown = column(ty::VAR_STRING, 0, 224, 80, 0);
        let err = unknown.require_order("ORDER BY").unwrap_err();
        assert_eq!(err.sqlstate, "0A000");
        assert!(err.message.contains("collation id 224"), "{}", err.message);
        assert!(unknown.require_equality("GROUP BY").is_err());
        let e = column(ty::STRING, ENUM_FLAG, 45, 4, 0);
        assert!(e.require_order("ORDER BY").is_err());
        assert!(e.require_equality("DISTINCT").is_ok());
    }

    #[test]
    fn averages_are_described_as_mariadb_does() {
        // SUM(int) is DECIMAL(32,0) length 33 → AVG DECIMAL length 16, 4 decimals.
        let cases = [
            (33, 0, 16, 4),
            (34, 3, 16, 7),
            (26, 0, 9, 4),
            (43, 0, 26, 4),
        ];
        for (sum_len, sum_dec, len, dec) in cases {
            let sum = column(ty::NEWDECIMAL, column_flag::BINARY, 63, sum_len, sum_dec);
            let mut out = BytesMut::new();
            let mut seq = 0;
            write_avg(&sum, &mut out, &mut seq);
            let bytes = payload(&out);
            let avg = ColumnDef::parse(&bytes).expect("parses");
            assert_eq!(avg.column_type, ty::NEWDECIMAL);
            assert_eq!((avg.column_length, avg.decimals), (len, dec));
        }
        let sum = column(ty::DOUBLE, column_flag::BINARY, 63, 23, 31);
        let mut out = BytesMut::new();
        write_avg(&sum, &mut out, &mut 0);
        let avg = payload(&out);
        assert_eq!(
            ColumnDef::parse(&avg).expect("parses").column_type,
            ty::DOUBLE
        );
    }
}
