//! Spread writes: writes and schema changes that several shards must take become a
//! `SpreadPlan` (what each shard runs inside the distributed transaction) or stay refused
//! with `0A000` when running them on each shard would not give the single-database
//! effect. On the four-shard schemas of `common`; inserts are in `spread_inserts`, `COPY`
//! in `spread_copy`, schema changes in `spread_schema`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_refused, int, keys_on_two_shards, router, shard, shop_router, spread};
use shardwire_router::{
    KeyRoute, KeySource, KeyType, NoParams, Placement, SpreadAction, SpreadPlan, SpreadResults,
    SpreadShards, Target,
};

const ALL: [u32; 4] = [0, 1, 2, 3];

/// The client's statement on every shard, in the distributed transaction unless not
/// `transactional`.
fn everywhere(transactional: bool, results: SpreadResults) -> SpreadPlan {
    SpreadPlan {
        shards: SpreadShards::All,
        action: SpreadAction::Same,
        transactional,
        results,
    }
}

#[test]
fn updates_and_deletes_without_a_single_key_run_on_every_shard() {
    let router = router();
    for sql in [
        "UPDATE accounts SET balance = 0",
        "DELETE FROM accounts WHERE id > 5",
        "UPDATE accounts SET b = 1 WHERE id = 1 OR id = 2",
        "DELETE FROM accounts WHERE NOT (id = 1)",
        "UPDATE accounts SET b = 1 WHERE id = balance RETURNING id, b",
        "UPDATE accounts a SET b = c.rate FROM countries c WHERE c.code = a.country",
        "DELETE FROM accounts WHERE country IN (SELECT code FROM countries WHERE eu)",
        "UPDATE accounts SET b = (SELECT max(rate) FROM countries), t = now()",
    ] {
        let spread = spread(&router, sql);
        assert_eq!(spread.shards, ALL, "{sql}");
        assert_eq!(*spread.plan, everywhere(true, SpreadResults::Sum), "{sql}");
    }
    // Callers that only know single shards get an error, never one shard.
    let routed = router
        .route_simple("UPDATE accounts SET balance = 0")
        .unwrap();
    assert_eq!(routed.shards, [None]);
    let err = routed.plan.resolve(&[], &NoParams).unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert_eq!(
        err.message,
        "shardwire: this write on \"accounts\" runs on several shards (0, 1, 2, 3); statements \
         that touch several shards are not supported yet"
    );
    assert!(routed.single_shard().is_err());
}

#[test]
fn key_lists_spread_a_write_over_the_shards_of_their_values() {
    let router = router();
    let (a, b, c) = keys_on_two_shards();
    let mut both = vec![int(a).unwrap(), int(b).unwrap()];
    both.sort_unstable();
    for sql in [
        format!("UPDATE accounts SET b = 1 WHERE id IN ({a}, {b})"),
        format!("DELETE FROM accounts WHERE id = ANY('{{{a},{b}}}') AND b > 0"),
        format!("DELETE FROM accounts WHERE id IN ({a}, {b}, {c}) RETURNING *"),
    ] {
        let spread = spread(&router, &sql);
        assert_eq!(spread.shards, both, "{sql}");
        let SpreadShards::Key(route) = &spread.plan.shards else {
            panic!("{sql}: {:?}", spread.plan.shards);
        };
        assert_eq!(
            (route.table.as_str(), route.column.as_str()),
            ("accounts", "id")
        );
        assert_eq!(spread.plan.action, SpreadAction::Same);
    }
    // Values on one shard: the client's statement goes there, as before.
    let sql = format!("UPDATE accounts SET b = 1 WHERE id IN ({a}, {c})");
    let routed = router.route_simple(&sql).unwrap();
    assert!(routed.spread.is_none());
    assert_eq!(routed.single_shard(), Ok(int(a)));
    // No value, no row: any shard.
    assert_eq!(
        shard(&router, "DELETE FROM accounts WHERE id = ANY('{}')"),
        Ok(None)
    );
}

#[test]
fn prepared_key_lists_place_per_bind() {
    let router = router();
    let (a, b, c) = keys_on_two_shards();
    let plan = router
        .prepare("UPDATE accounts SET b = $1 WHERE id = ANY($2)", &[])
        .unwrap();
    let statement = &plan.statements[0];
    assert!(matches!(statement.target, Target::Spread(_)));
    let place = |keys: String| {
        let params = vec![
            shardwire_router::ParamValue::text("1"),
            shardwire_router::ParamValue::text(Box::leak(keys.into_boxed_str())),
        ];
        statement.place(plan.shard_count, &[], &params).unwrap()
    };
    assert_eq!(place(format!("{{{a},{c}}}")), Placement::One(int(a)));
    let mut both = vec![int(a).unwrap(), int(b).unwrap()];
    both.sort_unstable();
    assert_eq!(place(format!("{{{a},{b}}}")), Placement::Many(both));
    // Literal lists are folded once, at prepare time.
    let plan = router
        .prepare(&format!("DELETE FROM accounts WHERE id IN ({a}, {c})"), &[])
        .unwrap();
    assert_eq!(plan.statements[0].target, Target::Shard(int(a).unwrap()));
}

#[test]
fn co_located_joins_on_shard_keys_are_spread_too() {
    let router = shop_router();
    for sql in [
        "UPDATE orders o SET paid = true FROM customers c WHERE c.id = o.customer_id AND c.vip",
        "DELETE FROM orders USING customers WHERE customers.id = orders.customer_id AND NOT active",
        "DELETE FROM items i USING orders o, customers c \
         WHERE o.customer_id = i.customer_id AND c.id = o.customer_id AND c.closed",
    ] {
        assert_eq!(
            *spread(&router, sql).plan,
            everywhere(true, SpreadResults::Sum),
            "{sql}"
        );
    }
    // A key pinned through the join: one shard.
    let routed = router
        .route_simple("UPDATE orders o SET paid = true FROM customers c WHERE c.id = o.customer_id AND c.id = 5")
        .unwrap();
    assert_eq!(
        routed.plan.statements[0].target,
        Target::Key(KeyRoute {
            table: "customers".into(),
            column: "id".into(),
            key_type: KeyType::Bigint,
            sources: vec![KeySource::Literal(0)],
        })
    );
    assert_eq!(routed.single_shard(), Ok(int(5)));
}

#[test]
fn writes_that_would_read_other_shards_rows_stay_refused() {
    let router = shop_router();
    for (sql, needle) in [
        (
            "UPDATE orders o SET paid = true FROM customers c WHERE c.email = o.email",
            "cannot join sharded tables \"orders\" and \"customers\" across shards: the join \
             condition does not equate their shard keys \"customer_id\" and \"id\"",
        ),
        (
            "DELETE FROM orders USING users WHERE users.name = orders.owner",
            "cannot join sharded tables \"orders\" and \"users\" across shards",
        ),
        (
            "UPDATE orders SET total = (SELECT sum(total) FROM items)",
            "UPDATE on sharded table \"orders\" runs on several shards, so it cannot read \
             sharded table \"items\" inside a subquery, which each shard would run over its \
             own rows only",
        ),
        (
            "WITH big AS (SELECT customer_id FROM items) DELETE FROM orders",
            "several shards",
        ),
        (
            "DELETE FROM orders WHERE customer_id IN (SELECT id FROM things)",
            "DELETE on sharded table \"orders\" runs on several shards, so it cannot read \
             unsharded table \"things\", which lives on shard 0 only",
        ),
        (
            "UPDATE orders SET owner = r.rolname FROM pg_roles r WHERE r.oid = orders.role",
            "cannot read system catalog \"pg_roles\", whose contents differ between shards",
        ),
        (
            "DELETE FROM orders o WHERE EXISTS (SELECT 1 FROM orders p WHERE p.id = o.parent)",
            "cannot read sharded table \"orders\" inside a subquery",
        ),
    ] {
        assert_refused(&router, sql, "0A000", needle);
    }
}

#[test]
fn updates_of_the_shard_key_are_refused() {
    let router = router();
    for sql in [
        "UPDATE accounts SET id = id + 1",
        "UPDATE accounts SET id = 5 WHERE id = 4",
        "UPDATE accounts SET (b, id) = (1, 2) WHERE b = 0",
    ] {
        assert_refused(
            &router,
            sql,
            "0A000",
            "UPDATE changes the shard key \"id\" of sharded table \"accounts\", which may move \
             rows between shards; delete and re-insert the row instead",
        );
    }
}

#[test]
fn reference_writes_run_on_every_shard_and_answer_once() {
    let router = router();
    for sql in [
        "INSERT INTO countries (code, name) VALUES ('fr', 'France') RETURNING code",
        "INSERT INTO countries (code) VALUES ('fr') ON CONFLICT (code) DO NOTHING",
        "UPDATE countries SET name = 'France' WHERE code = 'fr'",
        "UPDATE countries c SET rate = r.rate FROM countries r WHERE r.code = c.parent",
        "DELETE FROM countries WHERE code NOT IN (SELECT code FROM countries WHERE eu)",
        "INSERT INTO countries (code, name) SELECT code, upper(name) FROM countries",
    ] {
        let spread = spread(&router, sql);
        assert_eq!(
            *spread.plan,
            everywhere(true, SpreadResults::Copies),
            "{sql}"
        );
        assert_eq!(spread.shards, ALL);
    }
    for (sql, needle) in [
        (
            "INSERT INTO countries (code, at) VALUES ('fr', now())",
            "INSERT writes reference table \"countries\", whose copy on every shard must stay \
             alike, so it cannot call now(), whose value differs between shards",
        ),
        (
            "UPDATE countries SET token = gen_random_uuid()",
            "cannot call gen_random_uuid()",
        ),
        (
            "INSERT INTO countries (code) SELECT country FROM accounts",
            "cannot read sharded table \"accounts\", whose rows differ between shards",
        ),
        (
            "DELETE FROM countries WHERE code IN (SELECT code FROM things)",
            "cannot read unsharded table \"things\"",
        ),
    ] {
        assert_refused(&router, sql, "0A000", needle);
    }
}

#[test]
fn a_spread_write_must_be_sent_on_its_own() {
    let router = router();
    assert_refused(
        &router,
        "BEGIN; UPDATE accounts SET b = 0; COMMIT",
        "0A000",
        "a statement that writes several shards must be sent on its own",
    );
}
