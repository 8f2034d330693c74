//! The keyword fast path: transaction control, SET/RESET, SHOW, DISCARD, DEALLOCATE.

use super::*;
use crate::command::SetCommand;
use crate::normalize::normalize;

/// Classifies `sql` the way the router does: normalized first (comments and case).
fn kind(sql: &str) -> Option<Result<StatementKind, RouteError>> {
    let normalized = normalize(sql);
    let statement = normalized.statements().next().unwrap_or("");
    classify(statement)
}

fn ok(sql: &str) -> StatementKind {
    match kind(sql) {
        Some(Ok(kind)) => kind,
        other => panic!("{sql:?}: {other:?}"),
    }
}

fn txn(command: TxnCommand) -> StatementKind {
    StatementKind::Transaction(command)
}

fn begin(read_only: bool, modes: &str) -> StatementKind {
    txn(TxnCommand::Begin {
        read_only,
        modes: modes.into(),
    })
}

fn assign(name: &str, value: &str, local: bool) -> StatementKind {
    StatementKind::Set(SetCommand::Assign {
        name: name.into(),
        value: value.into(),
        local,
    })
}

fn reset(name: &str, local: bool) -> StatementKind {
    StatementKind::Set(SetCommand::Reset {
        name: name.into(),
        local,
    })
}

#[test]
fn transaction_control_is_classified_without_parsing() {
    let cases = [
        ("BEGIN", begin(false, "")),
        ("begin work", begin(false, "")),
        ("  /* c */ BEGIN TRANSACTION -- x", begin(false, "")),
        ("BEGIN READ ONLY", begin(true, "READ ONLY")),
        (
            "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY, NOT DEFERRABLE",
            begin(
                true,
                "ISOLATION LEVEL REPEATABLE READ, READ ONLY, NOT DEFERRABLE",
            ),
        ),
        (
            "begin isolation level serializable read only deferrable",
            begin(true, "isolation level serializable read only deferrable"),
        ),
        (
            "BEGIN READ ONLY, READ WRITE",
            begin(false, "READ ONLY, READ WRITE"),
        ),
        ("COMMIT", txn(TxnCommand::Commit { chain: false })),
        ("END WORK", txn(TxnCommand::Commit { chain: false })),
        ("commit and chain", txn(TxnCommand::Commit { chain: true })),
        (
            "COMMIT AND NO CHAIN",
            txn(TxnCommand::Commit { chain: false }),
        ),
        ("ROLLBACK", txn(TxnCommand::Rollback { chain: false })),
        (
            "ABORT TRANSACTION",
            txn(TxnCommand::Rollback { chain: false }),
        ),
        (
            "ROLLBACK AND CHAIN",
            txn(TxnCommand::Rollback { chain: true }),
        ),
        ("SAVEPOINT Sp1", txn(TxnCommand::Savepoint("sp1".into()))),
        (
            "SAVEPOINT \"Sp1\"",
            txn(TxnCommand::Savepoint("Sp1".into())),
        ),
        (
            "RELEASE SAVEPOINT sp1",
            txn(TxnCommand::Release("sp1".into())),
        ),
        ("RELEASE sp1", txn(TxnCommand::Release("sp1".into()))),
        ("ROLLBACK TO sp1", txn(TxnCommand::RollbackTo("sp1".into()))),
        (
            "ROLLBACK WORK TO SAVEPOINT sp1",
            txn(TxnCommand::RollbackTo("sp1".into())),
        ),
        (
            "PREPARE TRANSACTION 'sw_1'",
            txn(TxnCommand::PrepareTransaction("sw_1".into())),
        ),
        (
            "COMMIT PREPARED 'it''s'",
            txn(TxnCommand::CommitPrepared("it's".into())),
        ),
        (
            "rollback prepared E'g\\x31'",
            txn(TxnCommand::RollbackPrepared("g1".into())),
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(ok(sql), expected, "{sql}");
    }
}

#[test]
fn set_keeps_the_value_text_for_replay() {
    let cases = [
        (
            "SET search_path TO '$user', public",
            assign("search_path", "'$user', public", false),
        ),
        (
            "set SESSION application_name = 'app'",
            assign("application_name", "'app'", false),
        ),
        (
            "SET LOCAL statement_timeout TO 5000",
            assign("statement_timeout", "5000", true),
        ),
        ("SET TimeZone TO 'UTC'", assign("timezone", "'UTC'", false)),
        (
            "SET TIME ZONE 'Europe/Paris'",
            assign("timezone", "'Europe/Paris'", false),
        ),
        (
            "SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE",
            assign("timezone", "INTERVAL '+02:00' HOUR TO MINUTE", false),
        ),
        ("SET TIME ZONE LOCAL", reset("timezone", false)),
        ("SET TIME ZONE DEFAULT", reset("timezone", false)),
        ("SET SCHEMA 'app'", assign("search_path", "'app'", false)),
        (
            "SET NAMES 'UTF8'",
            assign("client_encoding", "'UTF8'", false),
        ),
        ("SET ROLE admin", assign("role", "admin", false)),
        ("SET role TO admin", assign("role", "admin", false)),
        (
            "SET SESSION AUTHORIZATION bob",
            assign("session_authorization", "bob", false),
        ),
        (
            "SET XML OPTION DOCUMENT",
            assign("xmloption", "DOCUMENT", false),
        ),
        ("SET work_mem TO DEFAULT", reset("work_mem", false)),
        ("SET LOCAL work_mem = default", reset("work_mem", true)),
        (
            "SET shardwire.read_consistency = 'session'",
            assign("shardwire.read_consistency", "'session'", false),
        ),
        (
            "SET \"MyExt\".Setting TO 1",
            assign("myext.setting", "1", false),
        ),
        ("RESET search_path", reset("search_path", false)),
        ("RESET TIME ZONE", reset("timezone", false)),
        ("reset all", StatementKind::Set(SetCommand::ResetAll)),
    ];
    for (sql, expected) in cases {
        assert_eq!(ok(sql), expected, "{sql}");
    }
}

#[test]
fn set_forms_without_a_single_parameter_are_kept_whole() {
    for (sql, local) in [
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", true),
        (
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            false,
        ),
        ("SET CONSTRAINTS ALL DEFERRED", true),
    ] {
        assert_eq!(
            ok(sql),
            StatementKind::Set(SetCommand::Other {
                text: sql.into(),
                local
            }),
            "{sql}"
        );
    }
}

#[test]
fn shardwire_settings_are_flagged() {
    let StatementKind::Set(set) = ok("SET shardwire.write_concern TO 'majority'") else {
        panic!("not a SET");
    };
    assert!(set.is_shardwire());
    let StatementKind::Set(set) = ok("SET search_path TO x") else {
        panic!("not a SET");
    };
    assert!(!set.is_shardwire());
}

#[test]
fn set_commands_replay_as_sql() {
    let replay = |sql: &str| match ok(sql) {
        StatementKind::Set(set) => set.to_sql(),
        other => panic!("{other:?}"),
    };
    assert_eq!(replay("SET search_path = a, b"), "SET search_path TO a, b");
    assert_eq!(
        replay("SET LOCAL work_mem TO '4MB'"),
        "SET LOCAL work_mem TO '4MB'"
    );
    assert_eq!(
        replay("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE"),
        "SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE"
    );
    assert_eq!(replay("SET \"My-Ext\".x = 1"), "SET \"my-ext\".x TO 1");
    assert_eq!(replay("RESET work_mem"), "RESET work_mem");
    assert_eq!(replay("RESET ALL"), "RESET ALL");
}

#[test]
fn show_discard_and_deallocate() {
    let cases = [
        (
            "SHOW search_path",
            StatementKind::Show("search_path".into()),
        ),
        ("show ALL", StatementKind::Show("all".into())),
        ("SHOW TIME ZONE", StatementKind::Show("timezone".into())),
        (
            "SHOW TRANSACTION ISOLATION LEVEL",
            StatementKind::Show("transaction_isolation".into()),
        ),
        (
            "SHOW shardwire.session_token",
            StatementKind::Show("shardwire.session_token".into()),
        ),
        ("DISCARD ALL", StatementKind::Discard(DiscardKind::All)),
        (
            "discard temporary",
            StatementKind::Discard(DiscardKind::Temp),
        ),
        ("DISCARD PLANS", StatementKind::Discard(DiscardKind::Plans)),
        (
            "DISCARD SEQUENCES",
            StatementKind::Discard(DiscardKind::Sequences),
        ),
        ("DEALLOCATE ALL", StatementKind::Deallocate(None)),
        ("DEALLOCATE PREPARE ALL", StatementKind::Deallocate(None)),
        (
            "DEALLOCATE S1",
            StatementKind::Deallocate(Some("s1".into())),
        ),
        (
            "DEALLOCATE PREPARE s1",
            StatementKind::Deallocate(Some("s1".into())),
        ),
        (
            "DEALLOCATE prepare",
            StatementKind::Deallocate(Some("prepare".into())),
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(ok(sql), expected, "{sql}");
    }
}

#[test]
fn sql_level_prepare_is_left_to_the_parser() {
    assert_eq!(kind("PREPARE q AS SELECT 1"), None);
    assert_eq!(kind("SELECT 1"), None);
}

#[test]
fn malformed_keyword_statements_are_syntax_errors() {
    for (sql, message) in [
        ("BEGIN nonsense", "syntax error at or near \"nonsense\""),
        ("BEGIN ISOLATION LEVEL", "syntax error at end of input"),
        ("COMMIT later", "syntax error at or near \"later\""),
        ("SAVEPOINT", "syntax error at end of input"),
        ("SET", "syntax error at end of input"),
        ("SET x", "syntax error at end of input"),
        ("SET x TO", "syntax error at end of input"),
        ("SET x < 1", "syntax error at or near \"<\""),
        ("SHOW", "syntax error at end of input"),
        (
            "DISCARD everything",
            "syntax error at or near \"everything\"",
        ),
        ("PREPARE TRANSACTION gid", "syntax error at or near \"gid\""),
        ("START", "syntax error at end of input"),
    ] {
        match kind(sql) {
            Some(Err(err)) => {
                assert_eq!(err.sqlstate, "42601", "{sql}");
                assert_eq!(err.message, format!("shardwire: {message}"), "{sql}");
            }
            other => panic!("{sql:?}: {other:?}"),
        }
    }
}

#[test]
fn reload_shardwire_is_the_proxys_and_other_reloads_are_not() {
    assert_eq!(ok("RELOAD shardwire"), StatementKind::Reload);
    assert_eq!(ok("reload SHARDWIRE;"), StatementKind::Reload);
    assert_eq!(ok("/* ops */ RELOAD shardwire"), StatementKind::Reload);
    assert!(kind("RELOAD").is_none());
    assert!(kind("RELOAD shardwire now").is_none());
    assert!(kind("RELOAD config").is_none());
}
