//! A fast path for the most common write: `INSERT INTO t (cols) VALUES (…), (…)`.
//!
//! sqlparser needs about 25 µs for a 10-row `INSERT` on this project's reference machine,
//! more than the whole cold-path budget, while the statement's routing needs nothing but
//! the table, the column list and each row's key value. This recognizer reads exactly
//! that shape from the lexer's tokens — rows of placeholders, parameters and simple
//! constants (optionally cast), optionally `RETURNING` plain columns — and gives up
//! (`None`) on anything else, which then takes the parser path. It must produce the same
//! plan as the parser path would (a multi-row insert whose rows may need several shards
//! is split, see [`spread`]); a test checks that on a table of statements.
//!
//! MySQL text takes it too, read with MySQL's lexer (backquoted names, `$n` for `?`);
//! MySQL's own forms (`INSERT … SET`, `ON DUPLICATE KEY UPDATE`, `REPLACE`, `IGNORE`,
//! `VALUE`) fall outside the recognized shape and take the parser path.

use crate::command::StatementKind;
use crate::dialect::Dialect;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::plan::{KeyRoute, KeySource, StatementPlan, Target};
use crate::schema::{Placement, Schema, TableClass};
use crate::spread;

/// The plan of `text` (one normalized statement) if it is a plain `INSERT … VALUES`.
pub(crate) fn plan(schema: &Schema, text: &str) -> Option<StatementPlan> {
    let mut p = Tokens::new(text, schema.dialect());
    if !(p.eat_word("insert") && p.eat_word("into")) {
        return None;
    }
    let mut parts = vec![p.ident()?];
    while p.eat_text(".") {
        parts.push(p.ident()?);
    }
    // The target's own name explains itself: only other words are checked.
    p.words.clear();
    if p.eat_word("as") {
        p.ident()?;
    }
    let columns = p.parenthesized(|p| p.ident())?;
    if !p.eat_word("values") {
        return None;
    }
    let mut rows = vec![p.parenthesized(Tokens::value)?];
    while p.eat_text(",") {
        rows.push(p.parenthesized(Tokens::value)?);
    }
    if p.eat_word("returning") {
        p.plain_column_list()?;
    }
    if p.next().is_some() || rows.iter().any(|row| row.len() != columns.len()) {
        return None;
    }

    let class = schema.classify(&parts);
    if p.mentions_other_configured_table(schema, &class) {
        return None;
    }
    let (name, target) = match class {
        TableClass::Unsharded | TableClass::Catalog => (parts.join("."), Target::Shard(0)),
        TableClass::Configured(info) => {
            let target = match &info.placement {
                // A function may give each shard's copy another value: the parser path
                // decides (see `spread::check`).
                Placement::Reference if p.calls => return None,
                Placement::Reference => spread::reference_insert(),
                Placement::Sharded { key, key_type } => {
                    let position = columns.iter().position(|c| c == key)?;
                    let sources = rows
                        .iter()
                        .map(|row| row[position])
                        .collect::<Option<Vec<KeySource>>>()?;
                    let route = KeyRoute {
                        table: info.name.clone(),
                        column: key.clone(),
                        key_type: *key_type,
                        sources,
                    };
                    if rows.len() > 1 {
                        spread::split_insert_target(text, route, rows.len(), schema.dialect())
                    } else {
                        Target::Key(route)
                    }
                }
            };
            (info.name.clone(), target)
        }
    };
    Some(StatementPlan {
        kind: StatementKind::Write,
        target,
        tables: vec![name],
    })
}

/// The token stream of one statement, with the little grammar the recognizer needs.
struct Tokens<'a> {
    lexer: Lexer<'a>,
    /// Lower-case words seen outside the table name, for the configured-table check.
    words: Vec<&'a str>,
    /// A value calls a function (`now()`).
    calls: bool,
    /// How identifiers are quoted.
    dialect: Dialect,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str, dialect: Dialect) -> Tokens<'a> {
        Tokens {
            lexer: Lexer::for_dialect(text, dialect),
            dialect,
            words: Vec::new(),
            calls: false,
        }
    }

    fn peek(&self) -> Option<Token> {
        self.lexer.peek()
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.lexer.next()?;
        if token.kind == TokenKind::Word {
            self.words.push(self.lexer.text(&token));
        }
        Some(token)
    }

    fn text(&self, token: &Token) -> &'a str {
        self.lexer.text(token)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self
            .peek()
            .is_some_and(|t| t.kind == TokenKind::Word && self.text(&t).eq_ignore_ascii_case(word));
        if found {
            self.next();
        }
        found
    }

    fn eat_text(&mut self, text: &str) -> bool {
        let found = self.peek().is_some_and(|t| self.text(&t) == text);
        if found {
            self.next();
        }
        found
    }

    /// An identifier, lower case (quoted identifiers too, as the scan compares them).
    fn ident(&mut self) -> Option<String> {
        let token = self.peek()?;
        let text = self.text(&token);
        let name = match token.kind {
            TokenKind::Word => text.to_ascii_lowercase(),
            TokenKind::QuotedIdent => {
                let (quote, doubled) = match self.dialect {
                    Dialect::Postgres => ('"', "\"\""),
                    Dialect::MySql => ('`', "``"),
                };
                if text.contains(doubled) {
                    return None;
                }
                text.trim_matches(quote).to_ascii_lowercase()
            }
            _ => return None,
        };
        self.next();
        Some(name)
    }

    /// `( item, item … )`.
    fn parenthesized<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        if !self.eat_text("(") {
            return None;
        }
        let mut items = vec![item(self)?];
        while self.eat_text(",") {
            items.push(item(self)?);
        }
        self.eat_text(")").then_some(items)
    }

    /// One value of a row: `Some(source)` for a value that can be a shard key (a literal
    /// placeholder, a parameter, `NULL`), `Some(None)` for other simple values (`DEFAULT`,
    /// `TRUE`, `now()`), each optionally cast; `None` if the value is not simple.
    fn value(&mut self) -> Option<Option<KeySource>> {
        let token = self.next()?;
        let text = self.text(&token);
        let source = match token.kind {
            TokenKind::Placeholder => {
                let n: usize = text.get(2..)?.parse().ok()?;
                Some(KeySource::Literal(n.checked_sub(1)?))
            }
            TokenKind::Param => {
                let n: u16 = text.get(1..)?.parse().ok()?;
                (n > 0).then_some(KeySource::Param(n))
            }
            TokenKind::Word if text.eq_ignore_ascii_case("null") => Some(KeySource::Shard(0)),
            TokenKind::Word => {
                if self.eat_text("(") {
                    self.calls = true;
                    if !self.eat_text(")") {
                        return None;
                    }
                }
                None
            }
            _ => return None,
        };
        while self.eat_text("::") {
            self.ident()?;
            while self.peek().is_some_and(|t| t.kind == TokenKind::Word) {
                self.next();
            }
            while self.eat_text("[") {
                if !self.eat_text("]") {
                    return None;
                }
            }
        }
        Some(source)
    }

    /// `RETURNING` followed by plain columns: words, `*`, `.` and commas only.
    fn plain_column_list(&mut self) -> Option<()> {
        while let Some(token) = self.peek() {
            let plain = match token.kind {
                TokenKind::Word | TokenKind::QuotedIdent | TokenKind::Comma => true,
                TokenKind::Operator | TokenKind::Other => matches!(self.text(&token), "*" | "."),
                _ => false,
            };
            if !plain {
                return None;
            }
            self.next();
        }
        Some(())
    }

    /// Whether a word other than the target table's own name is a configured table: the
    /// parser path decides those (it refuses unexplained mentions).
    fn mentions_other_configured_table(&self, schema: &Schema, target: &TableClass<'_>) -> bool {
        self.words.iter().any(|word| {
            let Some(info) = schema.by_bare_name(&word.to_ascii_lowercase()) else {
                return false;
            };
            !matches!(target, TableClass::Configured(t) if t.name == info.name)
        })
    }
}

#[cfg(test)]
#[path = "fast_insert_tests.rs"]
mod tests;
