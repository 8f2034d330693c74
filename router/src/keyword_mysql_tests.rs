//! The MySQL keyword fast path: statements as the proxy receives them, planned.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;

use super::*;
use crate::normalize::normalize_for;

fn schema() -> Schema {
    Schema::new(NonZeroU32::new(2).expect("non-zero"))
        .with_sharded("accounts", "id", KeyType::Bigint)
        .with_reference("countries")
        .for_dialect(Dialect::MySql)
}

fn planned(sql: &str) -> Option<StatementPlan> {
    let normalized = normalize_for(sql, Dialect::MySql);
    let text = normalized.statements().next().unwrap_or("");
    plan(&schema(), text, sql)
}

fn kind(sql: &str) -> StatementKind {
    let plan = planned(sql).unwrap_or_else(|| panic!("{sql}: not a keyword statement"));
    if let Target::Unsupported(err) = &plan.target {
        panic!("{sql}: {err}");
    }
    plan.kind
}

fn refusal(sql: &str) -> RouteError {
    match planned(sql).map(|p| p.target) {
        Some(Target::Unsupported(err)) => err,
        other => panic!("{sql}: {other:?}"),
    }
}

fn begin(read_only: bool, modes: &str) -> StatementKind {
    StatementKind::Transaction(TxnCommand::Begin {
        read_only,
        modes: modes.into(),
    })
}

#[test]
fn transactions_begin_and_end() {
    assert_eq!(kind("BEGIN"), begin(false, ""));
    assert_eq!(kind("begin work"), begin(false, ""));
    assert_eq!(kind("START TRANSACTION"), begin(false, ""));
    assert_eq!(
        kind("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT"),
        begin(true, "READ ONLY, WITH CONSISTENT SNAPSHOT")
    );
    assert_eq!(
        kind("START TRANSACTION READ WRITE"),
        begin(false, "READ WRITE")
    );
    let commit = |chain| StatementKind::Transaction(TxnCommand::Commit { chain });
    let rollback = |chain| StatementKind::Transaction(TxnCommand::Rollback { chain });
    assert_eq!(kind("COMMIT"), commit(false));
    assert_eq!(kind("COMMIT WORK AND CHAIN"), commit(true));
    assert_eq!(kind("commit and no chain no release"), commit(false));
    assert_eq!(kind("ROLLBACK WORK"), rollback(false));
    assert_eq!(kind("ROLLBACK AND CHAIN"), rollback(true));
    assert_eq!(refusal("COMMIT RELEASE").sqlstate, "0A000");
    assert_eq!(
        refusal("START TRANSACTION ISOLATION LEVEL SERIALIZABLE").sqlstate,
        "42601"
    );
    assert_eq!(refusal("BEGIN maybe").sqlstate, "42601");
}

#[test]
fn savepoints() {
    let txn = StatementKind::Transaction;
    assert_eq!(
        kind("SAVEPOINT s1"),
        txn(TxnCommand::Savepoint("s1".into()))
    );
    assert_eq!(
        kind("SAVEPOINT `S 1`"),
        txn(TxnCommand::Savepoint("S 1".into()))
    );
    assert_eq!(
        kind("RELEASE SAVEPOINT s1"),
        txn(TxnCommand::Release("s1".into()))
    );
    assert_eq!(
        kind("ROLLBACK TO s1"),
        txn(TxnCommand::RollbackTo("s1".into()))
    );
    assert_eq!(
        kind("ROLLBACK WORK TO SAVEPOINT s1"),
        txn(TxnCommand::RollbackTo("s1".into()))
    );
}

#[test]
fn show_reads_shard_zero_except_the_sessions_own() {
    for sql in [
        "SHOW TABLES",
        "SHOW FULL TABLES",
        "SHOW DATABASES",
        "SHOW VARIABLES LIKE 'char%'",
        "SHOW CREATE TABLE accounts",
        "SHOW COLUMNS FROM `accounts`",
    ] {
        let plan = planned(sql).expect("keyword");
        assert_eq!(
            (plan.kind, plan.target),
            (StatementKind::Read, Target::Shard(0)),
            "{sql}"
        );
    }
    for (sql, name) in [
        ("SHOW WARNINGS", "warnings"),
        ("SHOW ERRORS LIMIT 1", "errors"),
        ("SHOW COUNT(*) WARNINGS", "warnings"),
        ("SHOW shardwire.session_token", "shardwire.session_token"),
        (
            "show SHARDWIRE.Read_Consistency",
            "shardwire.read_consistency",
        ),
    ] {
        let plan = planned(sql).expect("keyword");
        assert_eq!(plan.kind, StatementKind::Show(name.into()), "{sql}");
        assert_eq!(plan.target, Target::AnyShard, "{sql}");
    }
}

#[test]
fn use_names_the_database() {
    assert_eq!(kind("USE app"), StatementKind::Use("app".into()));
    assert_eq!(kind("use `my db`"), StatementKind::Use("my db".into()));
}

#[test]
fn proxy_owned_and_connection_bound_commands_are_refused() {
    let xa = refusal("XA START 'x'");
    assert_eq!(xa.sqlstate, "0A000");
    assert!(xa
        .message
        .contains("distributed transactions are the proxy's own"));
    assert!(xa
        .message
        .contains("XA commands from clients are not supported"));
    for sql in [
        "XA COMMIT 'x'",
        "KILL 12",
        "KILL QUERY 12",
        "PREPARE s FROM 'SELECT 1'",
        "EXECUTE s",
        "DEALLOCATE PREPARE s",
        "FLUSH TABLES WITH READ LOCK",
        "LOCK TABLES accounts READ",
        "LOCK TABLES t1 WRITE, countries AS c READ",
        "DO (SELECT COUNT(*) FROM accounts)",
    ] {
        assert_eq!(refusal(sql).sqlstate, "0A000", "{sql}");
    }
    assert!(refusal("KILL 12").message.contains("KILL"));
    assert!(refusal("LOCK TABLES accounts READ")
        .message
        .contains("sharded table \"accounts\""));
}

#[test]
fn utilities_run_on_shard_zero_or_everywhere() {
    for sql in [
        "LOCK TABLES t1 READ, t2 AS x WRITE",
        "UNLOCK TABLES",
        "DO SLEEP(0)",
    ] {
        let plan = planned(sql).expect("keyword");
        assert_eq!(
            (plan.kind, plan.target),
            (StatementKind::Utility, Target::Shard(0)),
            "{sql}"
        );
    }
    let flush = planned("FLUSH PRIVILEGES").expect("keyword");
    assert_eq!(flush.kind, StatementKind::Utility);
    let Target::Spread(spread) = flush.target else {
        panic!("{:?}", flush.target);
    };
    assert!(!spread.transactional);
}

#[test]
fn sets_are_session_commands_and_global_ones_are_refused() {
    assert!(matches!(kind("SET autocommit = 0"), StatementKind::Set(_)));
    assert!(matches!(kind("SET @x = 1"), StatementKind::Set(_)));
    let err = refusal("SET GLOBAL max_connections = 1");
    assert!(err.message.contains("SET GLOBAL"), "{}", err.message);
}

#[test]
fn other_words_take_the_parser_path() {
    assert!(planned("LOCK INSTANCE FOR BACKUP").is_none());
    assert!(planned("UNLOCK INSTANCE").is_none());
}

#[test]
fn reload_shardwire_is_the_proxys() {
    assert_eq!(kind("RELOAD shardwire"), StatementKind::Reload);
    assert!(planned("RELOAD other").is_none());
}
