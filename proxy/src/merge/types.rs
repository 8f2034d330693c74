//! The column types the merge understands, by PostgreSQL type OID.
//!
//! A shard's RowDescription names each column's type; the engine maps it to a [`Kind`],
//! which says how values decode, compare and sum. Types outside this list still pass
//! through and group by their bytes, but cannot be sorted, compared or summed.
//!
//! The MySQL merge maps column definitions to the same kinds, plus two of its own:
//! strings under a collation ([`Kind::Collated`]) and MySQL's `TIME`.

use super::mysql::Collation;

/// PostgreSQL type OIDs (`pg_type.dat`) the merge reads.
pub mod oid {
    /// `bool`.
    pub const BOOL: u32 = 16;
    /// `name`.
    pub const NAME: u32 = 19;
    /// `bigint`.
    pub const INT8: u32 = 20;
    /// `smallint`.
    pub const INT2: u32 = 21;
    /// `integer`.
    pub const INT4: u32 = 23;
    /// `text`.
    pub const TEXT: u32 = 25;
    /// `oid`.
    pub const OID: u32 = 26;
    /// `real`.
    pub const FLOAT4: u32 = 700;
    /// `double precision`.
    pub const FLOAT8: u32 = 701;
    /// `char(n)`.
    pub const BPCHAR: u32 = 1042;
    /// `varchar(n)`.
    pub const VARCHAR: u32 = 1043;
    /// `date`.
    pub const DATE: u32 = 1082;
    /// `time`.
    pub const TIME: u32 = 1083;
    /// `timestamp`.
    pub const TIMESTAMP: u32 = 1114;
    /// `timestamptz`.
    pub const TIMESTAMPTZ: u32 = 1184;
    /// `numeric`.
    pub const NUMERIC: u32 = 1700;
    /// `uuid`.
    pub const UUID: u32 = 2950;
}

/// How the values of a column decode and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `smallint`, `integer`, `bigint` (binary: by length).
    Int,
    /// `oid` (unsigned 32-bit).
    Oid,
    /// `numeric`.
    Numeric,
    /// `real`.
    Float4,
    /// `double precision`.
    Float8,
    /// `text`, `varchar`, `name`: byte order (C collation).
    Text,
    /// `char(n)`: byte order, trailing spaces ignored.
    Bpchar,
    /// `bool`.
    Bool,
    /// `date`: days since 2000-01-01.
    Date,
    /// `timestamp`: microseconds since 2000-01-01.
    Timestamp,
    /// `timestamptz`: microseconds since 2000-01-01 UTC.
    Timestamptz,
    /// `time`: microseconds since midnight.
    Time,
    /// `uuid`: its 16 bytes.
    Uuid,
    /// MySQL strings compared under a collation (PAD SPACE).
    Collated(Collation),
    /// MySQL `TIME` text (`[-]HHH:MM:SS[.ffffff]`): microseconds, may be negative.
    MyTime,
    /// Anything else: passed through and grouped by bytes only.
    Other,
}

impl Kind {
    /// The kind of values of type `type_oid`.
    pub(crate) fn of(type_oid: u32) -> Kind {
        match type_oid {
            oid::INT2 | oid::INT4 | oid::INT8 => Kind::Int,
            oid::OID => Kind::Oid,
            oid::NUMERIC => Kind::Numeric,
            oid::FLOAT4 => Kind::Float4,
            oid::FLOAT8 => Kind::Float8,
            oid::TEXT | oid::VARCHAR | oid::NAME => Kind::Text,
            oid::BPCHAR => Kind::Bpchar,
            oid::BOOL => Kind::Bool,
            oid::DATE => Kind::Date,
            oid::TIMESTAMP => Kind::Timestamp,
            oid::TIMESTAMPTZ => Kind::Timestamptz,
            oid::TIME => Kind::Time,
            oid::UUID => Kind::Uuid,
            _ => Kind::Other,
        }
    }

    /// Whether values of this kind can be ordered (sort keys, min/max, HAVING).
    pub(crate) fn ordered(self) -> bool {
        self != Kind::Other
    }

    /// Whether this is a number (they compare with each other numerically).
    pub(crate) fn number(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Oid | Kind::Numeric | Kind::Float4 | Kind::Float8
        )
    }

    /// Whether values of kinds `self` and `other` can be compared with each other.
    pub(crate) fn comparable_with(self, other: Kind) -> bool {
        let text = |k: Kind| matches!(k, Kind::Text | Kind::Bpchar);
        (self.number() && other.number())
            || (text(self) && text(other))
            || (self == other && self.ordered())
    }

    /// The kind's name in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Int => "integer",
            Kind::Oid => "oid",
            Kind::Numeric => "numeric",
            Kind::Float4 => "real",
            Kind::Float8 => "double precision",
            Kind::Text => "text",
            Kind::Bpchar => "character",
            Kind::Bool => "boolean",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::Timestamptz => "timestamp with time zone",
            Kind::Time => "time",
            Kind::Uuid => "uuid",
            Kind::Collated(c) => c.name(),
            Kind::MyTime => "time",
            Kind::Other => "other",
        }
    }
}
