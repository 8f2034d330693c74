//! The sharded table references of a scattered `SELECT`, as the rest of the analysis
//! asks about them: is this expression a shard key (`DISTINCT` aggregates, `GROUP BY`
//! on a key), and which key values does the `WHERE` pin?

use std::ops::Range;

use shardwire_conf::KeyType;
use sqlparser::ast::Expr;

use crate::key::{key_condition, Binding};
use crate::plan::KeyRoute;
use crate::schema::TableInfo;

/// One reference to a sharded table in the `FROM` clause.
#[derive(Debug)]
pub(crate) struct ShardedRef<'s> {
    /// The table.
    pub info: &'s TableInfo,
    /// Its shard-key column, lower case.
    pub key: &'s str,
    /// The key's type.
    pub key_type: KeyType,
    /// How the statement names it.
    pub binding: Binding,
    /// On the nullable side of an outer join: its columns may be NULL for rows of
    /// other tables, on any shard.
    pub nullable: bool,
    /// Its columns are renamed by the alias (`AS t(a, b)`), so its key is not
    /// recognized by name.
    pub renamed: bool,
}

/// The sharded references of a `SELECT` and the name its refusals use.
#[derive(Debug)]
pub(crate) struct Scope<'s> {
    /// The first sharded table, for messages.
    pub table: String,
    /// Every sharded table reference in `FROM`, in order.
    pub refs: Vec<ShardedRef<'s>>,
}

impl Scope<'_> {
    /// The reference whose shard-key column `expr` is, if exactly one.
    pub fn key_of(&self, expr: &Expr) -> Option<usize> {
        self.key_within(expr, 0..self.refs.len())
    }

    /// The reference among `within` whose shard-key column `expr` is, if exactly one.
    pub(crate) fn key_within(&self, expr: &Expr, within: Range<usize>) -> Option<usize> {
        let (column, qualifier) = match expr {
            Expr::Nested(inner) => return self.key_within(inner, within),
            Expr::Identifier(ident) => (ident, &[][..]),
            Expr::CompoundIdentifier(parts) => parts.split_last()?,
            _ => return None,
        };
        let mut found = within.filter(|&i| {
            let r = &self.refs[i];
            !r.renamed
                && column.value.eq_ignore_ascii_case(r.key)
                && r.binding.is_named_by(qualifier)
        });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// Whether grouping by `group_by` keeps each group on one shard: it includes the
    /// key of a table whose rows are never NULL-extended.
    pub fn groups_by_key(&self, group_by: &[Expr]) -> bool {
        group_by
            .iter()
            .filter_map(|e| self.key_of(e))
            .any(|i| !self.refs[i].nullable)
    }

    /// The shard-key values the top-level `WHERE` pins, on any of the (co-located)
    /// references.
    pub fn pinned(&self, selection: Option<&Expr>) -> Option<KeyRoute> {
        let selection = selection?;
        self.refs.iter().filter(|r| !r.renamed).find_map(|r| {
            key_condition(selection, &r.binding, r.key).map(|sources| KeyRoute {
                table: r.info.name.clone(),
                column: r.key.to_owned(),
                key_type: r.key_type,
                sources,
            })
        })
    }
}
