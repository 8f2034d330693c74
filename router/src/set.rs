//! `SET` and `RESET`, read into [`SetCommand`]s for the session to track and replay.
//!
//! Under transaction pooling a client's settings must follow it from one server
//! connection to the next, so the session keeps them and replays each as
//! `SET name TO value` ([`SetCommand::to_sql`]). The value is kept as the SQL text after
//! `TO`/`=` — quoting, lists and all — rather than interpreted, so replaying it means
//! exactly what the client wrote. The special forms of PostgreSQL's grammar
//! (`SET TIME ZONE`, `SET SCHEMA`, `SET NAMES`, `SET ROLE` …) become the parameters they
//! set; `SET TRANSACTION`, `SET SESSION CHARACTERISTICS` and `SET CONSTRAINTS` are kept
//! whole.

use crate::command::SetCommand;
use crate::error::RouteError;
use crate::keyword::Cursor;

/// The rest of a `SET` statement, after the `SET` keyword.
pub(crate) fn set(cursor: &mut Cursor<'_>) -> Result<SetCommand, RouteError> {
    let whole = format!("SET {}", cursor.rest());
    let mut local = false;
    if cursor.eat_words(&["session", "authorization"]) {
        return special(cursor, "session_authorization", false);
    }
    if cursor.eat_words(&["session", "characteristics"]) {
        return other(cursor, whole, false);
    }
    if !cursor.eat_word("session") {
        local = cursor.eat_word("local");
    }
    if cursor.eat_word("transaction") || cursor.eat_word("constraints") {
        return other(cursor, whole, true);
    }
    if cursor.eat_words(&["time", "zone"]) {
        if cursor.eat_word("local") {
            cursor.expect_end()?;
            return Ok(SetCommand::Reset {
                name: "timezone".into(),
                local,
            });
        }
        return special(cursor, "timezone", local);
    }
    if cursor.eat_words(&["session", "authorization"]) {
        return special(cursor, "session_authorization", local);
    }
    if cursor.eat_words(&["xml", "option"]) {
        return special(cursor, "xmloption", local);
    }
    for (word, name) in [
        ("schema", "search_path"),
        ("names", "client_encoding"),
        ("role", "role"),
    ] {
        // `SET role TO x` is the generic form; `SET ROLE x` the special one.
        if cursor.peek_word().as_deref() == Some(word) && !is_assignment(cursor) {
            cursor.next();
            if word == "names" && cursor.at_end() {
                return Ok(SetCommand::Reset {
                    name: name.into(),
                    local,
                });
            }
            return special(cursor, name, local);
        }
    }
    let name = cursor.dotted_name().ok_or_else(|| cursor.syntax_error())?;
    if !cursor.eat_word("to") && !cursor.eat_symbol("=") {
        return Err(cursor.syntax_error());
    }
    special(cursor, &name, local)
}

/// Whether the cursor is at `word TO …` or `word = …` (the generic form).
fn is_assignment(cursor: &Cursor<'_>) -> bool {
    let mut ahead = Cursor::new(cursor.rest());
    ahead.next();
    ahead.eat_word("to") || ahead.peek().is_some_and(|t| ahead.text(&t) == "=")
}

/// `value` for parameter `name`: the rest of the statement, `DEFAULT` meaning reset.
fn special(cursor: &mut Cursor<'_>, name: &str, local: bool) -> Result<SetCommand, RouteError> {
    let value = cursor.rest();
    if value.is_empty() {
        return Err(cursor.syntax_error());
    }
    if value.eq_ignore_ascii_case("default") {
        return Ok(SetCommand::Reset {
            name: name.to_owned(),
            local,
        });
    }
    Ok(SetCommand::Assign {
        name: name.to_owned(),
        value: value.to_owned(),
        local,
    })
}

/// A `SET` form kept whole.
fn other(cursor: &mut Cursor<'_>, text: String, local: bool) -> Result<SetCommand, RouteError> {
    if cursor.at_end() {
        return Err(cursor.syntax_error());
    }
    Ok(SetCommand::Other { text, local })
}

/// The rest of a `RESET` statement, after the `RESET` keyword.
pub(crate) fn reset(cursor: &mut Cursor<'_>) -> Result<SetCommand, RouteError> {
    let command = if cursor.eat_word("all") {
        SetCommand::ResetAll
    } else {
        let name = if cursor.eat_words(&["time", "zone"]) {
            "timezone".to_owned()
        } else if cursor.eat_words(&["session", "authorization"]) {
            "session_authorization".to_owned()
        } else if cursor.eat_words(&["transaction", "isolation", "level"]) {
            "transaction_isolation".to_owned()
        } else {
            cursor.dotted_name().ok_or_else(|| cursor.syntax_error())?
        };
        SetCommand::Reset { name, local: false }
    };
    cursor.expect_end()?;
    Ok(command)
}
