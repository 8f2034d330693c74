//! MySQL `SET` forms, read through the router's MySQL normalizer as statements arrive.

use crate::command::SetCommand;
use crate::dialect::Dialect;
use crate::error::RouteError;
use crate::keyword::Cursor;
use crate::normalize::normalize_for;

fn set(sql: &str) -> Result<SetCommand, RouteError> {
    let normalized = normalize_for(sql, Dialect::MySql);
    let text = normalized.statements().next().unwrap_or("");
    let mut cursor = Cursor::for_dialect(text, Dialect::MySql);
    assert!(cursor.eat_word("set"), "{sql}");
    super::set(&mut cursor)
}

fn ok(sql: &str) -> SetCommand {
    set(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn assign(name: &str, value: &str) -> SetCommand {
    SetCommand::Assign {
        name: name.into(),
        value: value.into(),
        local: false,
    }
}

#[test]
fn session_variables_in_every_spelling_are_assignments() {
    for sql in [
        "SET sql_mode = 'ANSI'",
        "SET SESSION sql_mode = 'ANSI'",
        "set local SQL_MODE := 'ANSI'",
        "SET @@sql_mode = 'ANSI'",
        "SET @@session.sql_mode = 'ANSI'",
        "SET @@LOCAL.sql_mode='ANSI'",
    ] {
        assert_eq!(ok(sql), assign("sql_mode", "'ANSI'"), "{sql}");
    }
    assert_eq!(
        ok("SET SESSION wait_timeout = DEFAULT"),
        SetCommand::Reset {
            name: "wait_timeout".into(),
            local: false
        }
    );
}

#[test]
fn autocommit_is_visible_to_the_proxy() {
    for (sql, on) in [
        ("SET autocommit = 0", false),
        ("SET autocommit=1", true),
        ("SET AUTOCOMMIT = OFF", false),
        ("SET @@session.autocommit = ON", true),
        ("SET autocommit = DEFAULT", true),
        ("SET NAMES utf8mb4, autocommit = 0", false),
    ] {
        assert_eq!(ok(sql).autocommit(), Some(on), "{sql}");
    }
    assert_eq!(ok("SET sql_mode = ''").autocommit(), None);
    assert_eq!(
        ok("SET autocommit = 0").to_mysql_sql(),
        "SET SESSION autocommit = 0"
    );
}

#[test]
fn user_variables_names_and_character_sets() {
    assert_eq!(ok("SET @X = 1"), assign("@x", "1"));
    assert_eq!(
        ok("SET @`a b` := CONCAT('x', 'y')"),
        assign("@`a b`", "CONCAT('x', 'y')")
    );
    assert_eq!(
        ok("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"),
        assign("names", "utf8mb4 COLLATE utf8mb4_unicode_ci")
    );
    assert_eq!(
        ok("SET CHARACTER SET latin1"),
        assign("character set", "latin1")
    );
    assert_eq!(ok("SET CHARSET 'utf8'"), assign("character set", "'utf8'"));
    assert_eq!(ok("SET @x = 1").to_mysql_sql(), "SET @x = 1");
    assert_eq!(ok("SET NAMES utf8mb4").to_mysql_sql(), "SET NAMES utf8mb4");
}

#[test]
fn several_assignments_are_kept_in_order() {
    let many = ok("SET SESSION a = 1, @b = (1, 2), NAMES utf8mb4, c = DEFAULT");
    assert_eq!(
        many,
        SetCommand::Many(vec![
            assign("a", "1"),
            assign("@b", "(1, 2)"),
            assign("names", "utf8mb4"),
            SetCommand::Reset {
                name: "c".into(),
                local: false
            },
        ])
    );
    assert_eq!(
        many.to_mysql_sql(),
        "SET SESSION a = 1, @b = (1, 2), NAMES utf8mb4, SESSION c = DEFAULT"
    );
}

#[test]
fn transaction_characteristics_are_kept_whole() {
    assert_eq!(
        ok("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        SetCommand::Other {
            text: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED".into(),
            local: true
        }
    );
    assert_eq!(
        ok("SET SESSION TRANSACTION READ ONLY"),
        SetCommand::Other {
            text: "SET SESSION TRANSACTION READ ONLY".into(),
            local: false
        }
    );
}

#[test]
fn shardwire_settings_read_as_in_postgres() {
    assert_eq!(
        ok("SET shardwire.read_consistency = 'session'"),
        assign("shardwire.read_consistency", "'session'")
    );
    assert!(ok("SET shardwire.read_consistency = 'session'").is_shardwire());
    let err = set("SET shardwire.write_concern = 'all', autocommit = 1").unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
}

#[test]
fn global_settings_and_accounts_are_refused() {
    for sql in [
        "SET GLOBAL max_connections = 10",
        "SET @@global.max_connections = 10",
        "SET PERSIST max_connections = 10",
        "SET a = 1, GLOBAL b = 2",
        "SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    ] {
        let err = set(sql).unwrap_err();
        assert_eq!(err.sqlstate, "0A000", "{sql}");
        assert!(err.message.contains("SET GLOBAL"), "{sql}: {}", err.message);
    }
    for sql in [
        "SET PASSWORD = 'x'",
        "SET DEFAULT ROLE ALL TO u",
        "SET STATEMENT max_statement_time=1 FOR SELECT 1",
    ] {
        assert_eq!(set(sql).unwrap_err().sqlstate, "0A000", "{sql}");
    }
}

#[test]
fn malformed_sets_are_syntax_errors() {
    for sql in ["SET", "SET x", "SET x = ", "SET TRANSACTION", "SET a = 1,"] {
        assert_eq!(set(sql).unwrap_err().sqlstate, "42601", "{sql}");
    }
}
