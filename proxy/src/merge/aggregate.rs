//! Combining partial aggregates column by column: group keys keep their first value,
//! counts add, sums add in their column's type, min/max keep the winning value's bytes;
//! and `avg` from a merged sum and count, as PostgreSQL computes it.

use std::cmp::Ordering;

use shardwire_router::ColumnRole;

use super::describe::Field;
use super::error::{code, MergeError};
use super::float::{format_f32, format_f64};
use super::numeric::Numeric;
use super::order::unsupported;
use super::types::{oid, Kind};
use super::values::{self, Value};

/// How one shard column is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnPlan {
    /// The column's role.
    pub role: ColumnRole,
    /// Its values' kind.
    pub kind: Kind,
    /// Binary format.
    pub binary: bool,
    /// Its type OID.
    pub type_oid: u32,
    /// MySQL: the decimals of a `DECIMAL` column (see [`Field::decimals`]).
    pub decimals: Option<u32>,
}

impl ColumnPlan {
    /// Checks that `role` can be merged on `field`'s type.
    pub(crate) fn new(role: ColumnRole, field: &Field) -> Result<ColumnPlan, MergeError> {
        let kind = field.kind;
        let fits = match role {
            ColumnRole::Value => true,
            ColumnRole::Count => kind == Kind::Int,
            ColumnRole::Sum => matches!(
                kind,
                Kind::Int | Kind::Numeric | Kind::Float4 | Kind::Float8
            ),
            ColumnRole::Min | ColumnRole::Max => kind.ordered(),
        };
        if !fits {
            let what = match role {
                ColumnRole::Count => "count()",
                ColumnRole::Sum => "sum()",
                ColumnRole::Min => "min()",
                _ => "max()",
            };
            return Err(unsupported(what, &field.display_name(), field.type_oid));
        }
        Ok(ColumnPlan {
            role,
            kind,
            binary: field.binary(),
            type_oid: field.type_oid,
            decimals: field.decimals,
        })
    }

    /// An empty accumulator for this column.
    pub(crate) fn start(&self) -> Acc {
        match (self.role, self.kind) {
            (ColumnRole::Value, _) => Acc::Key(None),
            (ColumnRole::Count, _) => Acc::Count(0),
            (ColumnRole::Sum, Kind::Int) => Acc::SumInt(None),
            (ColumnRole::Sum, Kind::Numeric) => Acc::SumNumeric(None),
            (ColumnRole::Sum, _) => Acc::SumFloat(None),
            (ColumnRole::Min | ColumnRole::Max, _) => Acc::Extreme(None),
        }
    }

    fn decode<'a>(&self, bytes: &'a [u8]) -> Result<Value<'a>, MergeError> {
        values::decode(self.kind, self.binary, bytes)
    }
}

/// One column of a group, being merged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Acc {
    /// A group key: the first value seen.
    Key(Option<Vec<u8>>),
    /// Counted rows.
    Count(i64),
    /// Sum of integers (an `int8` sum of `int2`/`int4`).
    SumInt(Option<i128>),
    /// Sum of numerics.
    SumNumeric(Option<Numeric>),
    /// Sum of floats.
    SumFloat(Option<f64>),
    /// The least (min) or greatest (max) value's bytes.
    Extreme(Option<Vec<u8>>),
}

fn out_of_range(what: &str) -> MergeError {
    MergeError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, what)
}

impl Acc {
    /// Adds one shard's partial value.
    pub(crate) fn absorb(
        &mut self,
        plan: &ColumnPlan,
        cell: Option<&[u8]>,
    ) -> Result<(), MergeError> {
        match self {
            Acc::Key(first) => {
                if first.is_none() {
                    *first = cell.map(<[u8]>::to_vec);
                }
                return Ok(());
            }
            Acc::Extreme(best) => {
                let Some(new) = cell else { return Ok(()) };
                let wanted = if plan.role == ColumnRole::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                let wins = match best {
                    None => true,
                    Some(old) => values::compare(&plan.decode(new)?, &plan.decode(old)?) == wanted,
                };
                if wins {
                    *best = Some(new.to_vec());
                }
                return Ok(());
            }
            _ => {}
        }
        let Some(bytes) = cell else { return Ok(()) };
        let value = plan.decode(bytes)?;
        match (self, value) {
            (Acc::Count(n), Value::Int(v)) => {
                *n = n
                    .checked_add(v)
                    .ok_or_else(|| out_of_range("bigint out of range"))?;
            }
            (Acc::SumInt(sum), Value::Int(v)) => {
                *sum = Some(sum.unwrap_or(0) + i128::from(v));
            }
            (Acc::SumNumeric(sum), Value::Num(v)) => {
                let v = v.exact();
                *sum = Some(match sum.take() {
                    None => v,
                    Some(s) => s.add(&v),
                });
            }
            (Acc::SumFloat(sum), Value::Float(v)) => {
                *sum = Some(match *sum {
                    None => v,
                    Some(s) => {
                        let total = s + v;
                        if total.is_infinite() && s.is_finite() && v.is_finite() {
                            return Err(out_of_range("value out of range: overflow"));
                        }
                        total
                    }
                });
            }
            _ => return Err(MergeError::misuse("accumulator of another kind")),
        }
        Ok(())
    }

    /// The merged value in the column's type and format.
    pub(crate) fn finish(&self, plan: &ColumnPlan) -> Result<Option<Vec<u8>>, MergeError> {
        Ok(match self {
            Acc::Key(v) | Acc::Extreme(v) => v.clone(),
            Acc::Count(n) => Some(encode_int(i128::from(*n), plan.type_oid, plan.binary)?),
            Acc::SumInt(sum) => sum
                .map(|s| encode_int(s, plan.type_oid, plan.binary))
                .transpose()?,
            Acc::SumNumeric(sum) => sum.as_ref().map(|n| encode_numeric(n, plan.binary)),
            Acc::SumFloat(sum) => sum
                .map(|s| match plan.kind {
                    Kind::Float4 => {
                        let v = s as f32;
                        if v.is_infinite() && s.is_finite() {
                            return Err(out_of_range("value out of range: overflow"));
                        }
                        Ok(if plan.binary {
                            v.to_be_bytes().to_vec()
                        } else {
                            format_f32(v).into_bytes()
                        })
                    }
                    _ => Ok(encode_f64(s, plan.binary)),
                })
                .transpose()?,
        })
    }

    /// A count accumulator's value.
    pub(crate) fn count(&self) -> Option<i64> {
        match self {
            Acc::Count(n) => Some(*n),
            _ => None,
        }
    }
}

/// The value of a merged `avg`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Average {
    /// `numeric` (sums of integers and numerics).
    Numeric(Numeric),
    /// `double precision` (sums of floats).
    Float(f64),
}

impl Average {
    /// Encodes in text or binary.
    pub(crate) fn encode(&self, binary: bool) -> Vec<u8> {
        match self {
            Average::Numeric(n) => encode_numeric(n, binary),
            Average::Float(f) => encode_f64(*f, binary),
        }
    }
}

/// Largest scale of a MariaDB `DECIMAL` (`DECIMAL_MAX_SCALE`).
const MYSQL_MAX_SCALE: u32 = 38;
/// Digits MariaDB adds to an average's scale (`div_precision_increment`'s default).
const MYSQL_AVG_INCREMENT: u32 = 4;

/// `avg` = merged sum / merged count: NULL for no rows; `float8` for float sums, else
/// `numeric_div` with PostgreSQL's result scale — or, for a MySQL sum column with
/// `decimals` d, MariaDB's: d + 4 digits (at most 38), rounded half away from zero.
pub(crate) fn average(
    sum: &Acc,
    count: &Acc,
    decimals: Option<u32>,
) -> Result<Option<Average>, MergeError> {
    let n = match count.count() {
        Some(0) | None => return Ok(None),
        Some(n) => n,
    };
    let divide = |s: &Numeric| {
        let n = Numeric::from_int(i128::from(n));
        match decimals {
            None => s.div(&n),
            Some(d) => s.div_scaled(&n, (d + MYSQL_AVG_INCREMENT).min(MYSQL_MAX_SCALE)),
        }
        .map(Average::Numeric)
        .ok_or_else(|| MergeError::new(code::DIVISION_BY_ZERO, "division by zero"))
    };
    Ok(match sum {
        Acc::SumInt(Some(s)) => Some(divide(&Numeric::from_int(*s))?),
        Acc::SumNumeric(Some(s)) => Some(divide(s)?),
        Acc::SumFloat(Some(s)) => Some(Average::Float(s / n as f64)),
        _ => None,
    })
}

/// An integer in type `type_oid` (int2/int4/int8), range-checked.
fn encode_int(v: i128, type_oid: u32, binary: bool) -> Result<Vec<u8>, MergeError> {
    let (width, name) = match type_oid {
        oid::INT2 => (2, "smallint"),
        oid::INT4 => (4, "integer"),
        _ => (8, "bigint"),
    };
    let bits = width * 8;
    let (min, max) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
    if v < min || v > max {
        return Err(out_of_range(&format!("{name} out of range")));
    }
    Ok(if binary {
        v.to_be_bytes()[16 - width..].to_vec()
    } else {
        v.to_string().into_bytes()
    })
}

fn encode_numeric(n: &Numeric, binary: bool) -> Vec<u8> {
    if binary {
        let mut out = Vec::new();
        n.write_binary(&mut out);
        out
    } else {
        n.to_text().into_bytes()
    }
}

fn encode_f64(v: f64, binary: bool) -> Vec<u8> {
    if binary {
        v.to_be_bytes().to_vec()
    } else {
        format_f64(v).into_bytes()
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
