//! The grammar of `COPY`, read from the lexer's tokens: sqlparser lacks several of its
//! option forms (`HEADER MATCH`, `DEFAULT`, `ON_ERROR` …) and the router must know the
//! options exactly, since they decide where each data row goes.
//!
//! Both option syntaxes are read: `WITH (FORMAT csv, DELIMITER ',', …)` (PostgreSQL
//! 9.0 on) and the older `WITH CSV HEADER DELIMITER AS ','`. The statement's text is
//! the client's (the normalizer leaves `COPY` verbatim), so string options are decoded
//! from their literals.

use crate::lexer::{Lexer, Token, TokenKind};
use crate::literal::{Literal, LiteralKind};

/// A value of a `COPY` option as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// No value (`HEADER`, `FREEZE`).
    None,
    /// A word or number, lower case (`csv`, `true`, `match`, `1`).
    Word(String),
    /// A string constant, decoded.
    Str(Vec<u8>),
    /// `*` (all columns).
    Star,
    /// A parenthesized column list, lower case.
    Columns(Vec<String>),
}

/// One `COPY` option: its name in lower case (legacy spellings mapped to the new ones:
/// `CSV` is `format csv`, `FORCE NOT NULL` is `force_not_null`) and its value.
pub(super) type Opt = (String, Value);

/// A cursor over the tokens of one statement.
pub(super) struct Cursor<'a> {
    lexer: Lexer<'a>,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            lexer: Lexer::new(text),
        }
    }

    pub fn peek(&self) -> Option<Token> {
        self.lexer.peek()
    }

    pub fn next(&mut self) -> Option<Token> {
        self.lexer.next()
    }

    pub fn text(&self, token: &Token) -> &'a str {
        self.lexer.text(token)
    }

    pub fn at_end(&self) -> bool {
        self.peek().is_none()
    }

    pub fn peek_is(&self, kind: TokenKind) -> bool {
        self.peek().is_some_and(|t| t.kind == kind)
    }

    pub fn eat(&mut self, kind: TokenKind) -> bool {
        let found = self.peek_is(kind);
        if found {
            self.next();
        }
        found
    }

    pub fn eat_text(&mut self, text: &str) -> bool {
        let found = self.peek().is_some_and(|t| self.text(&t) == text);
        if found {
            self.next();
        }
        found
    }

    pub fn eat_word(&mut self, word: &str) -> bool {
        let found = self
            .peek()
            .is_some_and(|t| t.kind == TokenKind::Word && self.text(&t).eq_ignore_ascii_case(word));
        if found {
            self.next();
        }
        found
    }

    /// A word, lower case.
    pub fn word(&mut self) -> Option<String> {
        let token = self.peek().filter(|t| t.kind == TokenKind::Word)?;
        self.next();
        Some(self.text(&token).to_ascii_lowercase())
    }

    /// An identifier, lower case (quoted ones too, as the scan compares them).
    pub fn ident(&mut self) -> Option<String> {
        let token = self.peek()?;
        let text = self.text(&token);
        let name = match token.kind {
            TokenKind::Word => text.to_ascii_lowercase(),
            TokenKind::QuotedIdent if !text.contains("\"\"") && text.starts_with('"') => {
                text.trim_matches('"').to_ascii_lowercase()
            }
            _ => return None,
        };
        self.next();
        Some(name)
    }

    /// `a.b.c`, each part lower case.
    pub fn qualified_name(&mut self) -> Option<Vec<String>> {
        let mut parts = vec![self.ident()?];
        while self.eat_text(".") {
            parts.push(self.ident()?);
        }
        Some(parts)
    }

    /// `(a, b, …)`.
    pub fn columns(&mut self) -> Option<Vec<String>> {
        if !self.eat(TokenKind::Open) {
            return None;
        }
        let mut names = vec![self.ident()?];
        while self.eat(TokenKind::Comma) {
            names.push(self.ident()?);
        }
        self.eat(TokenKind::Close).then_some(names)
    }

    /// A string constant (`'…'`, `E'…'`), decoded.
    pub fn string(&mut self) -> Option<Vec<u8>> {
        let token = self.peek()?;
        let kind = match token.kind {
            TokenKind::String => LiteralKind::String,
            TokenKind::EscapeString => LiteralKind::EscapeString,
            _ => return None,
        };
        let literal = Literal {
            text: self.text(&token),
            kind,
        };
        let value = literal.value()?.into_owned();
        self.next();
        Some(value)
    }

    /// The options after the `COPY … FROM|TO target`, up to a `WHERE` or the end.
    /// `None` if they do not follow either grammar.
    pub fn options(&mut self) -> Option<Vec<Opt>> {
        self.eat_word("with");
        let options = if self.peek_is(TokenKind::Open) {
            self.new_options()?
        } else {
            self.legacy_options()?
        };
        (self.at_end() || self.eat_word("where")).then_some(options)
    }

    /// `( name [value], … )`.
    fn new_options(&mut self) -> Option<Vec<Opt>> {
        self.eat(TokenKind::Open);
        let mut options = Vec::new();
        loop {
            let name = self.word()?;
            let value = match self.peek() {
                Some(t) if matches!(t.kind, TokenKind::Comma | TokenKind::Close) => Value::None,
                Some(t) if t.kind == TokenKind::Open => Value::Columns(self.columns()?),
                Some(t) if matches!(t.kind, TokenKind::String | TokenKind::EscapeString) => {
                    Value::Str(self.string()?)
                }
                Some(t) if matches!(t.kind, TokenKind::Word | TokenKind::Number) => {
                    self.next();
                    Value::Word(self.text(&t).to_ascii_lowercase())
                }
                Some(_) if self.eat_text("*") => Value::Star,
                _ => return None,
            };
            options.push((name, value));
            if self.eat(TokenKind::Close) {
                return Some(options);
            }
            if !self.eat(TokenKind::Comma) {
                return None;
            }
        }
    }

    /// `BINARY`, `FREEZE`, `DELIMITER [AS] '…'`, `NULL [AS] '…'`, `CSV`, `HEADER`,
    /// `QUOTE [AS] '…'`, `ESCAPE [AS] '…'`, `FORCE QUOTE …`, `FORCE NOT NULL …`,
    /// `FORCE NULL …`, `ENCODING '…'`, in any order.
    fn legacy_options(&mut self) -> Option<Vec<Opt>> {
        let mut options = Vec::new();
        while !self.at_end() && !self.peek_where() {
            let word = self.word()?;
            let option = match word.as_str() {
                "binary" | "csv" => ("format".to_owned(), Value::Word(word)),
                "freeze" | "header" => (word, Value::None),
                "delimiter" | "null" | "quote" | "escape" | "encoding" => {
                    self.eat_word("as");
                    (word, Value::Str(self.string()?))
                }
                "force" => {
                    let name = if self.eat_word("quote") {
                        "force_quote"
                    } else if self.eat_word("not") && self.eat_word("null") {
                        "force_not_null"
                    } else if self.eat_word("null") {
                        "force_null"
                    } else {
                        return None;
                    };
                    let value = if self.eat_text("*") {
                        Value::Star
                    } else {
                        let mut names = vec![self.ident()?];
                        while self.eat(TokenKind::Comma) {
                            names.push(self.ident()?);
                        }
                        Value::Columns(names)
                    };
                    (name.to_owned(), value)
                }
                _ => return None,
            };
            options.push(option);
        }
        Some(options)
    }

    fn peek_where(&self) -> bool {
        self.peek().is_some_and(|t| {
            t.kind == TokenKind::Word && self.text(&t).eq_ignore_ascii_case("where")
        })
    }
}
