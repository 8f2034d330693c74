//! Spread plans per execution: which shards run them ([`SpreadPlan::place`]), the
//! refusal old callers get when a statement needs several shards, and the plan of a
//! prepared statement, whose literals are fixed ([`SpreadPlan::bind_literals`]).

use std::num::NonZeroU32;
use std::sync::Arc;

use super::insert::params_refusal;
use super::{SpreadAction, SpreadPlan, SpreadShards};
use crate::command::StatementKind;
use crate::error::RouteError;
use crate::literal::Literal;
use crate::params::{NoParams, ParamSource};
use crate::plan::{Placement, StatementPlan, Target};

impl SpreadPlan {
    /// The shards this execution runs on: every shard, or the sorted distinct shards of
    /// the key values. One shard gives `One(Some(shard))` (the proxy forwards the
    /// client's statement there, also for a split `INSERT` whose rows all land on it),
    /// none (an empty `= ANY('{}')`) `One(None)`. A split `INSERT` with Bind parameters
    /// whose rows need several shards is `0A000`.
    pub fn place(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Placement, RouteError> {
        let set = match &self.shards {
            SpreadShards::All => (0..shards.get()).collect(),
            SpreadShards::Key(route) => route.shards(shards, literals, params)?,
        };
        Ok(match set.as_slice() {
            [] => Placement::One(None),
            [one] => Placement::One(Some(*one)),
            _ => {
                if matches!(&self.action, SpreadAction::SplitInsert(s) if s.has_params()) {
                    return Err(params_refusal());
                }
                Placement::Many(set)
            }
        })
    }

    /// This plan for a prepared statement whose literals are `literals`: literal key
    /// values replaced by their shards and a split `INSERT`'s pieces rendered. A plan
    /// left with constant keys only that all map to one shard gives [`Target::Shard`]
    /// (none: [`Target::AnyShard`]); a split `INSERT` with parameters whose constant
    /// keys need several shards gives [`Target::AllShards`] with the reason.
    pub(crate) fn bind_literals(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
    ) -> Result<Target, RouteError> {
        let mut plan = self.clone();
        let SpreadShards::Key(route) = &mut plan.shards else {
            return Ok(Target::Spread(Arc::new(plan)));
        };
        let mut constant = route.fold_literals(shards, literals)?;
        if let SpreadAction::SplitInsert(split) = &mut plan.action {
            constant &= split.fold_literals(shards, literals)?;
        }
        if constant {
            match plan.place(shards, &[], &NoParams) {
                Ok(Placement::One(Some(shard))) => return Ok(Target::Shard(shard)),
                Ok(Placement::One(None)) => return Ok(Target::AnyShard),
                Ok(Placement::Many(_)) => {}
                Err(err) => return Ok(Target::AllShards(err)),
            }
        }
        Ok(Target::Spread(Arc::new(plan)))
    }
}

impl StatementPlan {
    /// The error of a spread statement that needs several shards, for callers that
    /// expect one ([`Plan::resolve`](crate::Plan::resolve)).
    pub(crate) fn spread_refusal(&self, shards: &[u32]) -> RouteError {
        let what = match self.kind {
            StatementKind::Write => "write",
            StatementKind::Ddl => "schema change",
            _ => "statement",
        };
        let on = if self.tables.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = self.tables.iter().map(|t| format!("\"{t}\"")).collect();
            format!(" on {}", quoted.join(" and "))
        };
        RouteError::several_shards(format_args!(
            "this {what}{on} runs on several shards ({})",
            shard_list(shards)
        ))
    }
}

/// `0, 1, 2`: shard numbers for messages.
pub(crate) fn shard_list(shards: &[u32]) -> String {
    let names: Vec<String> = shards.iter().map(u32::to_string).collect();
    names.join(", ")
}
