//! The SQL every shard runs, as a template over the normalized statement's literals.
//!
//! Scatter plans are cached by normalized text, like every plan, so the rewritten
//! statement cannot hold the values of one execution: it is printed from the normalized
//! tree, where literals are placeholders `$L1`, `$L2` …, and each execution fills them in
//! with its literals exactly as the client wrote them. Placeholders are found with the
//! router's lexer, so a `$L1` inside a string constant or a quoted identifier is text,
//! never a hole.

use crate::error::{sqlstate, RouteError};
use crate::lexer::{Lexer, TokenKind};
use crate::literal::Literal;

/// SQL text with holes where literals go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTemplate {
    sql: String,
    holes: Vec<Hole>,
    /// Made from the client's own text (the normalized text did not parse), so its
    /// literals are written in and it is only valid for that one text: such a plan must
    /// not be cached by normalized text.
    inline: bool,
}

/// One literal placeholder in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hole {
    /// Byte range of `$L<n>` in the text.
    start: usize,
    end: usize,
    /// Index into the literal list (`$L1` is 0).
    literal: usize,
}

impl SqlTemplate {
    /// A template over `sql`, whose `$L<n>` placeholders (outside strings and quoted
    /// identifiers) are holes for literal `n`.
    pub fn new(sql: impl Into<String>) -> SqlTemplate {
        let sql = sql.into();
        let lexer = Lexer::new(&sql);
        let holes = lexer
            .filter(|token| token.kind == TokenKind::Placeholder)
            .filter_map(|token| {
                let n: usize = lexer.text(&token).strip_prefix("$L")?.parse().ok()?;
                Some(Hole {
                    start: token.start,
                    end: token.end,
                    literal: n.checked_sub(1)?,
                })
            })
            .collect();
        SqlTemplate {
            sql,
            holes,
            inline: false,
        }
    }

    /// A template without holes: text whose literals are already in place.
    pub(crate) fn fixed(sql: String) -> SqlTemplate {
        SqlTemplate {
            sql,
            holes: Vec::new(),
            inline: false,
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

    /// The SQL for one execution: each `$L<n>` replaced by `literals[n-1]` as written.
    /// `XX000` if a literal is missing (a plan resolved with another statement's
    /// literals).
    pub fn render(&self, literals: &[Literal<'_>]) -> Result<String, RouteError> {
        if self.holes.is_empty() {
            return Ok(self.sql.clone());
        }
        let mut out = String::with_capacity(self.sql.len() + 16 * self.holes.len());
        let mut at = 0;
        for hole in &self.holes {
            let literal = literals.get(hole.literal).ok_or_else(|| {
                RouteError::new(
                    sqlstate::INTERNAL_ERROR,
                    format_args!(
                        "shard SQL refers to literal {} that the query lacks",
                        hole.literal + 1
                    ),
                )
            })?;
            out.push_str(self.sql.get(at..hole.start).unwrap_or(""));
            out.push_str(literal.text);
            at = hole.end;
        }
        out.push_str(self.sql.get(at..).unwrap_or(""));
        Ok(out)
    }

    /// The SQL itself when it has no holes (e.g. after
    /// [`Plan::bind_literals`](crate::Plan::bind_literals)); `None` otherwise.
    pub fn text(&self) -> Option<&str> {
        self.holes.is_empty().then_some(self.sql.as_str())
    }

    /// Whether the text holds the client's literals rather than placeholders, so that
    /// the plan holding it is only valid for the exact text it was made from.
    pub(crate) fn has_inline_literals(&self) -> bool {
        self.inline
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
}
