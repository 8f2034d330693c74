//! The keyword fast path: transaction control and session commands without sqlparser.
//!
//! `BEGIN`, `COMMIT`, `SET`, `SHOW` … make up a large share of simple-protocol traffic and
//! need no parse tree, and sqlparser cannot read `PREPARE TRANSACTION`,
//! `COMMIT PREPARED` or `ROLLBACK PREPARED` at all. Statements that start with one of
//! these keywords are classified here from the lexer's tokens (case-insensitive;
//! whitespace and comments were already dropped by the normalizer). The grammar follows
//! PostgreSQL's closely enough to refuse what PostgreSQL refuses (`42601`), because the
//! session acts on these statements itself instead of forwarding them blindly.

use crate::command::{DiscardKind, StatementKind, TxnCommand};
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::literal::{Literal, LiteralKind};
use crate::set;

/// Classifies a statement that starts with a fast-path keyword. `None` if it is not a
/// fast-path statement after all (`PREPARE name AS …`): the parser takes it.
pub(crate) fn classify(text: &str) -> Option<Result<StatementKind, RouteError>> {
    let mut cursor = Cursor::new(text);
    let first = cursor.word()?;
    let kind =
        match first.as_str() {
            "begin" => begin(&mut cursor, true),
            "start" => cursor
                .expect_word("transaction")
                .and_then(|()| begin(&mut cursor, false)),
            "commit" if cursor.eat_word("prepared") => {
                gid(&mut cursor).map(|g| StatementKind::Transaction(TxnCommand::CommitPrepared(g)))
            }
            "commit" | "end" => end_of_transaction(&mut cursor, true),
            "rollback" if cursor.eat_word("prepared") => gid(&mut cursor)
                .map(|g| StatementKind::Transaction(TxnCommand::RollbackPrepared(g))),
            "rollback" | "abort" => end_of_transaction(&mut cursor, false),
            "savepoint" => {
                name(&mut cursor).map(|n| StatementKind::Transaction(TxnCommand::Savepoint(n)))
            }
            "release" => {
                cursor.eat_word("savepoint");
                name(&mut cursor).map(|n| StatementKind::Transaction(TxnCommand::Release(n)))
            }
            "prepare" if cursor.eat_word("transaction") => gid(&mut cursor)
                .map(|g| StatementKind::Transaction(TxnCommand::PrepareTransaction(g))),
            "prepare" => return None,
            "set" => set::set(&mut cursor).map(StatementKind::Set),
            "reset" => set::reset(&mut cursor).map(StatementKind::Set),
            "show" => show(&mut cursor),
            "discard" => discard(&mut cursor),
            "deallocate" => deallocate(&mut cursor),
            "reload" => return reload(&mut cursor).map(Ok),
            _ => return None,
        };
    Some(kind)
}

/// `RELOAD shardwire`; anything else after `RELOAD` is not the proxy's and goes to the
/// parser (which hands it to a backend to reject).
pub(crate) fn reload(cursor: &mut Cursor<'_>) -> Option<StatementKind> {
    (cursor.eat_word("shardwire") && cursor.at_end()).then_some(StatementKind::Reload)
}

/// `BEGIN [WORK | TRANSACTION] [modes]` / `START TRANSACTION [modes]`.
fn begin(cursor: &mut Cursor<'_>, allow_work: bool) -> Result<StatementKind, RouteError> {
    if allow_work && !cursor.eat_word("work") {
        cursor.eat_word("transaction");
    }
    let modes = cursor.rest().to_owned();
    let mut read_only = false;
    let mut first = true;
    while !cursor.at_end() {
        if !first {
            cursor.eat(TokenKind::Comma);
        }
        first = false;
        if cursor.eat_word("isolation") {
            cursor.expect_word("level")?;
            isolation_level(cursor)?;
        } else if cursor.eat_word("read") {
            if cursor.eat_word("only") {
                read_only = true;
            } else {
                cursor.expect_word("write")?;
                read_only = false;
            }
        } else if cursor.eat_word("not") {
            cursor.expect_word("deferrable")?;
        } else if !cursor.eat_word("deferrable") {
            return Err(cursor.syntax_error());
        }
    }
    Ok(StatementKind::Transaction(TxnCommand::Begin {
        read_only,
        modes,
    }))
}

/// `SERIALIZABLE | REPEATABLE READ | READ COMMITTED | READ UNCOMMITTED`.
fn isolation_level(cursor: &mut Cursor<'_>) -> Result<(), RouteError> {
    if cursor.eat_word("serializable") {
        return Ok(());
    }
    if cursor.eat_word("repeatable") {
        return cursor.expect_word("read");
    }
    cursor.expect_word("read")?;
    if cursor.eat_word("committed") || cursor.eat_word("uncommitted") {
        return Ok(());
    }
    Err(cursor.syntax_error())
}

/// `COMMIT | END | ROLLBACK | ABORT [WORK | TRANSACTION] [AND [NO] CHAIN]`, and
/// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`.
fn end_of_transaction(cursor: &mut Cursor<'_>, commit: bool) -> Result<StatementKind, RouteError> {
    if !cursor.eat_word("work") {
        cursor.eat_word("transaction");
    }
    if !commit && cursor.eat_word("to") {
        cursor.eat_word("savepoint");
        return name(cursor).map(|n| StatementKind::Transaction(TxnCommand::RollbackTo(n)));
    }
    let mut chain = false;
    if cursor.eat_word("and") {
        chain = !cursor.eat_word("no");
        cursor.expect_word("chain")?;
    }
    cursor.expect_end()?;
    Ok(StatementKind::Transaction(if commit {
        TxnCommand::Commit { chain }
    } else {
        TxnCommand::Rollback { chain }
    }))
}

/// A transaction identifier string, ending the statement.
fn gid(cursor: &mut Cursor<'_>) -> Result<String, RouteError> {
    let gid = cursor.string().ok_or_else(|| cursor.syntax_error())?;
    cursor.expect_end()?;
    Ok(gid)
}

/// An identifier, ending the statement.
fn name(cursor: &mut Cursor<'_>) -> Result<String, RouteError> {
    let name = cursor.ident().ok_or_else(|| cursor.syntax_error())?;
    cursor.expect_end()?;
    Ok(name)
}

/// `SHOW name | ALL | TIME ZONE | TRANSACTION ISOLATION LEVEL | SESSION AUTHORIZATION`.
fn show(cursor: &mut Cursor<'_>) -> Result<StatementKind, RouteError> {
    let name = if cursor.eat_words(&["time", "zone"]) {
        "timezone".to_owned()
    } else if cursor.eat_words(&["transaction", "isolation", "level"]) {
        "transaction_isolation".to_owned()
    } else if cursor.eat_words(&["session", "authorization"]) {
        "session_authorization".to_owned()
    } else {
        cursor.dotted_name().ok_or_else(|| cursor.syntax_error())?
    };
    cursor.expect_end()?;
    Ok(StatementKind::Show(name))
}

/// `DISCARD ALL | PLANS | SEQUENCES | TEMP | TEMPORARY`.
fn discard(cursor: &mut Cursor<'_>) -> Result<StatementKind, RouteError> {
    let what = cursor.peek_word().ok_or_else(|| cursor.syntax_error())?;
    let kind = match what.as_str() {
        "all" => DiscardKind::All,
        "plans" => DiscardKind::Plans,
        "sequences" => DiscardKind::Sequences,
        "temp" | "temporary" => DiscardKind::Temp,
        _ => return Err(cursor.syntax_error()),
    };
    cursor.next();
    cursor.expect_end()?;
    Ok(StatementKind::Discard(kind))
}

/// `DEALLOCATE [PREPARE] name | ALL`.
fn deallocate(cursor: &mut Cursor<'_>) -> Result<StatementKind, RouteError> {
    // `prepare` is the optional keyword unless it is the statement's name.
    if cursor.peek_word().as_deref() == Some("prepare") && cursor.tokens_left() > 1 {
        cursor.next();
    }
    if cursor.eat_word("all") {
        cursor.expect_end()?;
        return Ok(StatementKind::Deallocate(None));
    }
    name(cursor).map(|n| StatementKind::Deallocate(Some(n)))
}

/// A cursor over the tokens of one statement. Cloning it is how callers look ahead.
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    lexer: Lexer<'a>,
    text: &'a str,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Cursor<'a> {
        Cursor::for_dialect(text, Dialect::Postgres)
    }

    /// A cursor over `text` written in `dialect`.
    pub fn for_dialect(text: &'a str, dialect: Dialect) -> Cursor<'a> {
        Cursor {
            lexer: Lexer::for_dialect(text, dialect),
            text,
        }
    }

    /// The dialect the cursor reads.
    pub fn dialect(&self) -> Dialect {
        self.lexer.dialect()
    }

    pub fn peek(&self) -> Option<Token> {
        self.lexer.peek()
    }

    pub fn next(&mut self) -> Option<Token> {
        self.lexer.next()
    }

    pub fn at_end(&self) -> bool {
        self.peek().is_none()
    }

    fn tokens_left(&self) -> usize {
        self.lexer.count()
    }

    /// The text of `token`.
    pub fn text(&self, token: &Token) -> &'a str {
        self.lexer.text(token)
    }

    /// The statement's text from byte `start` to byte `end` (token offsets).
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    /// The rest of the statement from the next token on.
    pub fn rest(&self) -> &'a str {
        match self.peek() {
            Some(token) => self.text.get(token.start..).unwrap_or("").trim_end(),
            None => "",
        }
    }

    /// The next token if it is an unquoted word, lower case.
    pub fn peek_word(&self) -> Option<String> {
        let token = self.peek().filter(|t| t.kind == TokenKind::Word)?;
        Some(self.text(&token).to_ascii_lowercase())
    }

    /// Consumes and returns the next token if it is an unquoted word, lower case.
    pub fn word(&mut self) -> Option<String> {
        let word = self.peek_word()?;
        self.next();
        Some(word)
    }

    /// Consumes the next token if it is the word `word`.
    pub fn eat_word(&mut self, word: &str) -> bool {
        let matches = self
            .peek()
            .is_some_and(|t| t.kind == TokenKind::Word && self.text(&t).eq_ignore_ascii_case(word));
        if matches {
            self.next();
        }
        matches
    }

    /// Consumes the words `words` if they all come next.
    pub fn eat_words(&mut self, words: &[&str]) -> bool {
        let mut ahead = Cursor {
            lexer: self.lexer,
            text: self.text,
        };
        if words.iter().all(|w| ahead.eat_word(w)) {
            self.lexer = ahead.lexer;
            true
        } else {
            false
        }
    }

    /// Consumes the next token if it is of `kind`.
    pub fn eat(&mut self, kind: TokenKind) -> bool {
        let matches = self.peek().is_some_and(|t| t.kind == kind);
        if matches {
            self.next();
        }
        matches
    }

    /// Consumes the next token if it is the operator or punctuation `symbol`.
    pub fn eat_symbol(&mut self, symbol: &str) -> bool {
        let matches = self.peek().is_some_and(|t| {
            matches!(t.kind, TokenKind::Operator | TokenKind::Other) && self.text(&t) == symbol
        });
        if matches {
            self.next();
        }
        matches
    }

    pub fn expect_word(&mut self, word: &str) -> Result<(), RouteError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub fn expect_end(&self) -> Result<(), RouteError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// An identifier: an unquoted word in lower case, or a quoted identifier's content.
    pub fn ident(&mut self) -> Option<String> {
        let token = self.peek()?;
        let name = match token.kind {
            TokenKind::Word => self.text(&token).to_ascii_lowercase(),
            TokenKind::QuotedIdent => unquote_ident(self.text(&token), self.dialect())?,
            _ => return None,
        };
        self.next();
        Some(name)
    }

    /// Identifiers separated by `.`, joined with `.`, lower case.
    pub fn dotted_name(&mut self) -> Option<String> {
        let mut name = self.ident()?.to_ascii_lowercase();
        while self.eat_symbol(".") {
            name.push('.');
            name.push_str(&self.ident()?.to_ascii_lowercase());
        }
        Some(name)
    }

    /// A string constant's value.
    pub fn string(&mut self) -> Option<String> {
        let token = self.peek()?;
        let kind = match token.kind {
            TokenKind::String if self.dialect() == Dialect::MySql => LiteralKind::MySqlString,
            TokenKind::String => LiteralKind::String,
            TokenKind::EscapeString => LiteralKind::EscapeString,
            _ => return None,
        };
        let literal = Literal {
            text: self.text(&token),
            kind,
        };
        let value = String::from_utf8(literal.value()?.into_owned()).ok()?;
        self.next();
        Some(value)
    }

    /// PostgreSQL's message for an unexpected token at the cursor.
    pub fn syntax_error(&self) -> RouteError {
        match self.peek() {
            Some(token) => RouteError::syntax(format_args!(
                "syntax error at or near \"{}\"",
                self.text(&token)
            )),
            None => RouteError::syntax("syntax error at end of input"),
        }
    }
}

/// The content of a quoted identifier `"…"` (`""` stands for `"`), in MySQL `` `…` ``
/// (` `` ` stands for `` ` ``).
pub(crate) fn unquote_ident(text: &str, dialect: Dialect) -> Option<String> {
    let (quote, doubled, single) = match dialect {
        Dialect::Postgres => ('"', "\"\"", "\""),
        Dialect::MySql => ('`', "``", "`"),
    };
    let body = text.strip_prefix(quote)?.strip_suffix(quote)?;
    Some(body.replace(doubled, single))
}

#[cfg(test)]
#[path = "keyword_tests.rs"]
mod tests;
