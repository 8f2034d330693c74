//! MySQL `SET`, read into [`SetCommand`]s for the session to track and replay.
//!
//! As for PostgreSQL (`set`), the session keeps a client's settings and replays them on
//! each server connection it lends the client ([`SetCommand::to_mysql_sql`]), so values
//! are kept as the SQL text after `=` / `:=`. How MySQL's forms map:
//! - `SET [SESSION | LOCAL] x = v`, `SET @@[session. | local.]x = v`: `Assign { name: x }`
//!   (MySQL's `LOCAL` is the session scope, so `local` is false); `= DEFAULT` is a
//!   `Reset`; `autocommit` is an ordinary name ([`SetCommand::autocommit`] reads it);
//! - `SET @x = v` (user variables are session state too): `Assign { name: "@x" }`;
//! - `SET NAMES cs [COLLATE c]`: `Assign { name: "names" }`, `SET CHARACTER SET cs` /
//!   `SET CHARSET cs`: `Assign { name: "character set" }`, `SET ROLE r`: `"role"`;
//! - several assignments: [`SetCommand::Many`], a scope word carrying over to the
//!   following assignments as in MySQL;
//! - `SET [SESSION] TRANSACTION …`: `Other` (only `SET TRANSACTION` is transaction-local);
//! - `SET shardwire.x = v`: `Assign` exactly as in PostgreSQL (DESIGN §6), only alone.
//!
//! Refused (`0A000`): `GLOBAL`/`PERSIST`/`@@global.` (a client of the proxy must not
//! change every backend server's global settings), `SET PASSWORD` and `SET DEFAULT ROLE`
//! (accounts are per server), and MariaDB's `SET STATEMENT … FOR` (the statement inside
//! would need routing of its own).

use crate::command::{is_shardwire_name, SetCommand};
use crate::error::RouteError;
use crate::keyword::Cursor;
use crate::lexer::TokenKind;

/// The rest of a MySQL `SET` statement, after the `SET` keyword.
pub(crate) fn set(cursor: &mut Cursor<'_>) -> Result<SetCommand, RouteError> {
    let whole = format!("SET {}", cursor.rest());
    if cursor.eat_word("password") {
        return Err(RouteError::unsupported(
            "SET PASSWORD is not supported: accounts live on each backend server; change \
             passwords on the servers (and shardwire's users in its configuration)",
        ));
    }
    if cursor.eat_words(&["default", "role"]) {
        return Err(RouteError::unsupported(
            "SET DEFAULT ROLE is not supported: accounts live on each backend server",
        ));
    }
    if cursor.eat_word("statement") {
        return Err(RouteError::unsupported(
            "SET STATEMENT … FOR is not supported by shardwire; set the variable for the \
             session instead",
        ));
    }
    if let Some(local) = transaction_scope(cursor)? {
        if cursor.at_end() {
            return Err(cursor.syntax_error());
        }
        return Ok(SetCommand::Other { text: whole, local });
    }
    let mut parts = vec![assignment(cursor)?];
    while cursor.eat(TokenKind::Comma) {
        parts.push(assignment(cursor)?);
    }
    cursor.expect_end()?;
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    if let Some(name) = parts
        .iter()
        .find_map(|p| p.name().filter(|n| is_shardwire_name(n)))
    {
        return Err(RouteError::unsupported(format_args!(
            "{name} must be set on its own, not together with other settings"
        )));
    }
    Ok(SetCommand::Many(parts))
}

/// `[SESSION | LOCAL] TRANSACTION`: `Some(local)` when the statement is one, consumed
/// up to the characteristics (`local` for plain `SET TRANSACTION`, which only concerns
/// the next transaction).
fn transaction_scope(cursor: &mut Cursor<'_>) -> Result<Option<bool>, RouteError> {
    if cursor.eat_word("transaction") {
        return Ok(Some(true));
    }
    if cursor.eat_words(&["global", "transaction"]) {
        return Err(global_refusal());
    }
    if cursor.eat_words(&["session", "transaction"]) || cursor.eat_words(&["local", "transaction"])
    {
        return Ok(Some(false));
    }
    Ok(None)
}

/// One assignment, up to a top-level comma or the end.
fn assignment(cursor: &mut Cursor<'_>) -> Result<SetCommand, RouteError> {
    if ["global", "persist", "persist_only"]
        .iter()
        .any(|w| cursor.eat_word(w))
    {
        return Err(global_refusal());
    }
    // `SESSION x = 1, y = 2`: y is a session variable too, which it is anyway.
    if !cursor.eat_word("session") {
        cursor.eat_word("local");
    }
    if !is_assignment(cursor) {
        if cursor.eat_word("names") {
            return value(cursor, "names".to_owned());
        }
        if cursor.eat_words(&["character", "set"]) || cursor.eat_word("charset") {
            return value(cursor, "character set".to_owned());
        }
        if cursor.eat_word("role") {
            return value(cursor, "role".to_owned());
        }
    }
    let name = variable(cursor)?;
    if !cursor.eat_symbol("=") && !cursor.eat_symbol(":=") {
        return Err(cursor.syntax_error());
    }
    value(cursor, name)
}

/// Whether the cursor is at `word = …` or `word := …` (the generic form, even for a
/// variable called like a special form's keyword).
fn is_assignment(cursor: &Cursor<'_>) -> bool {
    let mut ahead = cursor.clone();
    ahead.next();
    ahead.eat_symbol("=") || ahead.eat_symbol(":=")
}

/// The variable being assigned: `@x` (lower case; quoted names as written), `@@x`,
/// `@@session.x`, or a possibly dotted name.
fn variable(cursor: &mut Cursor<'_>) -> Result<String, RouteError> {
    let token = cursor.peek().ok_or_else(|| cursor.syntax_error())?;
    let text = cursor.text(&token);
    let Some(variable) = text.strip_prefix('@') else {
        return cursor.dotted_name().ok_or_else(|| cursor.syntax_error());
    };
    cursor.next();
    let Some(system) = variable.strip_prefix('@') else {
        let quoted = variable.starts_with(['\'', '"', '`']);
        return Ok(if quoted {
            text.to_owned()
        } else {
            text.to_ascii_lowercase()
        });
    };
    let system = system.to_ascii_lowercase();
    if system.starts_with("global.") {
        return Err(global_refusal());
    }
    let name = system
        .strip_prefix("session.")
        .or_else(|| system.strip_prefix("local."))
        .unwrap_or(&system);
    if name.is_empty() {
        return Err(cursor.syntax_error());
    }
    Ok(name.to_owned())
}

/// The value of an assignment to `name`: its text up to a top-level comma or the end;
/// `DEFAULT` resets (except for user variables, which have no default).
fn value(cursor: &mut Cursor<'_>, name: String) -> Result<SetCommand, RouteError> {
    let first = cursor.peek().ok_or_else(|| cursor.syntax_error())?;
    let mut last = first;
    let mut depth = 0usize;
    while let Some(token) = cursor.peek() {
        match token.kind {
            TokenKind::Comma if depth == 0 => break,
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        last = token;
        cursor.next();
    }
    let value = cursor.slice(first.start, last.end);
    if value.eq_ignore_ascii_case("default") && !name.starts_with('@') {
        return Ok(SetCommand::Reset { name, local: false });
    }
    Ok(SetCommand::Assign {
        name,
        value: value.to_owned(),
        local: false,
    })
}

fn global_refusal() -> RouteError {
    RouteError::unsupported(
        "SET GLOBAL (also PERSIST and @@global.) is not supported: a client of shardwire \
         must not change the global settings of every backend server; set it on the \
         servers themselves",
    )
}

#[cfg(test)]
#[path = "set_mysql_tests.rs"]
mod tests;
