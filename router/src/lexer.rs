//! A hand-written PostgreSQL lexer: the one pass over SQL text that every statement pays.
//!
//! The normalizer (literals → placeholders), the statement splitter and the keyword fast
//! path read SQL through this lexer instead of sqlparser, because it runs on every simple
//! query, cached or not: it allocates nothing and looks at each byte once. It knows just
//! enough of PostgreSQL's lexical rules (`scan.l`) to find token boundaries: whitespace and
//! comments (`--`, nested `/* */`), string constants (`'…'` with `''`, `E'…'` with
//! backslash escapes, `B'…'`, `X'…'`, `N'…'`, `U&'…'`, `$tag$…$tag$`), quoted identifiers,
//! numbers (including `1.5e3`, `0x1F`, `1_000`), `$n` parameters, the normalizer's own
//! `$L<n>` placeholders, and single-character
//! operators and punctuation. It never fails: an unterminated string or comment runs to
//! the end of the text, and the parser or PostgreSQL reports the error.
//!
//! The same tokens come out of MySQL text when the lexer is made for
//! [`Dialect::MySql`](crate::Dialect): its rules differ enough (backslash escapes in every
//! string, `"…"` strings, backquoted identifiers, `#` comments, executable comments, `?`
//! parameters) to live in their own file, `lexer_mysql.rs`.

use crate::dialect::Dialect;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// An unquoted identifier or keyword.
    Word,
    /// A quoted identifier, `"…"` or `U&"…"` (MySQL: `` `…` ``).
    QuotedIdent,
    /// A standard string constant `'…'` (MySQL: `'…'` or `"…"`, backslash escapes).
    String,
    /// An escape string constant `E'…'`.
    EscapeString,
    /// Any other string-like constant (`B'…'`, `X'…'`, `N'…'`, `U&'…'`, dollar-quoted),
    /// and unterminated strings: kept verbatim by the normalizer.
    OtherString,
    /// A numeric constant.
    Number,
    /// A positional parameter `$n` (MySQL: `?`, or `$n` in normalized text).
    Param,
    /// A literal placeholder `$L<n>` of normalized text (not valid PostgreSQL).
    Placeholder,
    /// `;`
    Semicolon,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// One operator character (`+ - * / < > = ~ ! @ # % ^ & | ` ?`) or `::`.
    Operator,
    /// Anything else: `.`, `[`, `]`, `:` and stray bytes.
    Other,
}

/// One token: its kind and where it is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just past its last byte.
    pub end: usize,
    /// Whether whitespace or a comment came before it.
    pub space_before: bool,
}

/// An iterator of [`Token`]s over SQL text. Cheap to copy, which is how callers peek.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// MySQL's rules instead of PostgreSQL's (see `lexer_mysql.rs`).
    mysql: bool,
    /// Inside a MySQL executable comment `/*! … */`, whose closing `*/` is skipped.
    in_executable_comment: bool,
}

impl<'a> Lexer<'a> {
    /// A PostgreSQL lexer at the start of `src`.
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            mysql: false,
            in_executable_comment: false,
        }
    }

    /// A lexer for `dialect` at the start of `src`.
    pub fn for_dialect(src: &'a str, dialect: Dialect) -> Lexer<'a> {
        Lexer {
            mysql: dialect == Dialect::MySql,
            ..Lexer::new(src)
        }
    }

    /// The dialect whose rules this lexer follows.
    pub fn dialect(&self) -> Dialect {
        if self.mysql {
            Dialect::MySql
        } else {
            Dialect::Postgres
        }
    }

    /// The text of `token`.
    pub fn text(&self, token: &Token) -> &'a str {
        self.src.get(token.start..token.end).unwrap_or("")
    }

    /// The next token, without consuming it.
    pub fn peek(&self) -> Option<Token> {
        let mut copy = *self;
        copy.next()
    }

    fn byte(&self, at: usize) -> u8 {
        self.src.as_bytes().get(at).copied().unwrap_or(0)
    }

    /// Skips whitespace and comments; reports whether there were any.
    #[inline]
    fn skip_space(&mut self) -> bool {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                _ if has_class(b, SPACE) => self.pos += 1,
                b'-' if self.byte(self.pos + 1) == b'-' => {
                    self.pos = match bytes[self.pos..].iter().position(|&c| c == b'\n') {
                        Some(nl) => self.pos + nl + 1,
                        None => bytes.len(),
                    };
                }
                b'/' if self.byte(self.pos + 1) == b'*' => self.skip_block_comment(),
                _ => break,
            }
        }
        self.pos > start
    }

    /// Skips a `/* … */` comment, which nests in PostgreSQL.
    fn skip_block_comment(&mut self) {
        let bytes = self.src.as_bytes();
        let mut depth = 0usize;
        while self.pos < bytes.len() {
            match (bytes[self.pos], self.byte(self.pos + 1)) {
                (b'/', b'*') => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Scans a quoted run whose opening `quote` is at `self.pos`, where a doubled quote
    /// stands for one and, if `backslash`, `\` escapes the next byte. Returns whether the
    /// closing quote was found.
    fn quoted(&mut self, quote: u8, backslash: bool) -> bool {
        let bytes = self.src.as_bytes();
        self.pos += 1;
        while let Some(&b) = bytes.get(self.pos) {
            if b == quote {
                if self.byte(self.pos + 1) == quote {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return true;
            }
            self.pos += if backslash && b == b'\\' { 2 } else { 1 };
        }
        self.pos = bytes.len();
        false
    }

    /// At a `$`: a `$n` parameter, a dollar-quoted string, or a stray `$`.
    fn dollar(&mut self) -> TokenKind {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        if self.byte(start + 1).is_ascii_digit() {
            self.pos += 1;
            while self.byte(self.pos).is_ascii_digit() {
                self.pos += 1;
            }
            return TokenKind::Param;
        }
        // `$tag$`: the tag is an identifier without `$`, or empty.
        let mut end = start + 1;
        if is_ident_start(self.byte(end)) {
            while is_ident_char(self.byte(end)) && self.byte(end) != b'$' {
                end += 1;
            }
        }
        if self.byte(end) != b'$' {
            let tag = &bytes[start + 1..end];
            if tag.len() > 1 && tag[0] == b'L' && tag[1..].iter().all(u8::is_ascii_digit) {
                self.pos = end;
                return TokenKind::Placeholder;
            }
            self.pos += 1;
            return TokenKind::Other;
        }
        let tag = &bytes[start..=end];
        let body = end + 1;
        self.pos = match bytes[body..].windows(tag.len()).position(|w| w == tag) {
            Some(found) => body + found + tag.len(),
            None => bytes.len(),
        };
        TokenKind::OtherString
    }

    /// A numeric constant starting at `self.pos`.
    #[inline(always)]
    fn number(&mut self) {
        let radix_prefix = self.byte(self.pos) == b'0'
            && matches!(
                self.byte(self.pos + 1),
                b'x' | b'X' | b'o' | b'O' | b'b' | b'B'
            );
        if radix_prefix {
            self.pos += 2;
            while self.byte(self.pos).is_ascii_alphanumeric() || self.byte(self.pos) == b'_' {
                self.pos += 1;
            }
            return;
        }
        self.digits();
        if self.byte(self.pos) == b'.' && self.byte(self.pos + 1) != b'.' {
            self.pos += 1;
            self.digits();
        }
        if matches!(self.byte(self.pos), b'e' | b'E') {
            let sign = usize::from(matches!(self.byte(self.pos + 1), b'+' | b'-'));
            if self.byte(self.pos + 1 + sign).is_ascii_digit() {
                self.pos += 1 + sign;
                self.digits();
            }
        }
    }

    fn digits(&mut self) {
        while has_class(self.byte(self.pos), DIGITISH) {
            self.pos += 1;
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    #[inline(always)]
    fn next(&mut self) -> Option<Token> {
        if self.mysql {
            return self.next_mysql();
        }
        let space_before = self.skip_space();
        let start = self.pos;
        let first = *self.src.as_bytes().get(start)?;
        let second = self.byte(start + 1);
        let kind = match first {
            b'\'' => string_kind(self.quoted(b'\'', false), TokenKind::String),
            b'"' => {
                self.quoted(b'"', false);
                TokenKind::QuotedIdent
            }
            b'e' | b'E' if second == b'\'' => {
                self.pos += 1;
                string_kind(self.quoted(b'\'', true), TokenKind::EscapeString)
            }
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if second == b'\'' => {
                self.pos += 1;
                self.quoted(b'\'', false);
                TokenKind::OtherString
            }
            b'u' | b'U' if second == b'&' && matches!(self.byte(start + 2), b'\'' | b'"') => {
                self.pos += 2;
                let quote = self.byte(self.pos);
                self.quoted(quote, false);
                if quote == b'"' {
                    TokenKind::QuotedIdent
                } else {
                    TokenKind::OtherString
                }
            }
            b'$' => self.dollar(),
            b'0'..=b'9' => {
                self.number();
                TokenKind::Number
            }
            b'.' if second.is_ascii_digit() => {
                self.number();
                TokenKind::Number
            }
            b';' => self.single(TokenKind::Semicolon),
            b'(' => self.single(TokenKind::Open),
            b')' => self.single(TokenKind::Close),
            b',' => self.single(TokenKind::Comma),
            b':' if second == b':' => {
                self.pos += 2;
                TokenKind::Operator
            }
            b'+' | b'-' | b'*' | b'/' | b'<' | b'>' | b'=' | b'~' | b'!' | b'@' | b'#' | b'%'
            | b'^' | b'&' | b'|' | b'`' | b'?' => self.single(TokenKind::Operator),
            c if is_ident_start(c) => {
                self.pos += 1;
                while is_ident_char(self.byte(self.pos)) {
                    self.pos += 1;
                }
                TokenKind::Word
            }
            _ => self.single(TokenKind::Other),
        };
        Some(Token {
            kind,
            start,
            end: self.pos,
            space_before,
        })
    }
}

impl Lexer<'_> {
    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 1;
        kind
    }
}

/// `kind` for a terminated string, [`TokenKind::OtherString`] (kept verbatim) otherwise.
fn string_kind(terminated: bool, kind: TokenKind) -> TokenKind {
    if terminated {
        kind
    } else {
        TokenKind::OtherString
    }
}

#[path = "lexer_mysql.rs"]
mod mysql;

/// Byte class: whitespace.
const SPACE: u8 = 1;
/// Byte class: starts an identifier — letters, `_` and any non-ASCII byte (PostgreSQL
/// treats every byte ≥ 0x80 as a letter, which also keeps multi-byte characters whole).
const IDENT_START: u8 = 2;
/// Byte class: continues an identifier (also digits and `$`).
const IDENT_CHAR: u8 = 4;
/// Byte class: a decimal digit or `_` (a digit separator).
const DIGITISH: u8 = 8;

/// The class bits of every byte, so that the scanning loops test one table entry.
static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            class |= SPACE;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            class |= IDENT_START | IDENT_CHAR;
        }
        if c.is_ascii_digit() || c == b'$' {
            class |= IDENT_CHAR;
        }
        if c.is_ascii_digit() || c == b'_' {
            class |= DIGITISH;
        }
        table[b] = class;
        b += 1;
    }
    table
}

fn has_class(b: u8, class: u8) -> bool {
    CLASSES[usize::from(b)] & class != 0
}

fn is_ident_start(b: u8) -> bool {
    has_class(b, IDENT_START)
}

fn is_ident_char(b: u8) -> bool {
    has_class(b, IDENT_CHAR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(sql: &str) -> Vec<(TokenKind, &str)> {
        let lexer = Lexer::new(sql);
        lexer.map(|t| (t.kind, lexer.text(&t))).collect()
    }

    #[test]
    fn splits_strings_numbers_words_and_params() {
        use TokenKind::*;
        assert_eq!(
            lex("SELECT a1, 'it''s', E'\\'x', 1.5e-3, $12, \"Q\"\"x\" FROM t;"),
            vec![
                (Word, "SELECT"),
                (Word, "a1"),
                (Comma, ","),
                (String, "'it''s'"),
                (Comma, ","),
                (EscapeString, "E'\\'x'"),
                (Comma, ","),
                (Number, "1.5e-3"),
                (Comma, ","),
                (Param, "$12"),
                (Comma, ","),
                (QuotedIdent, "\"Q\"\"x\""),
                (Word, "FROM"),
                (Word, "t"),
                (Semicolon, ";"),
            ]
        );
    }

    #[test]
    fn skips_comments_including_nested_ones() {
        use TokenKind::*;
        let sql = "-- lead\nSELECT /* a /* nested */ still */ 1 -- tail";
        assert_eq!(lex(sql), vec![(Word, "SELECT"), (Number, "1")]);
        let tokens: Vec<Token> = Lexer::new(sql).collect();
        assert!(tokens.iter().all(|t| t.space_before));
    }

    #[test]
    fn keeps_dollar_quotes_and_prefixed_strings_whole() {
        use TokenKind::*;
        assert_eq!(
            lex("$fn$ it's; $$ $fn$ $$x$$ B'01' X'ff' U&'d\\0061' 0x1F 1_000 .5"),
            vec![
                (OtherString, "$fn$ it's; $$ $fn$"),
                (OtherString, "$$x$$"),
                (OtherString, "B'01'"),
                (OtherString, "X'ff'"),
                (OtherString, "U&'d\\0061'"),
                (Number, "0x1F"),
                (Number, "1_000"),
                (Number, ".5"),
            ]
        );
    }

    #[test]
    fn unterminated_input_runs_to_the_end_without_panicking() {
        use TokenKind::*;
        assert_eq!(
            lex("SELECT 'abc"),
            vec![(Word, "SELECT"), (OtherString, "'abc")]
        );
        assert_eq!(lex("x /* open"), vec![(Word, "x")]);
        assert_eq!(lex("$a$ body"), vec![(OtherString, "$a$ body")]);
        assert_eq!(lex("E'\\"), vec![(OtherString, "E'\\")]);
        assert_eq!(lex("é$ü"), vec![(Word, "é$ü")]);
        assert_eq!(
            lex("$L12::int $L1$x$L1$ $Lx"),
            vec![
                (Placeholder, "$L12"),
                (Operator, "::"),
                (Word, "int"),
                (OtherString, "$L1$x$L1$"),
                (Other, "$"),
                (Word, "Lx"),
            ]
        );
    }

    #[test]
    fn operators_are_single_characters_except_casts() {
        use TokenKind::*;
        assert_eq!(
            lex("a>=-1::int"),
            vec![
                (Word, "a"),
                (Operator, ">"),
                (Operator, "="),
                (Operator, "-"),
                (Number, "1"),
                (Operator, "::"),
                (Word, "int"),
            ]
        );
    }
}
