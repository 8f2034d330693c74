//! `HAVING` of a grouped scattered `SELECT`, as a [`Condition`] the merge evaluates on
//! the combined groups (a shard's partial group cannot be filtered: `count(*) > 10` may
//! hold only once the partials are added).
//!
//! Supported: `AND`, `OR`, `NOT`, parentheses, `IS [NOT] NULL`, the comparisons `=`,
//! `<>`/`!=`, `<`, `<=`, `>`, `>=`, and `BETWEEN` / `IN (…)` (spelled out as
//! comparisons, same three-valued logic), between outputs (aggregates, grouped columns)
//! and constants, literals, parameters or `NULL`. Anything else (arithmetic, function
//! calls, subqueries) would need the merge to evaluate SQL and is refused.

use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator};

use super::aggregate::first_inside;
use super::spec::{CompareOp, Condition, Operand};
use super::values::{is_null, shown, value_ref};
use crate::error::RouteError;

/// Translates `expr`; `output` finds (or adds) the output an operand expression stands
/// for, or refuses it.
pub(crate) fn condition(
    expr: &Expr,
    output: &mut dyn FnMut(&Expr) -> Result<usize, RouteError>,
    table: &str,
) -> Result<Condition, RouteError> {
    let refuse = || {
        RouteError::unsupported(format_args!(
            "HAVING condition{} of a SELECT over sharded table \"{table}\" cannot be \
             evaluated across shards: only comparisons of aggregates and grouped columns with \
             constants, combined by AND, OR and NOT, are supported",
            shown(expr)
        ))
    };
    Ok(match expr {
        Expr::Nested(inner) => condition(inner, output, table)?,
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Condition::Not(Box::new(condition(expr, output, table)?)),
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::And | BinaryOperator::Or => {
                let parts = vec![
                    condition(left, output, table)?,
                    condition(right, output, table)?,
                ];
                let and = *op == BinaryOperator::And;
                // `a AND b AND c` parses as `(a AND b) AND c`: flatten.
                let parts = parts
                    .into_iter()
                    .flat_map(|part| match part {
                        Condition::And(inner) if and => inner,
                        Condition::Or(inner) if !and => inner,
                        other => vec![other],
                    })
                    .collect();
                if and {
                    Condition::And(parts)
                } else {
                    Condition::Or(parts)
                }
            }
            _ => {
                let op = compare_op(op).ok_or_else(refuse)?;
                compare(left, op, right, output).ok_or_else(refuse)??
            }
        },
        Expr::IsNull(inner) | Expr::IsNotNull(inner) => Condition::IsNull {
            output: output(inner)?,
            negated: matches!(expr, Expr::IsNotNull(_)),
        },
        Expr::Between {
            expr: tested,
            negated,
            low,
            high,
        } => {
            let low = compare(tested, CompareOp::GtEq, low, output).ok_or_else(refuse)??;
            let high = compare(tested, CompareOp::LtEq, high, output).ok_or_else(refuse)??;
            negate(Condition::And(vec![low, high]), *negated)
        }
        Expr::In {
            expr: tested,
            target: InTarget::List(list),
            negated,
            ..
        } => {
            let mut parts = Vec::with_capacity(list.len());
            for item in list {
                parts.push(compare(tested, CompareOp::Eq, item, output).ok_or_else(refuse)??);
            }
            negate(Condition::Or(parts), *negated)
        }
        _ => {
            // An aggregate used as a condition (`HAVING bool_or(x)`): report what is
            // wrong with it first (one that cannot be combined), else refuse the shape.
            if first_inside(expr).is_some() {
                output(expr)?;
            }
            return Err(refuse());
        }
    })
}

fn negate(condition: Condition, negated: bool) -> Condition {
    if negated {
        Condition::Not(Box::new(condition))
    } else {
        condition
    }
}

fn compare_op(op: &BinaryOperator) -> Option<CompareOp> {
    Some(match op {
        BinaryOperator::Eq => CompareOp::Eq,
        BinaryOperator::NotEq => CompareOp::NotEq,
        BinaryOperator::Lt => CompareOp::Lt,
        BinaryOperator::LtEq => CompareOp::LtEq,
        BinaryOperator::Gt => CompareOp::Gt,
        BinaryOperator::GtEq => CompareOp::GtEq,
        _ => return None,
    })
}

/// `left op right`; `None` when neither side is an output.
fn compare(
    left: &Expr,
    op: CompareOp,
    right: &Expr,
    output: &mut dyn FnMut(&Expr) -> Result<usize, RouteError>,
) -> Option<Result<Condition, RouteError>> {
    let mut operand = |expr: &Expr| -> Result<Operand, RouteError> {
        if is_null(expr) {
            return Ok(Operand::Null);
        }
        match value_ref(expr) {
            Some(value) => Ok(Operand::Value(value)),
            None => output(expr).map(Operand::Output),
        }
    };
    let (left, right) = match (operand(left), operand(right)) {
        (Ok(left), Ok(right)) => (left, right),
        (Err(err), _) | (_, Err(err)) => return Some(Err(err)),
    };
    let has_output = |o: &Operand| matches!(o, Operand::Output(_));
    if !has_output(&left) && !has_output(&right) {
        return None;
    }
    Some(Ok(Condition::Compare { left, op, right }))
}
