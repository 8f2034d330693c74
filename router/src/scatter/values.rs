//! Small readings of expressions that the scatter analysis shares: execution-time values
//! ([`ValueRef`]), output column names, and when two expressions are "the same".
//!
//! The analysis works on the normalized tree, where a literal is a placeholder `$L<n>`,
//! and also on a client's own text when the normalized one did not parse; then literals
//! are real constants and become [`ValueRef::Const`] with their SQL spelling.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, SelectItem, UnaryOperator, Value, Visit, Visitor};

use super::spec::ValueRef;
use crate::key::{last_part, placeholder, Placeholder};

/// The value `expr` stands for when it is a lone constant, literal placeholder or
/// parameter (possibly signed or in parentheses); `None` otherwise (also for `NULL`).
pub(crate) fn value_ref(expr: &Expr) -> Option<ValueRef> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Placeholder(text) => Some(match placeholder(text)? {
                Placeholder::Literal(index) => ValueRef::Literal(index),
                Placeholder::Param(n) => ValueRef::Param(n),
            }),
            Value::Number(..)
            | Value::SingleQuotedString(_)
            | Value::EscapedStringLiteral(_)
            | Value::NationalStringLiteral(_) => Some(ValueRef::Const(value.value.to_string())),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(value) if matches!(value.value, Value::Number(..)) => {
                Some(ValueRef::Const(format!("-{}", value.value)))
            }
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        }
        | Expr::Nested(expr) => value_ref(expr),
        _ => None,
    }
}

/// Whether `expr` is `NULL` (possibly in parentheses).
pub(crate) fn is_null(expr: &Expr) -> bool {
    match expr {
        Expr::Value(value) => matches!(value.value, Value::Null),
        Expr::Nested(inner) => is_null(inner),
        _ => false,
    }
}

/// How an `ORDER BY` or `GROUP BY` item that is a lone value reads.
pub(crate) enum Lone {
    /// A literal or number: a 1-based position in the select list (`ORDER BY 2`).
    Ordinal(ValueRef),
    /// A bind parameter: the same value for every row, so it orders and groups nothing.
    Constant,
}

/// `Some` when `expr` is a lone literal, number or parameter.
pub(crate) fn lone(expr: &Expr) -> Option<Lone> {
    match value_ref(expr)? {
        ValueRef::Param(_) => Some(Lone::Constant),
        other => Some(Lone::Ordinal(other)),
    }
}

/// The text two expressions are compared by: as printed, in lower case unless it holds
/// quoted text (where case matters).
pub(crate) fn canonical(expr: &Expr) -> String {
    let text = expr.to_string();
    if text.contains(['"', '\'']) {
        text
    } else {
        text.to_ascii_lowercase()
    }
}

/// An identifier as PostgreSQL compares it: folded to lower case unless quoted.
pub(crate) fn ident_key(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

/// The expression of a select item; `None` for `*` and `t.*`.
pub(crate) fn item_expr(item: &SelectItem) -> Option<&Expr> {
    match item {
        SelectItem::UnnamedExpr(expr)
        | SelectItem::ExprWithAlias { expr, .. }
        | SelectItem::ExprWithAliases { expr, .. } => Some(expr),
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => None,
    }
}

/// The name of a select item's output column as `ORDER BY name` sees it: the alias, or
/// what PostgreSQL names it (a column's own name, a function's name, through casts).
pub(crate) fn output_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(ident_key(alias)),
        SelectItem::UnnamedExpr(expr) => implicit_name(expr),
        _ => None,
    }
}

fn implicit_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident_key(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_key),
        Expr::Function(function) => last_part(&function.name),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => implicit_name(expr),
        _ => None,
    }
}

/// The alias of the k-th (0-based) hidden column: `__sw_1`, `__sw_2` …
pub(crate) fn hidden_alias(k: usize) -> Ident {
    Ident::new(format!("__sw_{}", k + 1))
}

/// ` <expr>` for a message, or nothing when the text holds literal placeholders (the
/// plan is shared by every literal value, so messages cannot show them).
pub(crate) fn shown(expr: &Expr) -> String {
    let text = expr.to_string();
    if text.contains("$L") {
        String::new()
    } else {
        format!(" {text}")
    }
}

/// Whether `expr` refers to a column called `name` (lower case, as [`ident_key`]).
pub(crate) fn mentions_column(expr: &Expr, name: &str) -> bool {
    struct Find<'n>(&'n str);
    impl Visitor for Find<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            let column = match expr {
                Expr::Identifier(ident) => Some(ident),
                Expr::CompoundIdentifier(parts) => parts.last(),
                _ => None,
            };
            match column {
                Some(ident) if ident_key(ident) == self.0 => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    expr.visit(&mut Find(name)).is_break()
}

/// Whether `expr` is a plain column reference (`a`, `t.a`).
pub(crate) fn is_column(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Nested(inner) => is_column(inner),
        _ => false,
    }
}
