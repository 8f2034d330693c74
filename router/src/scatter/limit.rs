//! `LIMIT` / `OFFSET` / `FETCH FIRST` of a scattered `SELECT`.
//!
//! The merge applies the client's limit and offset to the combined rows, so each shard
//! must send enough rows for any of them to make the cut: the first `n + m` of its own
//! (in the query's order), as `LIMIT CAST(n AS BIGINT) + CAST(m AS BIGINT)`, without an
//! `OFFSET`. An offset without a limit leaves the shard query unlimited. The values must
//! be known per execution (a constant, a literal or a parameter) since the merge reads
//! them; anything computed is refused.
//!
//! MySQL's `LIMIT` takes constants and parameters only, no expressions (nor `CAST(… AS
//! BIGINT)`), so there a shard's limit is the client's limit when there is no offset,
//! and no limit at all when there is one: correct, at the cost of shards sending rows
//! the merge skips. `LIMIT offset, count` reads like `LIMIT count OFFSET offset`.

use sqlparser::ast::{BinaryOperator, CastKind, DataType, Expr, LimitClause, Query, Value};

use super::spec::ValueRef;
use super::values::{is_null, shown, value_ref};
use crate::dialect::Dialect;
use crate::error::RouteError;

/// The paging of a query: what the merge applies, and the expressions as written.
#[derive(Debug, Default)]
pub(crate) struct Paging {
    /// `LIMIT`; `None` for none, `ALL` or `NULL`.
    pub limit: Option<ValueRef>,
    /// `OFFSET`; `None` for none or `NULL`.
    pub offset: Option<ValueRef>,
    limit_expr: Option<Expr>,
    offset_expr: Option<Expr>,
}

/// Reads the paging of `query`, whose first sharded table is `table`.
pub(crate) fn paging(query: &Query, table: &str) -> Result<Paging, RouteError> {
    let refuse = |what: &str| {
        RouteError::unsupported(format_args!(
            "{what} of a SELECT over sharded table \"{table}\" cannot be combined across \
             shards"
        ))
    };
    let (mut limit, offset) = match &query.limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(refuse("LIMIT BY"));
            }
            (limit.clone(), offset.as_ref().map(|o| o.value.clone()))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            (Some(limit.clone()), Some(offset.clone()))
        }
    };
    if let Some(fetch) = &query.fetch {
        if fetch.with_ties {
            return Err(refuse("FETCH … WITH TIES"));
        }
        if fetch.percent {
            return Err(refuse("FETCH FIRST … PERCENT"));
        }
        if limit.is_some() {
            return Err(refuse("LIMIT together with FETCH FIRST"));
        }
        let one = || Expr::value(Value::Number("1".into(), false));
        limit = Some(fetch.quantity.clone().unwrap_or_else(one));
    }
    let mut paging = Paging::default();
    let value = |expr: &Expr, what: &str| {
        value_ref(expr).ok_or_else(|| {
            RouteError::unsupported(format_args!(
                "{what}{} of a SELECT over sharded table \"{table}\" must be a constant or a \
                 parameter to be combined across shards",
                shown(expr)
            ))
        })
    };
    if let Some(expr) = limit.filter(|e| !is_null(e)) {
        paging.limit = Some(value(&expr, "LIMIT")?);
        paging.limit_expr = Some(expr);
    }
    if let Some(expr) = offset.filter(|e| !is_null(e)) {
        paging.offset = Some(value(&expr, "OFFSET")?);
        paging.offset_expr = Some(expr);
    }
    Ok(paging)
}

impl Paging {
    /// Replaces the paging of `query` (a shard's copy) with the rows each shard sends:
    /// the first `limit + offset` (MySQL: see the module documentation).
    pub fn apply_to_shard(&self, query: &mut Query, dialect: Dialect) {
        query.fetch = None;
        let limit = match (&self.offset_expr, dialect) {
            (Some(_), Dialect::MySql) => None,
            _ => self.limit_expr.as_ref(),
        };
        query.limit_clause = limit.map(|limit| {
            let limit = match &self.offset_expr {
                None => limit.clone(),
                Some(offset) => Expr::BinaryOp {
                    left: Box::new(bigint(limit)),
                    op: BinaryOperator::Plus,
                    right: Box::new(bigint(offset)),
                },
            };
            LimitClause::LimitOffset {
                limit: Some(limit),
                offset: None,
                limit_by: Vec::new(),
            }
        });
    }

    /// Removes the paging of `query`: a grouped shard query sends every group.
    pub fn remove_from_shard(query: &mut Query) {
        query.fetch = None;
        query.limit_clause = None;
    }
}

fn bigint(expr: &Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr.clone()),
        data_type: DataType::BigInt(None),
        format: None,
    }
}
