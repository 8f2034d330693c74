//! `HAVING` on merged groups, with SQL's three-valued logic: a comparison with NULL is
//! unknown, and only groups for which the condition is true are kept.
//!
//! The condition is compiled once per execution: values the plan refers to are read, and
//! each constant is decoded as the type of the output it is compared with (numbers compare
//! numerically across integer, numeric and float; text by bytes; dates, times, uuids and
//! booleans by value). Comparisons the engine cannot do exactly are refused up front.

use std::cmp::Ordering;

use shardwire_router::{CompareOp, Condition, Operand};

use super::error::{code, MergeError};
use super::exec::{self, Resolved, Values};
use super::numeric::Numeric;
use super::order::unsupported;
use super::types::Kind;
use super::values::{self, Value};

/// What the condition needs to know about an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputMeta {
    /// Its values' kind.
    pub kind: Kind,
    /// Binary format.
    pub binary: bool,
    /// Its name, for messages.
    pub name: String,
    /// Its type OID, for messages.
    pub type_oid: u32,
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// All must hold.
    And(Vec<Cond>),
    /// One must hold.
    Or(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// `output IS [NOT] NULL`.
    IsNull { output: usize, negated: bool },
    /// A comparison of two sides, at least one an output.
    Compare {
        left: Side,
        op: CompareOp,
        right: Side,
    },
    /// Known without looking at the group (a comparison with NULL, or of two constants).
    Fixed(Option<bool>),
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Side {
    /// An output.
    Output(usize),
    /// A constant, to decode as `kind`.
    Const {
        bytes: Vec<u8>,
        kind: Kind,
        binary: bool,
    },
}

/// An operand read for compilation.
enum Read {
    Output(usize),
    Value(Resolved),
    Null,
}

/// Compiles `condition` over `outputs`.
pub(crate) fn compile(
    condition: &Condition,
    outputs: &[OutputMeta],
    values: &dyn Values,
) -> Result<Cond, MergeError> {
    let all = |cs: &[Condition]| {
        cs.iter()
            .map(|c| compile(c, outputs, values))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match condition {
        Condition::And(cs) => Cond::And(all(cs)?),
        Condition::Or(cs) => Cond::Or(all(cs)?),
        Condition::Not(c) => Cond::Not(Box::new(compile(c, outputs, values)?)),
        Condition::IsNull { output, negated } => {
            meta(outputs, *output)?;
            Cond::IsNull {
                output: *output,
                negated: *negated,
            }
        }
        Condition::Compare { left, op, right } => {
            let read = |o: &Operand| -> Result<Read, MergeError> {
                Ok(match o {
                    Operand::Output(i) => {
                        meta(outputs, *i)?;
                        Read::Output(*i)
                    }
                    Operand::Value(r) => match exec::resolve(values, r)? {
                        Resolved { bytes: None, .. } => Read::Null,
                        resolved => Read::Value(resolved),
                    },
                    Operand::Null => Read::Null,
                })
            };
            compare(read(left)?, *op, read(right)?, outputs)?
        }
    })
}

fn meta(outputs: &[OutputMeta], i: usize) -> Result<&OutputMeta, MergeError> {
    outputs.get(i).ok_or_else(|| {
        MergeError::new(
            code::INTERNAL_ERROR,
            format_args!("HAVING refers to output {i} of {}", outputs.len()),
        )
    })
}

fn compare(
    left: Read,
    op: CompareOp,
    right: Read,
    outputs: &[OutputMeta],
) -> Result<Cond, MergeError> {
    Ok(match (left, right) {
        (Read::Null, _) | (_, Read::Null) => Cond::Fixed(None),
        (Read::Value(a), Read::Value(b)) => Cond::Fixed(Some(apply(op, constants(&a, &b)))),
        (Read::Output(a), Read::Output(b)) => {
            let (ma, mb) = (meta(outputs, a)?, meta(outputs, b)?);
            check_ordered(ma)?;
            if !ma.kind.comparable_with(mb.kind) {
                return Err(unsupported("HAVING", &mb.name, mb.type_oid));
            }
            Cond::Compare {
                left: Side::Output(a),
                op,
                right: Side::Output(b),
            }
        }
        (Read::Output(i), Read::Value(v)) => {
            let m = meta(outputs, i)?;
            check_ordered(m)?;
            Cond::Compare {
                left: Side::Output(i),
                op,
                right: constant(v, m.kind)?,
            }
        }
        (Read::Value(v), Read::Output(i)) => {
            let m = meta(outputs, i)?;
            check_ordered(m)?;
            Cond::Compare {
                left: constant(v, m.kind)?,
                op,
                right: Side::Output(i),
            }
        }
    })
}

fn check_ordered(m: &OutputMeta) -> Result<(), MergeError> {
    if m.kind.ordered() {
        Ok(())
    } else {
        Err(unsupported("HAVING", &m.name, m.type_oid))
    }
}

/// A constant compared with an output of kind `other`, checked to decode.
fn constant(value: Resolved, other: Kind) -> Result<Side, MergeError> {
    let bytes = value.bytes.unwrap_or_default();
    let kind = if value.binary {
        match (value.type_oid, other.number()) {
            (0, true) if matches!(bytes.len(), 2 | 4 | 8) => Kind::Int,
            (0, _) => other,
            (oid, _) => Kind::of(oid),
        }
    } else if other.number() {
        Kind::Numeric
    } else {
        other
    };
    if !kind.comparable_with(other) {
        return Err(MergeError::new(
            code::FEATURE_NOT_SUPPORTED,
            format_args!(
                "cannot compare a {} output with a {} value in HAVING",
                other.name(),
                kind.name()
            ),
        ));
    }
    values::decode(kind, value.binary, &bytes)?;
    Ok(Side::Const {
        bytes,
        kind,
        binary: value.binary,
    })
}

/// Orders two constants: numerically if both read as numbers, else by bytes.
fn constants(a: &Resolved, b: &Resolved) -> Ordering {
    let (a, b) = (
        a.bytes.as_deref().unwrap_or_default(),
        b.bytes.as_deref().unwrap_or_default(),
    );
    match (Numeric::parse_text(a), Numeric::parse_text(b)) {
        (Some(x), Some(y)) => x.cmp_value(&y),
        _ => a.cmp(b),
    }
}

fn apply(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::NotEq => o != Ordering::Equal,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::LtEq => o != Ordering::Greater,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::GtEq => o != Ordering::Less,
    }
}

impl Cond {
    /// Evaluates on one group's outputs: `Some(true)` keeps the group.
    pub(crate) fn eval(
        &self,
        row: &[Option<Vec<u8>>],
        outputs: &[OutputMeta],
    ) -> Result<Option<bool>, MergeError> {
        Ok(match self {
            Cond::Fixed(v) => *v,
            Cond::Not(c) => c.eval(row, outputs)?.map(|v| !v),
            Cond::And(cs) => {
                let mut result = Some(true);
                for c in cs {
                    match c.eval(row, outputs)? {
                        Some(false) => return Ok(Some(false)),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Cond::Or(cs) => {
                let mut result = Some(false);
                for c in cs {
                    match c.eval(row, outputs)? {
                        Some(true) => return Ok(Some(true)),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Cond::IsNull { output, negated } => {
                let null = row.get(*output).is_none_or(Option::is_none);
                Some(null != *negated)
            }
            Cond::Compare { left, op, right } => {
                let (Some(a), Some(b)) = (side(left, row, outputs)?, side(right, row, outputs)?)
                else {
                    return Ok(None);
                };
                Some(apply(*op, values::compare(&a, &b)))
            }
        })
    }
}

/// The value of a side in this group; `None` for NULL.
fn side<'a>(
    s: &'a Side,
    row: &'a [Option<Vec<u8>>],
    outputs: &[OutputMeta],
) -> Result<Option<Value<'a>>, MergeError> {
    match s {
        Side::Output(i) => {
            let m = meta(outputs, *i)?;
            match row.get(*i).and_then(Option::as_deref) {
                None => Ok(None),
                Some(bytes) => values::decode(m.kind, m.binary, bytes).map(Some),
            }
        }
        Side::Const {
            bytes,
            kind,
            binary,
        } => values::decode(*kind, *binary, bytes).map(Some),
    }
}

#[cfg(test)]
#[path = "having_tests.rs"]
mod tests;
