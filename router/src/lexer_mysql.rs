//! MySQL's lexical rules for the router's [`Lexer`](super::Lexer), as MariaDB reads text
//! in its default `sql_mode` (no `ANSI_QUOTES`, no `NO_BACKSLASH_ESCAPES`).
//!
//! Where they differ from PostgreSQL's: `'…'` and `"…"` are both strings, and `\`
//! escapes the next character in either (a doubled quote still stands for one);
//! identifiers are quoted with backquotes; `#` starts a line comment and `--` only does
//! when a space or control character follows (`a--1` is `a - -1`); block comments do not
//! nest; `/*! … */` and `/*M! … */` are executable comments whose content is code (the
//! optional version number is skipped, the server is assumed new enough, as it is for
//! `mysqldump` output); `?` is a parameter; `0x1F` and `0b01` are binary strings, kept
//! verbatim like `X'1F'`, `B'01'` and `N'…'`; a run of digits followed by letters is an
//! identifier (`1abc`); `@x` and `@@session.x` are variables, one word each; `$` is an
//! identifier character. The normalizer's own `$L<n>` and `$n` are still recognized, so
//! that normalized text lexes as it does for PostgreSQL (the normalizer quotes client
//! identifiers that start with `$`, so they never clash).

use super::{has_class, is_ident_char, is_ident_start, string_kind, Lexer, Token, TokenKind};
use super::{IDENT_CHAR, SPACE};

/// How many version digits may follow `/*!` (MySQL) and `/*M!` (MariaDB).
const MYSQL_VERSION_DIGITS: usize = 5;
const MARIADB_VERSION_DIGITS: usize = 6;

impl Lexer<'_> {
    /// The next token by MySQL's rules.
    pub(super) fn next_mysql(&mut self) -> Option<Token> {
        let space_before = self.skip_space_mysql();
        let start = self.pos;
        let first = *self.src.as_bytes().get(start)?;
        let second = self.byte(start + 1);
        let kind = match first {
            b'\'' | b'"' => string_kind(self.quoted(first, true), TokenKind::String),
            b'`' => {
                self.quoted(b'`', false);
                TokenKind::QuotedIdent
            }
            b'x' | b'X' | b'b' | b'B' | b'n' | b'N' if second == b'\'' => {
                self.pos += 1;
                // Only national strings take backslash escapes; hex and bit ones hold
                // digits.
                self.quoted(b'\'', matches!(first, b'n' | b'N'));
                TokenKind::OtherString
            }
            b'0' if matches!(second, b'x' | b'b') && is_ident_char(self.byte(start + 2)) => {
                self.pos += 2;
                self.ident_run();
                TokenKind::OtherString
            }
            b'0'..=b'9' => self.number_mysql(),
            b'.' if second.is_ascii_digit() => self.number_mysql(),
            b'?' => self.single(TokenKind::Param),
            b'$' => self.dollar_mysql(),
            b'@' => self.variable(),
            b';' => self.single(TokenKind::Semicolon),
            b'(' => self.single(TokenKind::Open),
            b')' => self.single(TokenKind::Close),
            b',' => self.single(TokenKind::Comma),
            b':' if second == b'=' => {
                self.pos += 2;
                TokenKind::Operator
            }
            b'+' | b'-' | b'*' | b'/' | b'<' | b'>' | b'=' | b'~' | b'!' | b'%' | b'^' | b'&'
            | b'|' => self.single(TokenKind::Operator),
            c if is_ident_start(c) => {
                self.pos += 1;
                self.ident_run();
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

    /// Skips whitespace and comments, and the markers of executable comments; reports
    /// whether there were any.
    fn skip_space_mysql(&mut self) -> bool {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        while let Some(&b) = bytes.get(self.pos) {
            let next = self.byte(self.pos + 1);
            match b {
                _ if has_class(b, SPACE) => self.pos += 1,
                b'#' => self.skip_line(),
                // `byte` gives 0 past the end: `--` at the end is a comment too.
                b'-' if next == b'-' && self.byte(self.pos + 2) <= b' ' => self.skip_line(),
                b'/' if next == b'*' => self.block_comment(),
                b'*' if next == b'/' && self.in_executable_comment => {
                    self.pos += 2;
                    self.in_executable_comment = false;
                }
                _ => break,
            }
        }
        self.pos > start
    }

    fn skip_line(&mut self) {
        let bytes = self.src.as_bytes();
        self.pos = match bytes[self.pos..].iter().position(|&c| c == b'\n') {
            Some(nl) => self.pos + nl + 1,
            None => bytes.len(),
        };
    }

    /// At `/*`: enters an executable comment, or skips a plain one (which does not nest).
    fn block_comment(&mut self) {
        let bytes = self.src.as_bytes();
        let after = self.pos + 2;
        let executable = match (self.byte(after), self.byte(after + 1)) {
            (b'!', _) => Some((after + 1, MYSQL_VERSION_DIGITS)),
            (b'M', b'!') => Some((after + 2, MARIADB_VERSION_DIGITS)),
            _ => None,
        };
        match executable {
            Some((body, digits)) if !self.in_executable_comment => {
                let version = bytes[body.min(bytes.len())..]
                    .iter()
                    .take(digits)
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                self.pos = body + version;
                self.in_executable_comment = true;
            }
            _ => {
                self.pos = match bytes[after.min(bytes.len())..]
                    .windows(2)
                    .position(|w| w == b"*/")
                {
                    Some(found) => after + found + 2,
                    None => bytes.len(),
                };
            }
        }
    }

    /// Consumes identifier characters.
    fn ident_run(&mut self) {
        while has_class(self.byte(self.pos), IDENT_CHAR) {
            self.pos += 1;
        }
    }

    /// A number (`42`, `1.5e3`, `.5`), or an identifier that starts with digits (`1abc`).
    fn number_mysql(&mut self) -> TokenKind {
        let digits = |lexer: &mut Self| {
            while lexer.byte(lexer.pos).is_ascii_digit() {
                lexer.pos += 1;
            }
        };
        digits(self);
        let integer_end = self.pos;
        if self.byte(self.pos) == b'.' && self.byte(self.pos + 1) != b'.' {
            self.pos += 1;
            digits(self);
        }
        if matches!(self.byte(self.pos), b'e' | b'E') {
            let sign = usize::from(matches!(self.byte(self.pos + 1), b'+' | b'-'));
            if self.byte(self.pos + 1 + sign).is_ascii_digit() {
                self.pos += 1 + sign;
                digits(self);
            }
        }
        if self.pos == integer_end && is_ident_char(self.byte(self.pos)) {
            self.ident_run();
            return TokenKind::Word;
        }
        TokenKind::Number
    }

    /// At a `$`: the normalizer's `$L<n>` or `$n`, else an identifier (`$` is a letter in
    /// MySQL).
    fn dollar_mysql(&mut self) -> TokenKind {
        let start = self.pos;
        self.pos += 1;
        let placeholder = self.byte(self.pos) == b'L';
        let digits_at = self.pos + usize::from(placeholder);
        let digits = self.src.as_bytes()[digits_at.min(self.src.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 && !is_ident_char(self.byte(digits_at + digits)) {
            self.pos = digits_at + digits;
            return if placeholder {
                TokenKind::Placeholder
            } else {
                TokenKind::Param
            };
        }
        self.pos = start + 1;
        self.ident_run();
        TokenKind::Word
    }

    /// At `@`: a user variable `@x` (also `@'x'`, `@"x"`, `` @`x` ``, and names with
    /// `.`) or a system variable `@@x`, `@@session.x`, as one word; a lone `@` is an
    /// operator.
    fn variable(&mut self) -> TokenKind {
        self.pos += 1;
        if self.byte(self.pos) == b'@' {
            self.pos += 1;
        }
        match self.byte(self.pos) {
            quote @ (b'\'' | b'"' | b'`') => {
                self.quoted(quote, quote != b'`');
                TokenKind::Word
            }
            c if is_ident_char(c) => {
                while is_ident_char(self.byte(self.pos)) || self.byte(self.pos) == b'.' {
                    self.pos += 1;
                }
                TokenKind::Word
            }
            _ => TokenKind::Operator,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::lexer::{Lexer, TokenKind};

    fn lex(sql: &str) -> Vec<(TokenKind, &str)> {
        let lexer = Lexer::for_dialect(sql, Dialect::MySql);
        lexer.map(|t| (t.kind, lexer.text(&t))).collect()
    }

    #[test]
    fn strings_take_both_quotes_and_backslash_escapes() {
        use TokenKind::*;
        assert_eq!(
            lex(r#"SELECT 'it\'s', "say \"hi\"", 'a''b', `we``ird`, "x\\" FROM t"#),
            vec![
                (Word, "SELECT"),
                (String, r"'it\'s'"),
                (Comma, ","),
                (String, r#""say \"hi\"""#),
                (Comma, ","),
                (String, "'a''b'"),
                (Comma, ","),
                (QuotedIdent, "`we``ird`"),
                (Comma, ","),
                (String, r#""x\\""#),
                (Word, "FROM"),
                (Word, "t"),
            ]
        );
    }

    #[test]
    fn comments_follow_mysql_rules() {
        use TokenKind::*;
        assert_eq!(
            lex("SELECT 1 # hash\n, a--1, 2 -- dash\n, /* a /* b */ 3 --"),
            vec![
                (Word, "SELECT"),
                (Number, "1"),
                (Comma, ","),
                (Word, "a"),
                (Operator, "-"),
                (Operator, "-"),
                (Number, "1"),
                (Comma, ","),
                (Number, "2"),
                (Comma, ","),
                (Number, "3"),
            ]
        );
    }

    #[test]
    fn executable_comments_are_code() {
        use TokenKind::*;
        assert_eq!(
            lex("/*!40101 SET NAMES utf8 */; /*M!100100 SET x=1*/ /*!SELECT*/"),
            vec![
                (Word, "SET"),
                (Word, "NAMES"),
                (Word, "utf8"),
                (Semicolon, ";"),
                (Word, "SET"),
                (Word, "x"),
                (Operator, "="),
                (Number, "1"),
                (Word, "SELECT"),
            ]
        );
    }

    #[test]
    fn parameters_variables_and_binary_strings() {
        use TokenKind::*;
        assert_eq!(
            lex("? @x @@session.sql_mode @'a b' 0x1F X'1f' b'01' 0b01 1abc 1e5 .5 $L3 $2 $x := @"),
            vec![
                (Param, "?"),
                (Word, "@x"),
                (Word, "@@session.sql_mode"),
                (Word, "@'a b'"),
                (OtherString, "0x1F"),
                (OtherString, "X'1f'"),
                (OtherString, "b'01'"),
                (OtherString, "0b01"),
                (Word, "1abc"),
                (Number, "1e5"),
                (Number, ".5"),
                (Placeholder, "$L3"),
                (Param, "$2"),
                (Word, "$x"),
                (Operator, ":="),
                (Operator, "@"),
            ]
        );
    }

    #[test]
    fn unterminated_input_runs_to_the_end() {
        use TokenKind::*;
        assert_eq!(
            lex(r"SELECT 'ab\"),
            vec![(Word, "SELECT"), (OtherString, r"'ab\")]
        );
        assert_eq!(lex("x /*! y"), vec![(Word, "x"), (Word, "y")]);
        assert_eq!(lex("`open"), vec![(QuotedIdent, "`open")]);
        assert_eq!(lex("/*"), vec![]);
        assert_eq!(lex("@"), vec![(Operator, "@")]);
    }
}
