//! Normalization: one statement shape, one cache entry.
//!
//! Simple-protocol clients inline their values (`WHERE id = 42`), so the raw text is a bad
//! cache key. [`normalize`] replaces every literal with a placeholder `$L1`, `$L2`, … (a
//! spelling sqlparser reads as a placeholder and that no client parameter `$n` can clash
//! with), records the literals in order, collapses whitespace and drops comments, and
//! splits the text into statements at top-level `;`. Plans cached under the normalized
//! text refer to values by position ([`KeySource::Literal`](crate::KeySource::Literal)),
//! and each execution supplies its own [`Literal`]s.
//!
//! A few things stay verbatim: statements the keyword fast path handles (`SET`, `BEGIN`,
//! `SHOW` …, whose values are part of their meaning), `COPY` of a table (its options —
//! delimiter, null string, quote — decide how its data is split between shards), strings after a type word
//! (`DATE '…'`, `INTERVAL '…'`: the parser wants a real string there), prefixed and
//! dollar-quoted strings. A `-` directly before a number is folded into the literal where
//! it can only be a sign (`id = -5`, `VALUES (-5)`).
//!
//! MySQL text ([`normalize_for`] with [`Dialect::MySql`]) is read by MySQL's lexical rules
//! and normalized the same way, with three additions: string literals are
//! [`LiteralKind::MySqlString`]s (both quotes, backslash escapes); each `?` parameter
//! becomes `$1`, `$2` … in order of appearance, so that plans refer to parameters as they
//! do for PostgreSQL ([`KeySource::Param`](crate::KeySource::Param)); and a client
//! identifier that starts with `$` (legal in MySQL) is backquoted, so that `$…` in
//! normalized text is always the normalizer's own. A string after a character-set
//! introducer (`_utf8mb4'…'`) stays verbatim like a typed literal.
//!
//! Cost: one pass of the [`lexer`](crate::lexer), one output string and two small vectors.

use std::ops::Range;

use crate::dialect::Dialect;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::literal::{Literal, LiteralKind};

/// A statement text with its literals replaced by placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized<'a> {
    /// The normalized text of all statements, joined by `;`: the plan cache key.
    pub text: String,
    /// The literals, in order: `$L1` is `literals[0]`.
    pub literals: Vec<Literal<'a>>,
    pub(crate) statements: Vec<StatementText>,
}

/// Where one statement is, in the normalized and in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatementText {
    /// Its range in [`Normalized::text`].
    pub normalized: Range<usize>,
    /// Its range in the original SQL.
    pub raw: Range<usize>,
    /// Whether it starts with a keyword of the fast path, or is a `COPY` of a table (kept
    /// verbatim, planned without the cache).
    pub keyword: bool,
}

impl Normalized<'_> {
    /// The normalized text of each statement; empty statements are left out.
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .map(|s| self.text.get(s.normalized.clone()).unwrap_or(""))
    }

    /// Whether this is a single statement of the keyword fast path (`BEGIN`, `SET` …):
    /// those are planned without parsing and not cached, since their values are part of
    /// their text.
    pub(crate) fn is_single_keyword_statement(&self) -> bool {
        matches!(self.statements.as_slice(), [only] if only.keyword)
    }
}

/// First words of the statements the keyword fast path classifies without parsing.
const KEYWORD_STATEMENTS: &[&str] = &[
    "begin",
    "start",
    "commit",
    "end",
    "rollback",
    "abort",
    "savepoint",
    "release",
    "set",
    "reset",
    "show",
    "discard",
    "deallocate",
    "prepare",
    "reload",
];

/// First words of the MySQL statements the keyword fast path classifies (see
/// `keyword_mysql`).
const MYSQL_KEYWORD_STATEMENTS: &[&str] = &[
    "begin",
    "start",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "set",
    "show",
    "use",
    "reload",
    "xa",
    "lock",
    "unlock",
    "kill",
    "flush",
    "do",
    "prepare",
    "execute",
    "deallocate",
    "describe",
    "desc",
];

/// Words after which a `-` before a number can only be a sign.
const SIGN_CONTEXT_WORDS: &[&str] = &[
    "select",
    "where",
    "and",
    "or",
    "not",
    "then",
    "else",
    "when",
    "case",
    "returning",
    "limit",
    "offset",
    "by",
    "on",
    "having",
    "set",
    "between",
    "like",
    "ilike",
    "values",
    "from",
    "to",
];

/// Type words that take a string constant right after them (`DATE '2024-01-01'`).
const TYPED_LITERAL_WORDS: &[&str] = &[
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "timetz",
    "interval",
    "zone",
];

fn is_one_of(word: &[u8], list: &[&str]) -> bool {
    list.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(word))
}

/// What came before the current token, as far as signs and typed literals care.
#[derive(Clone, Copy)]
enum Prev {
    /// Start of a statement.
    Start,
    /// Something that ends a value: a `-` after it is binary.
    Value,
    /// An operator or opening punctuation: a `-` after it is a sign.
    Operator,
    /// A word at this byte range, judged lazily (most words are never asked about).
    Word(usize, usize),
}

impl Prev {
    fn allows_sign(self, sql: &[u8]) -> bool {
        match self {
            Prev::Start | Prev::Operator => true,
            Prev::Value => false,
            Prev::Word(start, end) => {
                is_one_of(sql.get(start..end).unwrap_or(b""), SIGN_CONTEXT_WORDS)
            }
        }
    }

    fn is_type_word(self, sql: &[u8]) -> bool {
        match self {
            Prev::Word(start, end) => {
                is_one_of(sql.get(start..end).unwrap_or(b""), TYPED_LITERAL_WORDS)
            }
            _ => false,
        }
    }

    /// MySQL: a type word, or a character-set introducer (`_utf8mb4`).
    fn is_mysql_type_word(self, sql: &[u8]) -> bool {
        match self {
            Prev::Word(start, _) if sql.get(start) == Some(&b'_') => true,
            _ => self.is_type_word(sql),
        }
    }
}

/// Normalizes PostgreSQL text `sql`: see the module documentation.
pub fn normalize(sql: &str) -> Normalized<'_> {
    normalize_for(sql, Dialect::Postgres)
}

/// Normalizes `sql` written in `dialect`: see the module documentation.
pub fn normalize_for(sql: &str, dialect: Dialect) -> Normalized<'_> {
    let mysql = dialect == Dialect::MySql;
    let keyword_statements = if mysql {
        MYSQL_KEYWORD_STATEMENTS
    } else {
        KEYWORD_STATEMENTS
    };
    let string_kind = if mysql {
        LiteralKind::MySqlString
    } else {
        LiteralKind::String
    };
    let bytes = sql.as_bytes();
    let mut out = Output::new(sql);
    let mut literals = Vec::with_capacity(sql.len() / 6 + 1);
    let mut statements = Vec::with_capacity(1);
    let mut lexer = Lexer::for_dialect(sql, dialect);
    // MySQL `?` parameters seen so far.
    let mut params = 0usize;
    // The statement being built.
    let mut in_statement = false;
    let mut statement = StatementText {
        normalized: 0..0,
        raw: 0..0,
        keyword: false,
    };
    let mut prev = Prev::Start;
    let mut after_placeholder = false;

    while let Some(token) = lexer.next() {
        if token.kind == TokenKind::Semicolon {
            if in_statement {
                statement.normalized.end = out.len();
                statements.push(statement.clone());
                in_statement = false;
            }
            prev = Prev::Start;
            after_placeholder = false;
            continue;
        }
        let first = bytes.get(token.start).copied().unwrap_or(0);
        let space = if in_statement {
            statement.raw.end = token.end;
            token.space_before || (after_placeholder && continues_word(token.kind))
        } else {
            if !out.is_empty() {
                out.push(b";", false);
            }
            in_statement = true;
            statement.normalized.start = out.len();
            statement.raw = token.start..token.end;
            let word = bytes.get(token.start..token.end).unwrap_or(b"");
            statement.keyword = token.kind == TokenKind::Word
                && (is_one_of(word, keyword_statements)
                    || (!mysql
                        && word.eq_ignore_ascii_case(b"copy")
                        && lexer.peek().is_some_and(|t| t.kind != TokenKind::Open)));
            false
        };
        after_placeholder = false;

        if mysql && !statement.keyword {
            match token.kind {
                TokenKind::Param if first == b'?' => {
                    params += 1;
                    out.param(params, space);
                    after_placeholder = true;
                    prev = Prev::Value;
                    continue;
                }
                TokenKind::Word | TokenKind::Param | TokenKind::Placeholder if first == b'$' => {
                    out.backquoted(&token, space);
                    prev = Prev::Value;
                    continue;
                }
                _ => {}
            }
        }
        let type_word = |prev: Prev| {
            if mysql {
                prev.is_mysql_type_word(bytes)
            } else {
                prev.is_type_word(bytes)
            }
        };
        let literal = match token.kind {
            _ if statement.keyword => None,
            TokenKind::Number => Some((token.start, token.end, LiteralKind::Number)),
            TokenKind::String if !type_word(prev) => Some((token.start, token.end, string_kind)),
            TokenKind::EscapeString if !prev.is_type_word(bytes) => {
                Some((token.start, token.end, LiteralKind::EscapeString))
            }
            TokenKind::Operator if first == b'-' && prev.allows_sign(bytes) => {
                signed_number(&mut lexer, &token)
            }
            _ => None,
        };
        match literal {
            Some((start, end, kind)) => {
                literals.push(Literal {
                    text: sql.get(start..end).unwrap_or(""),
                    kind,
                });
                out.placeholder(literals.len(), space);
                after_placeholder = true;
                statement.raw.end = end;
                prev = Prev::Value;
            }
            None => {
                out.verbatim(&token, space);
                prev = match token.kind {
                    TokenKind::Word => Prev::Word(token.start, token.end),
                    TokenKind::Operator | TokenKind::Open | TokenKind::Comma => Prev::Operator,
                    TokenKind::Other if first == b'[' => Prev::Operator,
                    _ => Prev::Value,
                };
            }
        }
    }
    if in_statement {
        statement.normalized.end = out.len();
        statements.push(statement);
    }
    Normalized {
        text: out.finish(),
        literals,
        statements,
    }
}

/// The normalized text being written. Runs of tokens that are copied unchanged and
/// separated by nothing or by exactly one space are copied as one slice of the input.
struct Output<'a> {
    sql: &'a str,
    /// Bytes of the text so far: only whole UTF-8 sequences of `sql` and ASCII are
    /// written, so it is valid UTF-8.
    out: Vec<u8>,
    /// Input not yet copied: `sql[pending.0..pending.1]`, to be copied verbatim.
    pending: Option<(usize, usize)>,
}

impl<'a> Output<'a> {
    fn new(sql: &'a str) -> Output<'a> {
        Output {
            sql,
            out: Vec::with_capacity(sql.len() + sql.len() / 4 + 8),
            pending: None,
        }
    }

    fn flush(&mut self) {
        if let Some((start, end)) = self.pending.take() {
            let bytes = self.sql.as_bytes().get(start..end).unwrap_or(b"");
            match *bytes {
                // Single punctuation (`,`, `(`, `)`) is the most common run between
                // literals: no memcpy for it.
                [b] => self.out.push(b),
                _ => self.out.extend_from_slice(bytes),
            }
        }
    }

    /// The length of the text so far.
    fn len(&mut self) -> usize {
        self.flush();
        self.out.len()
    }

    fn is_empty(&self) -> bool {
        self.out.is_empty() && self.pending.is_none()
    }

    /// Copies `token` as it is, after a space if `space`.
    fn verbatim(&mut self, token: &Token, space: bool) {
        if let Some((_, end)) = &mut self.pending {
            let joins = if space {
                token.start == *end + 1 && self.sql.as_bytes().get(*end) == Some(&b' ')
            } else {
                token.start == *end
            };
            if joins {
                *end = token.end;
                return;
            }
        }
        self.flush();
        if space {
            self.out.push(b' ');
        }
        self.pending = Some((token.start, token.end));
    }

    /// Writes the ASCII `text`, after a space if `space`.
    fn push(&mut self, text: &[u8], space: bool) {
        self.flush();
        if space {
            self.out.push(b' ');
        }
        self.out.extend_from_slice(text);
    }

    /// Writes `token` (an identifier) in backquotes, after a space if `space`.
    fn backquoted(&mut self, token: &Token, space: bool) {
        self.push(b"`", space);
        let text = self
            .sql
            .as_bytes()
            .get(token.start..token.end)
            .unwrap_or(b"");
        self.out.extend_from_slice(text);
        self.out.push(b'`');
    }

    /// Writes the parameter `$<n>` (a MySQL `?`), after a space if `space`.
    fn param(&mut self, n: usize, space: bool) {
        self.push(b"$", space);
        self.out.extend_from_slice(n.to_string().as_bytes());
    }

    /// Writes the placeholder `$L<n>`, after a space if `space`.
    fn placeholder(&mut self, n: usize, space: bool) {
        self.flush();
        if space {
            self.out.push(b' ');
        }
        // Fixed-size copies for the common short numbers: no division loop, no memcpy.
        let digit = |d: usize| b'0' + (d % 10) as u8;
        match n {
            0..=9 => self.out.extend_from_slice(&[b'$', b'L', digit(n)]),
            10..=99 => self
                .out
                .extend_from_slice(&[b'$', b'L', digit(n / 10), digit(n)]),
            100..=999 => {
                self.out
                    .extend_from_slice(&[b'$', b'L', digit(n / 100), digit(n / 10), digit(n)])
            }
            _ => {
                self.out.extend_from_slice(b"$L");
                let start = self.out.len();
                let mut rest = n;
                while rest > 0 {
                    self.out.push(digit(rest));
                    rest /= 10;
                }
                self.out[start..].reverse();
            }
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        // Always valid (see `out`); the fallback only keeps this free of panics.
        String::from_utf8(self.out).unwrap_or_default()
    }
}

/// If a number follows the `-` at `minus` directly, consumes it and returns the span of
/// the signed literal.
fn signed_number(lexer: &mut Lexer<'_>, minus: &Token) -> Option<(usize, usize, LiteralKind)> {
    let next = lexer.peek()?;
    if next.kind != TokenKind::Number || next.start != minus.end {
        return None;
    }
    lexer.next();
    Some((minus.start, next.end, LiteralKind::Number))
}

/// Whether a token of `kind` would run into a preceding placeholder without a space.
fn continues_word(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Word
            | TokenKind::Number
            | TokenKind::Param
            | TokenKind::Placeholder
            | TokenKind::QuotedIdent
    )
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
