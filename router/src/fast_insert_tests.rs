//! Tests of the `INSERT` fast path against the parser path.

use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;

use shardwire_conf::KeyType;

use super::*;
use crate::dialect::Dialect;
use crate::normalize::{normalize, normalize_for};
use crate::planner::parsed_plan;

fn schema() -> Schema {
    Schema::new(NonZeroU32::new(3).expect("non-zero"))
        .with_sharded("accounts", "id", KeyType::Bigint)
        .with_sharded("users", "name", KeyType::Text)
        .with_reference("countries")
}

/// The fast plan (if any) and the parser's plan of `sql`'s only statement.
fn both(sql: &str) -> (Option<StatementPlan>, StatementPlan) {
    let schema = schema();
    let normalized = normalize(sql);
    let text = normalized.statements().next().expect("one statement");
    (
        plan(&schema, text),
        parsed_plan(&schema, text, sql, &AtomicU64::new(0)),
    )
}

#[test]
fn the_fast_path_plans_inserts_exactly_as_the_parser_path_does() {
    for sql in [
        "INSERT INTO accounts (id, balance) VALUES (1, 2)",
        "insert into Accounts (balance, ID) values (-2, 1), ($1, $2), (NULL, 'x')",
        "INSERT INTO public.accounts AS a (id, b) VALUES ($1::bigint, now())",
        "INSERT INTO accounts (id, b, c) VALUES ('7'::int8, DEFAULT, TRUE) RETURNING id, *",
        "INSERT INTO accounts (id, t) VALUES (1, '2024-01-01'::timestamp with time zone)",
        "INSERT INTO accounts (id, t) VALUES (1, $2::text[])",
        "INSERT INTO users (\"name\") VALUES (E'bob\\n')",
        "INSERT INTO things (a, b) VALUES (1, 2), (3, 4)",
        "INSERT INTO app.things (a) VALUES (1) RETURNING a",
        "INSERT INTO countries (code) VALUES ('fr')",
        "INSERT INTO countries (code, n) VALUES ('fr', 1), ('de', 2)",
        "INSERT INTO users (name, at) VALUES ('a', now()), ('b', DEFAULT) RETURNING name",
        "INSERT INTO pg_temp.x (a) VALUES (1)",
    ] {
        let (fast, slow) = both(sql);
        assert_eq!(fast.as_ref(), Some(&slow), "{sql}");
    }
}

/// [`both`] for MySQL text.
fn both_mysql(sql: &str) -> (Option<StatementPlan>, StatementPlan) {
    let schema = schema().for_dialect(Dialect::MySql);
    let normalized = normalize_for(sql, Dialect::MySql);
    let text = normalized.statements().next().expect("one statement");
    (
        plan(&schema, text),
        parsed_plan(&schema, text, sql, &AtomicU64::new(0)),
    )
}

#[test]
fn mysql_inserts_take_the_fast_path_with_the_parsers_plan() {
    for sql in [
        "INSERT INTO `accounts` (`id`, balance) VALUES (1, 2)",
        "insert into Accounts (balance, ID) values (-2, 1), (?, ?), (NULL, 'x')",
        "INSERT INTO app.accounts (id, b) VALUES (?, now())",
        r#"INSERT INTO users (`name`) VALUES ('it\'s'), ("b\"c")"#,
        "INSERT INTO countries (code) VALUES ('fr')",
        "INSERT INTO things (a, b) VALUES (1, 2), (3, 4)",
    ] {
        let (fast, slow) = both_mysql(sql);
        assert_eq!(fast.as_ref(), Some(&slow), "{sql}");
    }
    for sql in [
        "INSERT INTO accounts (id) VALUES (1) ON DUPLICATE KEY UPDATE b = 1",
        "INSERT INTO accounts SET id = 1",
        "INSERT IGNORE INTO accounts (id) VALUES (1)",
        "REPLACE INTO accounts (id) VALUES (1)",
        "INSERT INTO accounts (id) VALUE (1)",
        "INSERT INTO accounts (`i``d`) VALUES (1)",
        "INSERT INTO accounts (id) VALUES (@x)",
        "INSERT INTO users (name) VALUES (_utf8mb4'x')",
    ] {
        let (fast, _) = both_mysql(sql);
        assert_eq!(fast, None, "{sql}");
    }
}

#[test]
fn other_statements_take_the_parser_path() {
    for sql in [
        "INSERT INTO accounts VALUES (1, 2)",
        "INSERT INTO accounts (b) VALUES (1)",
        "INSERT INTO accounts (id) VALUES (DEFAULT)",
        "INSERT INTO accounts (id) VALUES (nextval('s'))",
        "INSERT INTO accounts (id) VALUES (1) ON CONFLICT DO NOTHING",
        "INSERT INTO accounts (id) SELECT 1",
        "INSERT INTO accounts (id) VALUES (1) RETURNING (SELECT 1)",
        "INSERT INTO accounts (id) VALUES ((SELECT 1))",
        "INSERT INTO accounts (id, b) VALUES (1)",
        "INSERT INTO accounts (id, c) VALUES (1, DATE '2024-01-01')",
        "INSERT INTO things (users) VALUES (1)",
        "INSERT INTO countries (code, at) VALUES ('fr', now())",
        "INSERT INTO accounts (id) VALUES (1::numeric(10, 0))",
        "UPDATE accounts SET b = 1 WHERE id = 1",
    ] {
        let (fast, _) = both(sql);
        assert_eq!(fast, None, "{sql}");
    }
}
