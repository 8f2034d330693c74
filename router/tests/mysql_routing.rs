//! The MySQL dialect: MySQL/MariaDB statements as the MySQL frontend receives them land
//! on the shard that PostgreSQL's hash partitioning picks for their key (the same
//! function as for PostgreSQL, DESIGN §5), session commands are classified, and what
//! cannot work through the proxy is refused with `0A000`.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;

use common::{assert_refused, int, schema, shard, shop, spread, text, uuid, SHARDS};
use shardwire_router::{
    Dialect, KeySource, ParamValue, Plan, RouteError, Router, ScatterPlan, SetCommand,
    SpreadAction, StatementKind, Target, TxnCommand, ValueRef,
};

fn mysql() -> Router {
    Router::new(schema(SHARDS), Dialect::MySql)
}

fn mysql_shop() -> Router {
    Router::new(shop(SHARDS), Dialect::MySql)
}

fn shards() -> NonZeroU32 {
    NonZeroU32::new(SHARDS).unwrap()
}

fn routed(router: &Router, sql: &str) -> Option<u32> {
    shard(router, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn kind(router: &Router, sql: &str) -> StatementKind {
    let routed = router
        .route_simple(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    routed.plan.statements[0].kind.clone()
}

fn prepared(router: &Router, sql: &str, params: &[ParamValue<'_>]) -> Option<u32> {
    let plan: Arc<Plan> = router
        .prepare(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let params = params.to_vec();
    plan.resolve(&[], &params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))[0]
}

/// The scatter plan of a one-statement read, and its shard SQL rendered for this text.
fn scattered(router: &Router, sql: &str) -> (Arc<ScatterPlan>, String) {
    let routed = router
        .route_simple(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let Target::Scatter(plan) = &routed.plan.statements[0].target else {
        panic!(
            "{sql}: not scattered: {:?}",
            routed.plan.statements[0].target
        );
    };
    let rendered = plan
        .shard_sql
        .render(&router.normalize(sql).literals)
        .unwrap();
    (Arc::clone(plan), rendered)
}

/// Two text keys on different shards.
fn names_on_two_shards() -> (String, String) {
    let a = "a".to_owned();
    let b = (0..)
        .map(|i| format!("b{i}"))
        .find(|b| text(b) != text(&a))
        .unwrap();
    (a, b)
}

#[test]
fn backquoted_tables_and_columns_match_the_configuration() {
    let router = mysql();
    for sql in [
        "SELECT * FROM `accounts` WHERE `id` = 42",
        "SELECT * FROM `Accounts` WHERE `ID` = 42",
        "select a.* from accounts as `a` where `a`.`id` = 42",
        "SELECT * FROM app.`accounts` WHERE id = 42",
        "UPDATE `accounts` SET `v` = 1 WHERE `id` = 42",
        "INSERT INTO `accounts` (`id`, `v`) VALUES (42, 'x')",
        "DELETE FROM accounts WHERE id = '42'",
    ] {
        assert_eq!(routed(&router, sql), int(42), "{sql}");
    }
    // A qualified name is a database in MySQL: still the sharded table.
    assert_refused(
        &router,
        "SELECT * FROM otherdb.accounts WHERE v = 1 FOR UPDATE",
        "0A000",
        "accounts",
    );
}

#[test]
fn string_keys_are_hashed_unescaped_in_either_quote() {
    let router = mysql();
    for (sql, key) in [
        (r"SELECT * FROM users WHERE name = 'it\'s'", "it's"),
        ("SELECT * FROM users WHERE name = 'it''s'", "it's"),
        (r#"SELECT * FROM users WHERE name = "it's""#, "it's"),
        (
            r#"SELECT * FROM users WHERE name = "say \"hi\"""#,
            "say \"hi\"",
        ),
        (r#"SELECT * FROM users WHERE name = "a""b""#, "a\"b"),
        (
            r"SELECT * FROM users WHERE name = 'back\\slash'",
            "back\\slash",
        ),
        (r"SELECT * FROM users WHERE name = 'tab\there'", "tab\there"),
        (r"SELECT * FROM users WHERE name = 'pct\%'", "pct\\%"),
        (r"SELECT * FROM users WHERE name = 'new\nline'", "new\nline"),
        (
            "SELECT * FROM users WHERE name = 'plain' # a comment",
            "plain",
        ),
        ("SELECT * FROM users WHERE name = 'x' -- a comment", "x"),
    ] {
        assert_eq!(routed(&router, sql), text(key), "{sql}");
    }
    let id = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    let sql = format!("SELECT * FROM sessions WHERE sid = \"{id}\"");
    assert_eq!(routed(&router, &sql), uuid(id));
    assert_eq!(
        routed(&router, "SELECT * FROM events WHERE k = \"7\""),
        int(7)
    );
}

#[test]
fn question_mark_parameters_feed_the_key_like_postgres_dollar_parameters() {
    let router = mysql();
    let plan = router
        .prepare("SELECT * FROM accounts WHERE id = ?", &[])
        .unwrap();
    let Target::Key(route) = &plan.statements[0].target else {
        panic!("{:?}", plan.statements[0].target);
    };
    assert_eq!(route.sources, [KeySource::Param(1)]);
    assert_eq!(
        plan.resolve(&[], &[ParamValue::text("42")]).unwrap(),
        [int(42)]
    );
    // The proxy passes MySQL's binary integers as decimal text, or as big-endian
    // bytes of OID 0 (length picks the width).
    let bytes = 42i64.to_be_bytes();
    assert_eq!(
        plan.resolve(&[], &[ParamValue::binary(&bytes, 0)]).unwrap(),
        [int(42)]
    );
    let p = ParamValue::text;
    assert_eq!(
        prepared(
            &router,
            "UPDATE accounts SET v = ? WHERE id = ?",
            &[p("x"), p("9")]
        ),
        int(9)
    );
    assert_eq!(
        prepared(
            &router,
            "INSERT INTO accounts SET v = ?, id = ?",
            &[p("x"), p("10")]
        ),
        int(10)
    );
    assert_eq!(
        prepared(
            &router,
            "INSERT INTO users (v, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = ?",
            &[p("1"), p("bob"), p("2")]
        ),
        text("bob")
    );
    // A literal in a prepared statement is folded; the `?` after it is still $1.
    assert_eq!(
        prepared(
            &router,
            "SELECT * FROM accounts WHERE v = 'q?' AND id = ?",
            &[p("11")]
        ),
        int(11)
    );
}

#[test]
fn limit_offset_comma_count_scatters_with_mysql_shard_sql() {
    let router = mysql_shop();
    for sql in [
        "SELECT `id`, name FROM `customers` ORDER BY `id` LIMIT 5, 10",
        "SELECT `id`, name FROM `customers` ORDER BY `id` LIMIT 10 OFFSET 5",
    ] {
        let (plan, shard_sql) = scattered(&router, sql);
        assert_eq!(
            shard_sql, "SELECT `id`, name FROM `customers` ORDER BY `id`",
            "{sql}: MySQL's LIMIT takes no sum; every shard sends its rows"
        );
        let literals = router.normalize(sql).literals;
        let value = |v: &Option<ValueRef>| match v {
            Some(ValueRef::Literal(i)) => literals[*i].text,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (value(&plan.merge.limit), value(&plan.merge.offset)),
            ("10", "5")
        );
        // MySQL sorts NULLs first when ascending.
        assert!(plan.merge.order_by[0].nulls_first);
    }
    let (_, shard_sql) = scattered(&router, "SELECT * FROM customers ORDER BY id DESC LIMIT 3");
    assert_eq!(
        shard_sql,
        "SELECT *, id AS __sw_1 FROM customers ORDER BY id DESC LIMIT 3"
    );
}

#[test]
fn aggregate_rewrites_render_valid_mysql() {
    let router = mysql_shop();
    let (_, shard_sql) = scattered(
        &router,
        "SELECT `name`, avg(`id`), count(*) FROM `customers` WHERE name <> \"x\" GROUP BY `name`",
    );
    assert!(!shard_sql.contains("::"), "{shard_sql}");
    assert!(
        !shard_sql.contains('"') || shard_sql.contains("\"x\""),
        "{shard_sql}"
    );
    assert!(shard_sql.contains("FROM `customers`"), "{shard_sql}");
    assert!(shard_sql.contains("sum(`id`)"), "{shard_sql}");
}

#[test]
fn prepared_scatters_send_question_marks_with_their_parameter_order() {
    let router = mysql_shop();
    let plan = router
        .prepare(
            "SELECT * FROM customers WHERE name = ? AND id IN (?, ?)",
            &[],
        )
        .unwrap();
    let Target::Scatter(scatter) = &plan.statements[0].target else {
        panic!("{:?}", plan.statements[0].target);
    };
    assert_eq!(scatter.shard_sql.params(), [1, 2, 3]);
    assert_eq!(
        scatter.shard_sql.render(&[]).unwrap(),
        "SELECT * FROM customers WHERE name = ? AND id IN (?, ?)"
    );
}

#[test]
fn inserts_route_by_the_inserted_key_in_every_mysql_form() {
    let router = mysql();
    for (sql, key) in [
        (
            "INSERT INTO accounts (id, v) VALUES (7, 1) ON DUPLICATE KEY UPDATE v = v + 1",
            7,
        ),
        ("INSERT INTO accounts SET id = 8, v = 'x'", 8),
        ("INSERT INTO accounts SET v = 'x', `id` = -9", -9),
        ("REPLACE INTO accounts (id, v) VALUES (11, 'x')", 11),
        ("REPLACE accounts SET id = 12", 12),
        ("INSERT IGNORE INTO accounts (id) VALUES (13)", 13),
        ("INSERT INTO accounts (id) VALUE (14)", 14),
    ] {
        assert_eq!(routed(&router, sql), int(key), "{sql}");
        assert_eq!(kind(&router, sql), StatementKind::Write, "{sql}");
    }
    assert_refused(
        &router,
        "INSERT INTO accounts (id, v) VALUES (7, 1) ON DUPLICATE KEY UPDATE id = 8",
        "0A000",
        "ON DUPLICATE KEY UPDATE changes the shard key",
    );
    assert_refused(
        &router,
        "INSERT INTO accounts SET v = 1",
        "0A000",
        "must set its shard key",
    );
}

#[test]
fn multi_row_inserts_split_with_the_rows_as_written() {
    let router = mysql();
    let (a, b) = names_on_two_shards();
    let sql = format!(
        r#"INSERT INTO `users` (`name`, v) VALUES ('{a}', 'it\'s'), ("{b}", "x\\y") ON DUPLICATE KEY UPDATE v = VALUES(v)"#
    );
    let spread = spread(&router, &sql);
    let SpreadAction::SplitInsert(split) = &spread.plan.action else {
        panic!("{:?}", spread.plan.action);
    };
    let parts = split
        .split(shards(), &router.normalize(&sql).literals)
        .unwrap();
    let tail = " ON DUPLICATE KEY UPDATE v = VALUES(v)";
    let expected_a = format!(r"INSERT INTO `users` (`name`, v) VALUES ('{a}', 'it\'s'){tail}");
    let expected_b = format!(r#"INSERT INTO `users` (`name`, v) VALUES ("{b}", "x\\y"){tail}"#);
    let mut expected = vec![
        (text(&a).unwrap(), expected_a),
        (text(&b).unwrap(), expected_b),
    ];
    expected.sort();
    assert_eq!(parts, expected);
}

#[test]
fn update_and_delete_limit_need_one_key() {
    let router = mysql();
    assert_eq!(
        routed(
            &router,
            "UPDATE accounts SET v = 1 WHERE id = 5 ORDER BY v LIMIT 1"
        ),
        int(5)
    );
    assert_eq!(
        routed(&router, "DELETE FROM accounts WHERE id = 5 LIMIT 1"),
        int(5)
    );
    assert_refused(
        &router,
        "DELETE FROM accounts WHERE v = 1 LIMIT 10",
        "0A000",
        "LIMIT",
    );
}

#[test]
fn session_commands_are_classified() {
    let router = mysql();
    let set = |sql| match kind(&router, sql) {
        StatementKind::Set(command) => command,
        other => panic!("{sql}: {other:?}"),
    };
    assert_eq!(set("SET autocommit = 0").autocommit(), Some(false));
    assert_eq!(
        set("SET @@session.autocommit = ON").autocommit(),
        Some(true)
    );
    assert_eq!(
        set("SET @x = 1"),
        SetCommand::Assign {
            name: "@x".into(),
            value: "1".into(),
            local: false
        }
    );
    assert_eq!(
        set("SET NAMES utf8mb4 COLLATE utf8mb4_bin").name(),
        Some("names")
    );
    assert!(matches!(
        set("SET SESSION sql_mode = 'ANSI', time_zone = '+00:00'"),
        SetCommand::Many(parts) if parts.len() == 2
    ));
    assert!(matches!(
        set("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        SetCommand::Other { local: false, .. }
    ));
    assert!(set("SET shardwire.read_consistency = 'session'").is_shardwire());
    // mysqldump's executable comments: the SET inside is the statement.
    assert_eq!(set("/*!40101 SET NAMES utf8 */;").name(), Some("names"));
    assert_eq!(
        set("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */").name(),
        Some("@old_character_set_client")
    );
    assert_eq!(
        kind(&router, "START TRANSACTION READ ONLY"),
        StatementKind::Transaction(TxnCommand::Begin {
            read_only: true,
            modes: "READ ONLY".into()
        })
    );
    assert_eq!(kind(&router, "USE app"), StatementKind::Use("app".into()));
    assert_eq!(
        kind(&router, "SHOW shardwire.session_token"),
        StatementKind::Show("shardwire.session_token".into())
    );
}

#[test]
fn proxy_owned_commands_and_global_settings_are_refused() {
    let router = mysql();
    assert_refused(
        &router,
        "XA START 'gid'",
        "0A000",
        "distributed transactions are the proxy's own; XA commands from clients are not \
         supported",
    );
    assert_refused(&router, "XA RECOVER", "0A000", "XA commands");
    assert_refused(
        &router,
        "SET GLOBAL max_connections = 1000",
        "0A000",
        "SET GLOBAL",
    );
    assert_refused(&router, "SET @@global.sql_mode = ''", "0A000", "SET GLOBAL");
    assert_refused(&router, "KILL 5", "0A000", "KILL");
    assert_refused(
        &router,
        "LOCK TABLES accounts WRITE",
        "0A000",
        "LOCK TABLES",
    );
    assert_refused(&router, "COPY accounts FROM STDIN", "0A000", "accounts");
}

#[test]
fn client_probes_and_metadata_reads_route() {
    let router = mysql();
    assert_eq!(routed(&router, "SELECT @@version_comment LIMIT 1"), None);
    assert_eq!(routed(&router, "select @@version_comment limit 1"), None);
    assert_eq!(routed(&router, "SELECT DATABASE()"), None);
    assert_eq!(
        routed(&router, "SELECT CONNECTION_ID(), USER(), NOW()"),
        None
    );
    assert_eq!(routed(&router, "SHOW TABLES"), Some(0));
    assert_eq!(
        routed(&router, "SHOW FULL COLUMNS FROM `accounts`"),
        Some(0)
    );
    assert_eq!(kind(&router, "SHOW TABLES"), StatementKind::Read);
    assert_eq!(
        kind(&router, "SHOW WARNINGS"),
        StatementKind::Show("warnings".into())
    );
    // Catalogs are read on shard 0, as for PostgreSQL.
    assert_eq!(
        routed(&router, "SELECT * FROM information_schema.tables"),
        Some(0)
    );
    assert_eq!(routed(&router, "SELECT * FROM unsharded_things"), Some(0));
    assert_eq!(
        routed(&router, "SELECT 0x1F, X'1F', b'01', _utf8mb4'x'"),
        None
    );
}

#[test]
fn writes_functions_and_ddl_follow_mysql_rules() {
    let router = mysql();
    assert_eq!(
        kind(&router, "SELECT GET_LOCK('x', 1)"),
        StatementKind::Write
    );
    assert_eq!(
        kind(&router, "SELECT LAST_INSERT_ID()"),
        StatementKind::Write
    );
    // DDL commits implicitly in MySQL and cannot run inside XA: outside the
    // distributed transaction.
    let ddl = spread(&router, "ALTER TABLE `accounts` ADD COLUMN note TEXT");
    assert!(!ddl.plan.transactional);
    let write = spread(&router, "UPDATE accounts SET v = v + 1");
    assert!(write.plan.transactional);
}

#[test]
fn mysql_only_shapes_route_too() {
    let router = mysql();
    assert_eq!(routed(&router, "DESCRIBE `accounts`"), Some(0));
    assert_eq!(routed(&router, "DESC accounts"), Some(0));
    let sql = "SELECT * FROM accounts WHERE id = 5 LOCK IN SHARE MODE";
    assert_eq!(routed(&router, sql), int(5));
    assert_eq!(kind(&router, sql), StatementKind::Write);
    assert!(
        !spread(&router, "TRUNCATE TABLE accounts")
            .plan
            .transactional
    );
    // mysqldump's MyISAM hint, which sqlparser cannot read: every shard.
    let keys = spread(&router, "/*!40000 ALTER TABLE `accounts` DISABLE KEYS */;");
    assert!(!keys.plan.transactional);
    assert_eq!(routed(&router, "OPTIMIZE TABLE unsharded_things"), Some(0));
}

#[test]
fn refusals_carry_sqlstates() {
    let router = mysql();
    let err: RouteError = router
        .route_simple("SET GLOBAL x = 1")
        .and_then(|r| r.single_shard())
        .unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert!(router.prepare("SELECT 1; SELECT 2", &[]).is_err());
}
