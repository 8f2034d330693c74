//! Co-location: may the `FROM` clause run on each shard separately?
//!
//! Each shard can only join the rows it holds. That gives the single-database answer
//! when every combination of sharded rows that can meet in a result row lives on one
//! shard, i.e. when all sharded table references are chained by equalities of their
//! shard keys: `a.customer_id = b.id` among the top-level `AND`ed conditions of the
//! `WHERE`, of an inner join's `ON`, or of an outer join's `ON` between its two sides (or
//! `USING` the key column). Keys must hash alike: equal types, or two integer types
//! (PostgreSQL hashes `smallint`, `integer` and `bigint` values identically). Reference
//! tables have a copy on every shard and join freely; unsharded tables and system
//! catalogs live on (or differ by) shard, so they cannot be joined with sharded rows.

use std::ops::Range;

use shardwire_conf::KeyType;
use sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, Select, TableFactor, TableWithJoins,
};

use super::scope::{Scope, ShardedRef};
use crate::error::RouteError;
use crate::key::{flatten_and, Binding};
use crate::schema::{Placement, Schema, TableClass};

/// Reads the `FROM` clause of `select`, checks that its sharded references are
/// co-located, and returns them. `table` names the statement's first sharded table and
/// `ctes` are the statement's common table expressions (checked elsewhere).
pub(crate) fn scope<'s>(
    schema: &'s Schema,
    select: &Select,
    table: &str,
    ctes: &[String],
) -> Result<Scope<'s>, RouteError> {
    scope_of(schema, &select.from, select.selection.as_ref(), table, ctes)
}

/// [`scope`] for any statement with a `FROM` list and a `WHERE`: also the target and
/// `FROM` of an `UPDATE`, or the target and `USING` of a `DELETE`, which a spread write
/// runs on each shard.
pub(crate) fn scope_of<'s>(
    schema: &'s Schema,
    from: &[TableWithJoins],
    selection: Option<&Expr>,
    table: &str,
    ctes: &[String],
) -> Result<Scope<'s>, RouteError> {
    let mut walk = Walk {
        schema,
        ctes,
        scope: Scope {
            table: table.to_owned(),
            refs: Vec::new(),
        },
        links: Vec::new(),
        mismatch: None,
    };
    for item in from {
        walk.item(item, false)?;
    }
    if let Some(selection) = selection {
        walk.equalities(selection, 0..walk.scope.refs.len(), None);
    }
    walk.check()?;
    Ok(walk.scope)
}

struct Walk<'s, 'c> {
    schema: &'s Schema,
    ctes: &'c [String],
    scope: Scope<'s>,
    /// Pairs of references whose keys are equated.
    links: Vec<(usize, usize)>,
    /// A pair equated by keys that hash differently.
    mismatch: Option<(usize, usize)>,
}

impl<'s> Walk<'s, '_> {
    fn item(&mut self, item: &TableWithJoins, nullable: bool) -> Result<(), RouteError> {
        let start = self.scope.refs.len();
        self.factor(&item.relation, nullable)?;
        for join in &item.joins {
            self.join(join, start, nullable)?;
        }
        Ok(())
    }

    fn join(&mut self, join: &Join, start: usize, nullable: bool) -> Result<(), RouteError> {
        use JoinOperator as J;
        let (constraint, left_nullable, right_nullable, outer) = match &join.join_operator {
            J::Join(c) | J::Inner(c) | J::CrossJoin(c) => (c, false, false, false),
            J::Left(c) | J::LeftOuter(c) => (c, false, true, true),
            J::Right(c) | J::RightOuter(c) => (c, true, false, true),
            J::FullOuter(c) => (c, true, true, true),
            _ => return Err(self.refuse(format_args!("this kind of join ({join})"))),
        };
        let mid = self.scope.refs.len();
        if left_nullable {
            self.scope.refs[start..mid]
                .iter_mut()
                .for_each(|r| r.nullable = true);
        }
        self.factor(&join.relation, nullable || right_nullable)?;
        let end = self.scope.refs.len();
        let sides = outer.then_some((start..mid, mid..end));
        match constraint {
            JoinConstraint::On(on) => self.equalities(on, start..end, sides),
            JoinConstraint::Using(columns) => {
                for column in columns {
                    let name = crate::key::last_part(column).unwrap_or_default();
                    let keyed = |range: Range<usize>| {
                        let mut found = range.filter(|&i| {
                            let r = &self.scope.refs[i];
                            !r.renamed && r.key == name
                        });
                        found.next().filter(|_| found.next().is_none())
                    };
                    if let (Some(a), Some(b)) = (keyed(start..mid), keyed(mid..end)) {
                        self.link(a, b);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn factor(&mut self, factor: &TableFactor, nullable: bool) -> Result<(), RouteError> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let parts: Vec<String> = name
                    .0
                    .iter()
                    .map(|part| match part.as_ident() {
                        Some(ident) => ident.value.to_ascii_lowercase(),
                        None => part.to_string().to_ascii_lowercase(),
                    })
                    .collect();
                if parts.len() == 1 && self.ctes.contains(&parts[0]) {
                    return Ok(());
                }
                match self.schema.classify(&parts) {
                    TableClass::Configured(info) => match &info.placement {
                        Placement::Sharded { key, key_type } => {
                            self.scope.refs.push(ShardedRef {
                                info,
                                key: key.as_str(),
                                key_type: *key_type,
                                binding: Binding::new(name, alias.as_ref()),
                                nullable,
                                renamed: alias.as_ref().is_some_and(|a| !a.columns.is_empty()),
                            });
                            Ok(())
                        }
                        Placement::Reference => Ok(()),
                    },
                    TableClass::Unsharded => Err(RouteError::unsupported(format_args!(
                        "cannot read sharded table \"{}\" across shards together with \
                         unsharded table \"{}\", which lives on shard 0 only",
                        self.scope.table,
                        parts.join(".")
                    ))),
                    TableClass::Catalog => Err(RouteError::unsupported(format_args!(
                        "cannot read sharded table \"{}\" across shards together with system \
                         catalog \"{}\", whose contents differ between shards",
                        self.scope.table,
                        parts.join(".")
                    ))),
                }
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.item(table_with_joins, nullable),
            // Subqueries are checked by `nested`; functions give the same rows everywhere.
            TableFactor::Table { .. }
            | TableFactor::Derived { .. }
            | TableFactor::Function { .. }
            | TableFactor::TableFunction { .. }
            | TableFactor::UNNEST { .. } => Ok(()),
            other => Err(self.refuse(format_args!("this FROM item ({other})"))),
        }
    }

    /// Records the key equalities among the top-level `AND`ed conditions of `condition`,
    /// resolving columns among references `within`; for an outer join, only between its
    /// two `sides`.
    fn equalities(
        &mut self,
        condition: &Expr,
        within: Range<usize>,
        sides: Option<(Range<usize>, Range<usize>)>,
    ) {
        let mut conjuncts = Vec::new();
        flatten_and(condition, &mut conjuncts);
        for conjunct in conjuncts {
            let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = conjunct
            else {
                continue;
            };
            let a = self.scope.key_within(left, within.clone());
            let b = self.scope.key_within(right, within.clone());
            let (Some(a), Some(b)) = (a, b) else {
                continue;
            };
            let across = match &sides {
                None => a != b,
                Some((l, r)) => {
                    (l.contains(&a) && r.contains(&b)) || (r.contains(&a) && l.contains(&b))
                }
            };
            if across {
                self.link(a, b);
            }
        }
    }

    fn link(&mut self, a: usize, b: usize) {
        if hash_alike(self.scope.refs[a].key_type, self.scope.refs[b].key_type) {
            self.links.push((a, b));
        } else {
            self.mismatch.get_or_insert((a, b));
        }
    }

    /// Fails unless the links connect every reference.
    fn check(&self) -> Result<(), RouteError> {
        let refs = &self.scope.refs;
        let mut group: Vec<usize> = (0..refs.len()).collect();
        fn root(group: &mut [usize], mut i: usize) -> usize {
            while group[i] != i {
                group[i] = group[group[i]];
                i = group[i];
            }
            i
        }
        for &(a, b) in &self.links {
            let (ra, rb) = (root(&mut group, a), root(&mut group, b));
            group[ra] = rb;
        }
        let Some(apart) = (1..refs.len()).find(|&i| root(&mut group, i) != root(&mut group, 0))
        else {
            return Ok(());
        };
        let (a, b) = (&refs[0], &refs[apart]);
        if let Some((x, y)) = self.mismatch {
            let (x, y) = (&refs[x], &refs[y]);
            return Err(RouteError::unsupported(format_args!(
                "cannot join sharded tables \"{}\" and \"{}\" across shards: their shard keys \
                 \"{}\" ({}) and \"{}\" ({}) hash differently",
                x.info.name, y.info.name, x.key, x.key_type, y.key, y.key_type
            )));
        }
        Err(RouteError::unsupported(if a.info.name == b.info.name {
            format!(
                "cannot join sharded table \"{}\" with itself across shards: the join \
                 condition does not equate the shard key \"{}\" of both sides",
                a.info.name, a.key
            )
        } else {
            format!(
                "cannot join sharded tables \"{}\" and \"{}\" across shards: the join \
                 condition does not equate their shard keys \"{}\" and \"{}\"",
                a.info.name, b.info.name, a.key, b.key
            )
        }))
    }

    fn refuse(&self, what: std::fmt::Arguments<'_>) -> RouteError {
        RouteError::unsupported(format_args!(
            "cannot read sharded table \"{}\" across shards with {what}",
            self.scope.table
        ))
    }
}

/// Whether equal values of the two key types land on the same shard.
fn hash_alike(a: KeyType, b: KeyType) -> bool {
    let integer = |t| matches!(t, KeyType::Bigint | KeyType::Integer | KeyType::Smallint);
    a == b || (integer(a) && integer(b))
}
