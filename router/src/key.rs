//! Shard-key extraction: where in a statement the key's values are, as [`KeySource`]s.
//!
//! Only shapes that pin every row the statement touches to the listed values count:
//! `key = v` / `v = key`, `key IN (v, …)` and `key = ANY(array)` among the top-level
//! `AND`ed conditions of a `WHERE` (an `OR`, a `NOT` or a condition inside a subquery
//! pins nothing), and the key column of each row of `INSERT … VALUES`. A value counts
//! when it is a literal placeholder (`$L1`), a parameter (`$1`) or `NULL`, possibly in
//! parentheses or cast (`$1::bigint`, `CAST('…' AS uuid)`). The key column may be
//! written bare, qualified by the table name or by its alias.

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, InTarget, ObjectName, TableAlias, UnaryOperator, Value,
};

use crate::plan::KeySource;

/// How a table is referred to in its `FROM` item: by alias if it has one, else by name.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// The alias, lower case.
    alias: Option<String>,
    /// The table's own name (last part), lower case.
    table: String,
}

impl Binding {
    pub fn new(name: &ObjectName, alias: Option<&TableAlias>) -> Binding {
        Binding {
            alias: alias.map(|a| a.name.value.to_ascii_lowercase()),
            table: last_part(name).unwrap_or_default(),
        }
    }

    /// Whether `qualifier` (the parts before the column) names this table.
    pub(crate) fn is_named_by(&self, qualifier: &[Ident]) -> bool {
        let Some(last) = qualifier.last() else {
            return true;
        };
        match &self.alias {
            Some(alias) => qualifier.len() == 1 && last.value.eq_ignore_ascii_case(alias),
            None => last.value.eq_ignore_ascii_case(&self.table),
        }
    }
}

/// The last part of an object name, lower case.
pub(crate) fn last_part(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.to_ascii_lowercase())
}

/// The key values pinned by `selection` (a `WHERE` condition) for the table bound as
/// `binding` whose key column is `key`; `None` if the condition pins nothing.
pub(crate) fn key_condition(
    selection: &Expr,
    binding: &Binding,
    key: &str,
) -> Option<Vec<KeySource>> {
    let mut conjuncts = Vec::new();
    flatten_and(selection, &mut conjuncts);
    conjuncts
        .into_iter()
        .find_map(|c| pinned_values(c, binding, key))
}

/// Collects the operands of a tree of `AND`s (through parentheses).
pub(crate) fn flatten_and<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            flatten_and(left, out);
            flatten_and(right, out);
        }
        Expr::Nested(inner) => flatten_and(inner, out),
        other => out.push(other),
    }
}

/// The key values a single condition pins, if it is one of the shapes that do.
fn pinned_values(condition: &Expr, binding: &Binding, key: &str) -> Option<Vec<KeySource>> {
    match condition {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_key(left, binding, key) {
                value_source(right).map(|s| vec![s])
            } else if is_key(right, binding, key) {
                value_source(left).map(|s| vec![s])
            } else {
                None
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } if is_key(expr, binding, key) => list.iter().map(value_source).collect(),
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } if is_key(left, binding, key) => array_sources(right),
        _ => None,
    }
}

/// Whether `expr` is the key column of the bound table.
pub(crate) fn is_key(expr: &Expr, binding: &Binding, key: &str) -> bool {
    match expr {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case(key),
        Expr::CompoundIdentifier(parts) => match parts.split_last() {
            Some((column, qualifier)) => {
                column.value.eq_ignore_ascii_case(key) && binding.is_named_by(qualifier)
            }
            None => false,
        },
        Expr::Nested(inner) => is_key(inner, binding, key),
        _ => false,
    }
}

/// Where a single value comes from, if it is a literal, a parameter or `NULL`.
pub(crate) fn value_source(expr: &Expr) -> Option<KeySource> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(text) => match placeholder(text)? {
                Placeholder::Literal(index) => Some(KeySource::Literal(index)),
                Placeholder::Param(n) => Some(KeySource::Param(n)),
            },
            Value::Null => Some(KeySource::Shard(0)),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => value_source(expr),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => value_source(expr),
        _ => None,
    }
}

/// Where the values of an array operand of `= ANY(…)` come from.
fn array_sources(expr: &Expr) -> Option<Vec<KeySource>> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(text) => Some(vec![match placeholder(text)? {
                Placeholder::Literal(index) => KeySource::LiteralArray(index),
                Placeholder::Param(n) => KeySource::ParamArray(n),
            }]),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => array_sources(expr),
        Expr::Array(array) => array.elem.iter().map(value_source).collect(),
        _ => None,
    }
}

/// A placeholder of the normalized text.
pub(crate) enum Placeholder {
    /// `$L<i+1>`: the literal at index `i`.
    Literal(usize),
    /// `$n`: Bind parameter `n`.
    Param(u16),
}

/// What the placeholder spelled `text` (`$L3`, `$2`) stands for.
pub(crate) fn placeholder(text: &str) -> Option<Placeholder> {
    let rest = text.strip_prefix('$')?;
    if let Some(digits) = rest.strip_prefix('L') {
        let n: usize = digits.parse().ok()?;
        return Some(Placeholder::Literal(n.checked_sub(1)?));
    }
    let n: u16 = rest.parse().ok()?;
    (n > 0).then_some(Placeholder::Param(n))
}

/// Whether the `ObjectName` of an assignment target or column list is the key column.
pub(crate) fn names_column(name: &ObjectName, key: &str) -> bool {
    last_part(name).is_some_and(|column| column == key)
}
