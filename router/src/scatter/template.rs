//! The SQL every shard runs, as a template over the normalized statement's literals.
//!
//! Scatter plans are cached by normalized text, like every plan, so the rewritten
//! statement cannot hold the values of one execution: it is printed from the normalized
//! tree, where literals are placeholders `$L1`, `$L2` …, and each execution fills them in
//! with its literals exactly as the client wrote them. Placeholders are found with the
//! router's lexer, so a `$L1` inside a string constant or a quoted identifier is text,
//! never a hole.
//!
//! MySQL templates ([`Dialect::MySql`]) are printed from MySQL's tree, so identifiers keep
//! their backquotes and literals are filled in as the client wrote them (MySQL escapes
//! and all). Their parameters are the normalizer's `$1`, `$2` … (one per `?` of the
//! client's text), which MySQL does not read: rendering writes each as `?`, and
//! [`SqlTemplate::params`] says which of the client's parameters each `?` takes, in
//! order (a rewrite may reorder or repeat them).

use crate::dialect::Dialect;
use crate::error::{sqlstate, RouteError};
use crate::lexer::{Lexer, TokenKind};
use crate::literal::Literal;

/// SQL text with holes where literals (and MySQL parameters) go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTemplate {
    sql: String,
    holes: Vec<Hole>,
    /// Made from the client's own text (the normalized text did not parse), so its
    /// literals are written in and it is only valid for that one text: such a plan must
    /// not be cached by normalized text.
    inline: bool,
    /// MySQL: the parameter each `?` of the rendered text takes, in order.
    params: Vec<u16>,
}

/// One placeholder in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hole {
    /// Byte range of `$L<n>` (or MySQL's `$n`) in the text.
    start: usize,
    end: usize,
    /// What goes there.
    fill: Fill,
}

/// What fills a hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// The literal at this index of the literal list (`$L1` is 0), as written.
    Literal(usize),
    /// MySQL: `?`, a parameter (which one is in [`SqlTemplate::params`]).
    Param,
}

impl SqlTemplate {
    /// A template over PostgreSQL `sql`, whose `$L<n>` placeholders (outside strings and
    /// quoted identifiers) are holes for literal `n`.
    pub fn new(sql: impl Into<String>) -> SqlTemplate {
        SqlTemplate::for_dialect(sql.into(), Dialect::Postgres)
    }

    /// A template over `sql` written in `dialect`: for MySQL, `$n` parameters are holes
    /// too.
    pub(crate) fn for_dialect(sql: String, dialect: Dialect) -> SqlTemplate {
        let lexer = Lexer::for_dialect(&sql, dialect);
        let mut holes = Vec::new();
        let mut params = Vec::new();
        for token in lexer {
            let text = lexer.text(&token);
            let fill = match token.kind {
                TokenKind::Placeholder => {
                    let Some(n) = text
                        .strip_prefix("$L")
                        .and_then(|n| n.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    let Some(index) = n.checked_sub(1) else {
                        continue;
                    };
                    Fill::Literal(index)
                }
                TokenKind::Param if dialect == Dialect::MySql => {
                    let Some(n) = text.strip_prefix('$').and_then(|n| n.parse::<u16>().ok()) else {
                        continue;
                    };
                    params.push(n);
                    Fill::Param
                }
                _ => continue,
            };
            holes.push(Hole {
                start: token.start,
                end: token.end,
                fill,
            });
        }
        SqlTemplate {
            sql,
            holes,
            inline: false,
            params,
        }
    }

    /// A template without holes: text whose literals are already in place.
    pub(crate) fn fixed(sql: String) -> SqlTemplate {
        SqlTemplate {
            sql,
            holes: Vec::new(),
            inline: false,
            params: Vec::new(),
        }
    }

    /// A template printed from the client's own text (literals written in); see
    /// [`SqlTemplate::has_inline_literals`].
    pub(crate) fn inline(sql: String) -> SqlTemplate {
        SqlTemplate {
            inline: true,
            ..SqlTemplate::fixed(sql)
        }
    }

    /// The SQL for one execution: each `$L<n>` replaced by `literals[n-1]` as written
    /// (MySQL: each parameter by `?`, see [`SqlTemplate::params`]). `XX000` if a literal
    /// is missing (a plan resolved with another statement's literals).
    pub fn render(&self, literals: &[Literal<'_>]) -> Result<String, RouteError> {
        if self.holes.is_empty() {
            return Ok(self.sql.clone());
        }
        let mut out = String::with_capacity(self.sql.len() + 16 * self.holes.len());
        let mut at = 0;
        for hole in &self.holes {
            out.push_str(self.sql.get(at..hole.start).unwrap_or(""));
            out.push_str(hole.text(literals)?);
            at = hole.end;
        }
        out.push_str(self.sql.get(at..).unwrap_or(""));
        Ok(out)
    }

    /// This template with its literals filled in (for a prepared statement, whose
    /// literals are fixed); MySQL parameters stay holes.
    pub(crate) fn fold_literals(
        &self,
        literals: &[Literal<'_>],
    ) -> Result<SqlTemplate, RouteError> {
        if self.params.is_empty() {
            return Ok(SqlTemplate::fixed(self.render(literals)?));
        }
        let mut sql = String::with_capacity(self.sql.len() + 16 * self.holes.len());
        let mut holes = Vec::with_capacity(self.params.len());
        let mut at = 0;
        for hole in &self.holes {
            sql.push_str(self.sql.get(at..hole.start).unwrap_or(""));
            match hole.fill {
                Fill::Literal(_) => sql.push_str(hole.text(literals)?),
                Fill::Param => {
                    let start = sql.len();
                    sql.push_str(self.sql.get(hole.start..hole.end).unwrap_or(""));
                    holes.push(Hole {
                        start,
                        end: sql.len(),
                        fill: Fill::Param,
                    });
                }
            }
            at = hole.end;
        }
        sql.push_str(self.sql.get(at..).unwrap_or(""));
        Ok(SqlTemplate {
            sql,
            holes,
            inline: false,
            params: self.params.clone(),
        })
    }

    /// The SQL itself when it has no holes (e.g. after
    /// [`Plan::bind_literals`](crate::Plan::bind_literals) of a PostgreSQL statement);
    /// `None` otherwise (also for MySQL text with parameters: use
    /// [`SqlTemplate::render`]).
    pub fn text(&self) -> Option<&str> {
        self.holes.is_empty().then_some(self.sql.as_str())
    }

    /// MySQL: the client's parameter (1-based, as numbered by the `?`s of its text) that
    /// each `?` of the rendered text takes, in order; the proxy sends the shards these
    /// values in this order. Empty for PostgreSQL, whose `$n` name their parameters.
    pub fn params(&self) -> &[u16] {
        &self.params
    }

    /// Whether the text holds the client's literals rather than placeholders, so that
    /// the plan holding it is only valid for the exact text it was made from.
    pub(crate) fn has_inline_literals(&self) -> bool {
        self.inline
    }
}

impl Hole {
    /// What this hole is replaced with for one execution.
    fn text<'l>(&self, literals: &'l [Literal<'_>]) -> Result<&'l str, RouteError> {
        match self.fill {
            Fill::Param => Ok("?"),
            Fill::Literal(index) => literals.get(index).map(|l| l.text).ok_or_else(|| {
                RouteError::new(
                    sqlstate::INTERNAL_ERROR,
                    format_args!(
                        "shard SQL refers to literal {} that the query lacks",
                        index + 1
                    ),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::literal::LiteralKind;

    fn literal(text: &str) -> Literal<'_> {
        let kind = if text.starts_with('\'') {
            LiteralKind::String
        } else {
            LiteralKind::Number
        };
        Literal { text, kind }
    }

    #[test]
    fn placeholders_are_filled_with_literals_as_written() {
        let template = SqlTemplate::new("SELECT a FROM t WHERE b = $L2 AND c = '$L1' LIMIT $L1");
        assert_eq!(template.text(), None);
        let rendered = template.render(&[literal("10"), literal("'it''s'")]);
        assert_eq!(
            rendered.as_deref(),
            Ok("SELECT a FROM t WHERE b = 'it''s' AND c = '$L1' LIMIT 10")
        );
    }

    #[test]
    fn a_missing_literal_is_an_internal_error() {
        let template = SqlTemplate::new("SELECT $L3");
        let err = template.render(&[literal("1")]).unwrap_err();
        assert_eq!(err.sqlstate, "XX000");
        assert!(err.message.contains("literal 3"), "{}", err.message);
    }

    #[test]
    fn text_without_placeholders_is_its_own_rendering() {
        let template = SqlTemplate::new("SELECT \"$L1\", $1 FROM t");
        assert_eq!(template.text(), Some("SELECT \"$L1\", $1 FROM t"));
        assert_eq!(
            template.render(&[]).as_deref(),
            Ok("SELECT \"$L1\", $1 FROM t")
        );
        assert!(!template.has_inline_literals());
        assert!(SqlTemplate::inline("SELECT 1".into()).has_inline_literals());
    }

    #[test]
    fn mysql_parameters_render_as_question_marks_in_order() {
        let sql = "SELECT `$L1`, a FROM `t` WHERE b = $2 AND c = $L1 AND d IN ($1, $2)";
        let template = SqlTemplate::for_dialect(sql.into(), Dialect::MySql);
        assert_eq!(template.params(), [2, 1, 2]);
        assert_eq!(template.text(), None);
        let literal = Literal {
            text: r"'it\'s'",
            kind: LiteralKind::MySqlString,
        };
        let rendered = "SELECT `$L1`, a FROM `t` WHERE b = ? AND c = 'it\\'s' AND d IN (?, ?)";
        assert_eq!(template.render(&[literal]).as_deref(), Ok(rendered));
        let folded = template.fold_literals(&[literal]).expect("folds");
        assert_eq!(folded.params(), [2, 1, 2]);
        assert_eq!(folded.render(&[]).as_deref(), Ok(rendered));
    }
}
