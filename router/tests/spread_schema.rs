//! Schema changes and maintenance on every shard, inside the distributed transaction
//! unless PostgreSQL refuses them in a transaction block; `TRUNCATE` and `LOCK`; and a
//! one-shard database, where spread statements simply run on shard 0.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_refused, router, shard, spread};
use shardwire_router::{
    normalize, Dialect, NoParams, Placement, Router, SpreadAction, SpreadPlan, SpreadResults,
    SpreadShards, StatementKind,
};

const ALL: [u32; 4] = [0, 1, 2, 3];

/// The client's statement on every shard.
fn everywhere(transactional: bool, results: SpreadResults) -> SpreadPlan {
    SpreadPlan {
        shards: SpreadShards::All,
        action: SpreadAction::Same,
        transactional,
        results,
    }
}

#[test]
fn truncate_and_lock_of_configured_tables_run_on_every_shard() {
    let router = router();
    for (sql, results) in [
        ("TRUNCATE accounts", SpreadResults::Sum),
        (
            "TRUNCATE TABLE accounts, users RESTART IDENTITY CASCADE",
            SpreadResults::Sum,
        ),
        ("TRUNCATE countries", SpreadResults::Copies),
        ("TRUNCATE accounts, countries", SpreadResults::Sum),
        ("LOCK TABLE accounts IN EXCLUSIVE MODE", SpreadResults::Sum),
    ] {
        assert_eq!(
            *spread(&router, sql).plan,
            everywhere(true, results),
            "{sql}"
        );
    }
    assert_eq!(shard(&router, "TRUNCATE things"), Ok(Some(0)));
    assert_refused(
        &router,
        "TRUNCATE accounts, things",
        "0A000",
        "TRUNCATE of sharded table \"accounts\" runs on every shard, so it cannot include \
         \"things\", which is not on every shard",
    );
}

#[test]
fn schema_changes_run_everywhere_inside_or_outside_the_transaction() {
    let router = router();
    for (sql, transactional) in [
        ("CREATE TABLE accounts (id bigint primary key)", true),
        ("ALTER TABLE accounts ADD COLUMN note text", true),
        ("DROP TABLE IF EXISTS accounts, users", true),
        ("CREATE INDEX ON accounts (balance)", true),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY a_idx ON accounts (id, b)",
            false,
        ),
        ("COMMENT ON TABLE accounts IS 'money'", true),
        ("GRANT SELECT ON accounts TO app", true),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
            true,
        ),
        ("CREATE SEQUENCE ids", true),
        ("CREATE TYPE mood AS ENUM ('sad', 'ok')", true),
        (
            "CREATE VIEW rich AS SELECT * FROM accounts WHERE balance > 1000",
            true,
        ),
        ("ANALYZE accounts", true),
        ("VACUUM", false),
        ("VACUUM FULL accounts", false),
        ("VACUUM (VERBOSE, ANALYZE) accounts", false),
        ("REINDEX TABLE accounts", true),
        ("REINDEX TABLE CONCURRENTLY accounts", false),
        ("REINDEX DATABASE app", false),
        ("CLUSTER", false),
        ("CLUSTER accounts USING accounts_pkey", true),
        ("ALTER SYSTEM SET work_mem = '64MB'", false),
        ("CREATE DATABASE other", false),
        ("DROP DATABASE other", false),
    ] {
        let spread = spread(&router, sql);
        assert_eq!(spread.shards, ALL, "{sql}");
        assert_eq!(
            *spread.plan,
            everywhere(transactional, SpreadResults::Copies),
            "{sql}"
        );
    }
    for sql in [
        "VACUUM (VERBOSE) things",
        "REINDEX INDEX things_idx",
        "CLUSTER things",
        "DROP INDEX CONCURRENTLY things_idx",
        "GRANT SELECT ON things TO app",
    ] {
        assert_eq!(shard(&router, sql), Ok(Some(0)), "{sql}");
    }
    let routed = router.route_simple("CREATE INDEX ON accounts (b)").unwrap();
    assert_eq!(routed.plan.statements[0].kind, StatementKind::Ddl);
}

#[test]
fn tables_filled_from_sharded_rows_are_refused() {
    let router = router();
    for sql in [
        "CREATE TABLE rich AS SELECT * FROM accounts WHERE balance > 1000",
        "CREATE MATERIALIZED VIEW rich AS SELECT * FROM accounts",
    ] {
        assert_refused(
            &router,
            sql,
            "0A000",
            "AS reads sharded table \"accounts\": each shard would fill it with its own rows \
             only, and shardwire would read it on shard 0 only",
        );
    }
    assert_eq!(
        shard(&router, "CREATE TABLE t2 AS SELECT * FROM things"),
        Ok(Some(0))
    );
}

#[test]
fn with_one_shard_spread_statements_run_on_it() {
    let router = Router::new(common::schema(1), Dialect::Postgres);
    for sql in [
        "UPDATE accounts SET b = 0",
        "INSERT INTO accounts (id) VALUES (1), (2), (3)",
        "CREATE INDEX CONCURRENTLY ON accounts (b)",
        "TRUNCATE countries",
        "COPY accounts (id) FROM STDIN",
    ] {
        let routed = router.route_simple(sql).unwrap();
        assert!(routed.spread.is_none(), "{sql}");
        assert_eq!(routed.single_shard(), Ok(Some(0)), "{sql}");
        let statement = &routed.plan.statements[0];
        let literals = normalize(sql).literals;
        assert_eq!(
            statement.place(routed.plan.shard_count, &literals, &NoParams),
            Ok(Placement::One(Some(0))),
            "{sql}"
        );
    }
}
