//! Resolving plans: from a plan plus one execution's values to shard numbers.
//!
//! This is the per-execution half of routing, the part that runs on every query even when
//! the plan comes from the cache: look up each key source's value (a literal of the query
//! text or a Bind parameter), parse it as the key's type, hash it with
//! [`shard_of`](crate::hash::shard_of), and check that all values agree on one shard.
//! Prepared statements get their literals folded in once, at prepare time
//! ([`Plan::bind_literals`]), so Bind only looks at parameters. A scattered read
//! resolves to the set of shards it reads ([`StatementPlan::place`]).

use std::num::NonZeroU32;

use crate::array::{for_each_binary_element, for_each_text_element};
use crate::error::{sqlstate, RouteError};
use crate::literal::{Literal, LiteralKind};
use crate::params::{shard_of_binary, shard_of_param, NoParams, ParamSource};
use crate::plan::{KeyRoute, KeySource, Placement, Plan, StatementPlan, Target};
use crate::value::{key_value_error, shard_of_text, TextOrigin, ValueError};

impl Plan {
    /// The shard of each statement for one execution: `Some(shard)`, or `None` where any
    /// shard will do. `literals` are the query string's (from
    /// [`normalize`](crate::normalize())), `params` the Bind message's. Fails with the
    /// statement's error for [`Target::Unsupported`] and, with more than one shard,
    /// [`Target::AllShards`]; with `22P02`/`22P03`/`22003` for a key value of the wrong
    /// shape; with `0A000` when key values map to different shards, or when a
    /// [`Target::Scatter`] or [`Target::Spread`] needs several shards (see
    /// [`StatementPlan::place`]).
    pub fn resolve(
        &self,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Vec<Option<u32>>, RouteError> {
        self.statements
            .iter()
            .map(|statement| statement.resolve(self.shard_count, literals, params))
            .collect()
    }

    /// This plan with the key sources that are literals replaced by their shards, for a
    /// prepared statement whose text (and so whose literals) is fixed. A key route left
    /// with constant sources only becomes [`Target::Shard`]; constants that disagree make
    /// it [`Target::AllShards`]. A [`Target::Scatter`] gets its shard SQL rendered, the
    /// literals its merge reads turned into constants
    /// ([`ValueRef::Const`](crate::ValueRef::Const)) and its key folded likewise; a
    /// [`Target::Spread`] its key folded and a split `INSERT` rendered. An invalid
    /// literal is an error, as PostgreSQL reports it at Parse.
    pub fn bind_literals(&self, literals: &[Literal<'_>]) -> Result<Plan, RouteError> {
        let mut plan = self.clone();
        for statement in &mut plan.statements {
            match &mut statement.target {
                Target::Key(route) => {
                    let constant = route.fold_literals(self.shard_count, literals)?;
                    if constant {
                        statement.target = match route.resolve(self.shard_count, &[], &NoParams) {
                            Ok(Some(shard)) => Target::Shard(shard),
                            Ok(None) => Target::AnyShard,
                            Err(err) => Target::AllShards(err),
                        };
                    }
                }
                Target::Scatter(scatter) => {
                    statement.target = scatter.bind_literals(self.shard_count, literals)?;
                }
                Target::Spread(spread) => {
                    statement.target = spread.bind_literals(self.shard_count, literals)?;
                }
                _ => {}
            }
        }
        Ok(plan)
    }
}

impl StatementPlan {
    /// This statement's shard for one execution; see [`Plan::resolve`].
    pub fn resolve(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Option<u32>, RouteError> {
        match &self.target {
            Target::AnyShard => Ok(None),
            Target::Shard(shard) => Ok(Some(*shard)),
            Target::Key(route) => route.resolve(shards, literals, params),
            Target::Scatter(scatter) => match scatter.place(shards, literals, params)? {
                Placement::One(shard) => Ok(shard),
                Placement::Many(list) => Err(RouteError::unsupported(format_args!(
                    "this SELECT on {} reads several shards ({}), which can only be merged \
                     when it runs on its own",
                    self.describe_tables(),
                    list.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            Target::Spread(spread) => match spread.place(shards, literals, params)? {
                Placement::One(shard) => Ok(shard),
                Placement::Many(list) => Err(self.spread_refusal(&list)),
            },
            Target::AllShards(_) if shards.get() == 1 => Ok(Some(0)),
            Target::AllShards(err) | Target::Unsupported(err) => Err(err.clone()),
        }
    }

    /// `"a" and "b"`: the tables, for messages.
    fn describe_tables(&self) -> String {
        let quoted: Vec<String> = self.tables.iter().map(|t| format!("\"{t}\"")).collect();
        quoted.join(" and ")
    }
}

impl KeyRoute {
    /// Replaces the literal key sources by the shards of their values, for a prepared
    /// statement whose literals are fixed; returns whether only such constants are left.
    pub(crate) fn fold_literals(
        &mut self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
    ) -> Result<bool, RouteError> {
        let mut sources = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            match source {
                KeySource::Literal(_) | KeySource::LiteralArray(_) => {
                    self.for_each_shard(source, shards, literals, &NoParams, |shard| {
                        if !sources.contains(&KeySource::Shard(shard)) {
                            sources.push(KeySource::Shard(shard));
                        }
                        Ok(())
                    })?;
                }
                other => sources.push(*other),
            }
        }
        self.sources = sources;
        Ok(self
            .sources
            .iter()
            .all(|s| matches!(s, KeySource::Shard(_))))
    }

    /// The one shard all key values map to; `None` if there are no values (an empty
    /// array, `key = ANY(NULL)`), in which case no row matches and any shard will do.
    pub fn resolve(
        &self,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
    ) -> Result<Option<u32>, RouteError> {
        let mut chosen: Option<u32> = None;
        for source in &self.sources {
            self.for_each_shard(source, shards, literals, params, |shard| match chosen {
                Some(first) if first != shard => Err(RouteError::several_shards(format_args!(
                    "the shard key values for sharded table \"{}\" map to different shards \
                     ({first} and {shard})",
                    self.table
                ))),
                _ => {
                    chosen = Some(shard);
                    Ok(())
                }
            })?;
        }
        Ok(chosen)
    }

    /// Calls `found` with the shard of each value `source` stands for.
    pub(crate) fn for_each_shard(
        &self,
        source: &KeySource,
        shards: NonZeroU32,
        literals: &[Literal<'_>],
        params: &dyn ParamSource,
        mut found: impl FnMut(u32) -> Result<(), RouteError>,
    ) -> Result<(), RouteError> {
        let key_type = self.key_type;
        match *source {
            KeySource::Shard(shard) => found(shard),
            KeySource::Literal(index) | KeySource::LiteralArray(index) => {
                let literal = literals.get(index).ok_or_else(|| {
                    RouteError::new(
                        sqlstate::INTERNAL_ERROR,
                        format_args!("plan refers to literal {index} that the query lacks"),
                    )
                })?;
                let value = literal.value().ok_or_else(|| {
                    self.value_error(ValueError::invalid(literal.text.as_bytes()), None)
                })?;
                let origin = match literal.kind {
                    LiteralKind::Number => TextOrigin::Number,
                    LiteralKind::String | LiteralKind::EscapeString | LiteralKind::MySqlString => {
                        TextOrigin::Text
                    }
                };
                if matches!(source, KeySource::Literal(_)) {
                    let shard = shard_of_text(&value, origin, key_type, shards)
                        .map_err(|e| self.value_error(e, None))?;
                    return found(shard);
                }
                self.each_text_element(&value, shards, None, &mut found)
            }
            KeySource::Param(n) | KeySource::ParamArray(n) => {
                let value = params.param(n).ok_or_else(|| {
                    RouteError::new(
                        sqlstate::UNDEFINED_PARAMETER,
                        format_args!("there is no parameter ${n}"),
                    )
                })?;
                if matches!(source, KeySource::Param(_)) {
                    let shard = shard_of_param(&value, key_type, shards)
                        .map_err(|e| self.value_error(e, Some(n)))?;
                    return found(shard);
                }
                let Some(bytes) = value.bytes else {
                    // `key = ANY(NULL)` matches no row.
                    return Ok(());
                };
                if !value.binary {
                    return self.each_text_element(bytes, shards, Some(n), &mut found);
                }
                let mut failure = None;
                let walked = for_each_binary_element(bytes, |element_oid, element| {
                    let shard = match element {
                        None => 0,
                        Some(element) => shard_of_binary(element, element_oid, key_type, shards)?,
                    };
                    found(shard).map_err(|err| {
                        failure = Some(err);
                        ValueError::Binary(String::new())
                    })
                });
                match (failure, walked) {
                    (Some(err), _) => Err(err),
                    (None, Err(e)) => Err(self.value_error(e, Some(n))),
                    (None, Ok(())) => Ok(()),
                }
            }
        }
    }

    /// Calls `found` with the shard of each element of a text-format array.
    fn each_text_element(
        &self,
        text: &[u8],
        shards: NonZeroU32,
        param: Option<u16>,
        found: &mut impl FnMut(u32) -> Result<(), RouteError>,
    ) -> Result<(), RouteError> {
        let mut failure = None;
        let walked = for_each_text_element(text, |element| {
            let shard = match element {
                None => 0,
                Some(element) => shard_of_text(element, TextOrigin::Text, self.key_type, shards)?,
            };
            found(shard).map_err(|err| {
                failure = Some(err);
                ValueError::Invalid(String::new())
            })
        });
        match (failure, walked) {
            (Some(err), _) => Err(err),
            (None, Err(e)) => Err(self.value_error(e, param)),
            (None, Ok(())) => Ok(()),
        }
    }

    /// A value error, with the table, column and parameter it concerns.
    fn value_error(&self, error: ValueError, param: Option<u16>) -> RouteError {
        let whose = format!(
            "shard key \"{}\" of table \"{}\"{}",
            self.column,
            self.table,
            param
                .map(|n| format!(", parameter ${n}"))
                .unwrap_or_default()
        );
        key_value_error(error, self.key_type, &whose)
    }
}
