//! The merge engine's value decoding and ordering, exposed for the fuzz targets in
//! `fuzz/` (cargo fuzz builds them outside this crate, so they cannot reach the
//! crate-private `values`). Thin wrappers only: every call goes to the code the engine
//! runs, nothing here is used by the proxy itself.

use std::cmp::Ordering;

use super::mysql::Collation;
use super::numeric::Numeric;
use super::types::Kind;
use super::values;

/// Every kind of column value the engine decodes, in a fixed order: the fuzz input picks
/// one by index ([`kind`]).
const KINDS: &[Kind] = &[
    Kind::Int,
    Kind::Oid,
    Kind::Numeric,
    Kind::Float4,
    Kind::Float8,
    Kind::Text,
    Kind::Bpchar,
    Kind::Bool,
    Kind::Date,
    Kind::Timestamp,
    Kind::Timestamptz,
    Kind::Time,
    Kind::Uuid,
    Kind::Collated(Collation::BinPad),
    Kind::Collated(Collation::GeneralCi),
    Kind::MyTime,
    Kind::Other,
];

/// A column kind picked by a fuzz byte (any byte names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzKind(Kind);

/// The kind number `selector` names (modulo the number of kinds).
pub fn kind(selector: u8) -> FuzzKind {
    FuzzKind(KINDS[usize::from(selector) % KINDS.len()])
}

impl FuzzKind {
    /// Whether the engine orders values of this kind (else it refuses `ORDER BY` on it).
    pub fn ordered(self) -> bool {
        self.0.ordered()
    }

    /// Whether values of the two kinds may be compared with each other.
    pub fn comparable_with(self, other: FuzzKind) -> bool {
        self.0.comparable_with(other.0)
    }

    /// Whether this is a numeric kind.
    pub fn number(self) -> bool {
        self.0.number()
    }

    /// Whether this is a MySQL string under a collation.
    pub fn is_collated(self) -> bool {
        matches!(self.0, Kind::Collated(_))
    }

    /// Whether this is `real` or `double precision`.
    pub fn is_float(self) -> bool {
        matches!(self.0, Kind::Float4 | Kind::Float8)
    }
}

/// Decodes `a` (kind `ka`, format `binary_a`) and `b` as the engine does and orders them
/// with the engine's comparator; `None` when either does not decode (the engine reports
/// `22P02` then).
pub fn compare(
    (ka, binary_a, a): (FuzzKind, bool, &[u8]),
    (kb, binary_b, b): (FuzzKind, bool, &[u8]),
) -> Option<Ordering> {
    let x = values::decode(ka.0, binary_a, a).ok()?;
    let y = values::decode(kb.0, binary_b, b).ok()?;
    Some(values::compare(&x, &y))
}

/// Whether `bytes` decode as a value of `kind`.
pub fn decodes(kind: FuzzKind, binary: bool, bytes: &[u8]) -> bool {
    values::decode(kind.0, binary, bytes).is_ok()
}

/// The canonical bytes (group identity, `DISTINCT`) of one value.
pub fn canonical(kind: FuzzKind, binary: bool, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    values::canonical(kind.0, binary, bytes, &mut out);
    out
}

/// The `numeric` arithmetic of `sum`/`avg`: parses two numerics (text or binary) and runs
/// addition, division, comparison and both output formats on them.
pub fn numeric_arithmetic(a: &[u8], a_binary: bool, b: &[u8], b_binary: bool) {
    let parse = |bytes: &[u8], binary: bool| {
        if binary {
            Numeric::parse_binary(bytes)
        } else {
            Numeric::parse_text(bytes)
        }
    };
    let (Some(x), Some(y)) = (parse(a, a_binary), parse(b, b_binary)) else {
        return;
    };
    let sum = x.add(&y);
    let _ = sum.to_text();
    let mut out = Vec::new();
    sum.write_binary(&mut out);
    let _ = x.cmp_value(&y);
    let _ = x.to_f64();
    if let Some(q) = x.div(&y) {
        let _ = q.to_text();
    }
}
