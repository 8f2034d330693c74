//! Scatter plans per execution: which shards run them ([`StatementPlan::place`],
//! [`ScatterPlan::place`]), and the plan of a prepared statement, whose literals are
//! fixed ([`ScatterPlan::bind_literals`]).

use std::num::NonZeroU32;
use std::sync::Arc;

use super::spec::{Condition, MergeSpec, Operand, OutputRef, ValueRef};
use super::ScatterPlan;
use crate::error::{sqlstate, RouteError};
use crate::literal::Literal;
use crate::params::{NoParams, ParamSource};
use crate::plan::{KeyRoute, Placement, StatementPlan, Target};

impl StatementPlan {
    /// Where this statement runs for one execution: like [`StatementPlan::resolve`],
    /// except that a scattered read or a spread write that needs several shards gives
    /// [`Placement::Many`] (the sorted shards) instead of an error.
    pub fn place(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Placement, RouteError> {
        match &self.target {
            Target::Scatter(scatter) => scatter.place(shards, literals, params),
            Target::Spread(spread) => spread.place(shards, literals, params),
            _ => self.resolve(shards, literals, params).map(Placement::One),
        }
    }
}

impl KeyRoute {
    /// The sorted distinct shards of all key values.
    pub(crate) fn shards(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Vec<u32>, RouteError> {
        let mut set = Vec::new();
        for source in &self.sources {
            self.for_each_shard(source, shards, literals, params, |shard| {
                if let Err(at) = set.binary_search(&shard) {
                    set.insert(at, shard);
                }
                Ok(())
            })?;
        }
        Ok(set)
    }
}

impl ScatterPlan {
    /// The shards this execution reads: all of them without a key condition, else the
    /// sorted distinct shards of the key values (`One(None)` when there are none: no row
    /// can match, any shard answers).
    pub fn place(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Placement, RouteError> {
        let set = match &self.key {
            None => (0..shards.get()).collect(),
            Some(route) => route.shards(shards, literals, params)?,
        };
        Ok(match set.as_slice() {
            [] => Placement::One(None),
            [one] => Placement::One(Some(*one)),
            _ => Placement::Many(set),
        })
    }

    /// This plan for a prepared statement whose literals are `literals`: the shard SQL
    /// rendered, literal values of the merge turned into constants, literal key values
    /// into their shards. A key left with constant values that all map to one shard
    /// gives [`Target::Shard`] (none: [`Target::AnyShard`]).
    pub(crate) fn bind_literals(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
    ) -> Result<Target, RouteError> {
        let mut plan = ScatterPlan {
            shard_sql: self.shard_sql.fold_literals(literals)?,
            key: self.key.clone(),
            merge: self.merge.clone(),
        };
        for_each_value(&mut plan.merge, &mut |value| {
            if let ValueRef::Literal(index) = *value {
                let literal = literals.get(index).ok_or_else(|| missing(index))?;
                *value = ValueRef::Const(literal.text.to_owned());
            }
            Ok(())
        })?;
        let Some(route) = &mut plan.key else {
            return Ok(Target::Scatter(Arc::new(plan)));
        };
        if route.fold_literals(shards, literals)? {
            match plan.place(shards, &[], &NoParams)? {
                Placement::One(Some(shard)) => return Ok(Target::Shard(shard)),
                Placement::One(None) => return Ok(Target::AnyShard),
                Placement::Many(_) => {}
            }
        }
        Ok(Target::Scatter(Arc::new(plan)))
    }
}

fn missing(index: usize) -> RouteError {
    RouteError::new(
        sqlstate::INTERNAL_ERROR,
        format_args!("plan refers to literal {index} that the query lacks"),
    )
}

/// Calls `visit` on every execution-time value of `merge`.
fn for_each_value(
    merge: &mut MergeSpec,
    visit: &mut dyn FnMut(&mut ValueRef) -> Result<(), RouteError>,
) -> Result<(), RouteError> {
    for value in merge.limit.iter_mut().chain(merge.offset.iter_mut()) {
        visit(value)?;
    }
    for key in &mut merge.order_by {
        if let OutputRef::Ordinal(value) = &mut key.output {
            visit(value)?;
        }
    }
    if let Some(having) = &mut merge.having {
        condition_values(having, visit)?;
    }
    Ok(())
}

fn condition_values(
    condition: &mut Condition,
    visit: &mut dyn FnMut(&mut ValueRef) -> Result<(), RouteError>,
) -> Result<(), RouteError> {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => {
            for part in parts {
                condition_values(part, visit)?;
            }
        }
        Condition::Not(inner) => condition_values(inner, visit)?,
        Condition::IsNull { .. } => {}
        Condition::Compare { left, right, .. } => {
            for operand in [left, right] {
                if let Operand::Value(value) = operand {
                    visit(value)?;
                }
            }
        }
    }
    Ok(())
}
