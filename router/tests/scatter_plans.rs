//! Scattered reads: a `SELECT` that no single shard can answer becomes the SQL every
//! shard runs plus a merge specification. These tests read plans only (rendered shard
//! SQL and spec), on the `shop` schema of `common`; refusals are in `scatter_refusals`.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;

use common::{int, keys_on_two_shards, shop, shop_router};
use shardwire_router::{
    normalize, ColumnRole, Dialect, KeySource, MergeSpec, Output, OutputRef, ParamValue, Placement,
    Router, ScatterPlan, SortKey, Target, ValueRef,
};

/// The scatter plan of a one-statement read and its shard SQL for this text's literals.
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
    let rendered = plan.shard_sql.render(&normalize(sql).literals).unwrap();
    (Arc::clone(plan), rendered)
}

fn literal(index: usize) -> ValueRef {
    ValueRef::Literal(index)
}

fn asc(output: OutputRef) -> SortKey {
    SortKey {
        output,
        descending: false,
        nulls_first: false,
    }
}

fn desc(output: OutputRef) -> SortKey {
    SortKey {
        output,
        descending: true,
        nulls_first: true,
    }
}

/// A streamed merge with these sort keys and no paging.
fn streamed(order_by: Vec<SortKey>, hidden: usize) -> MergeSpec {
    MergeSpec {
        columns: Vec::new(),
        hidden,
        grouped: false,
        outputs: Vec::new(),
        visible: 0,
        having: None,
        distinct: false,
        order_by,
        limit: None,
        offset: None,
    }
}

#[test]
fn reads_without_a_key_condition_are_scattered_to_every_shard() {
    let router = shop_router();
    let routed = router
        .route_simple("SELECT * FROM orders WHERE total > 10")
        .unwrap();
    let scatter = routed.scatter.as_ref().unwrap();
    assert_eq!(scatter.shards, [0, 1, 2, 3]);
    assert_eq!(routed.shards, [None]);
    assert_eq!(
        scatter
            .plan
            .shard_sql
            .render(&normalize("SELECT * FROM orders WHERE total > 10").literals),
        Ok("SELECT * FROM orders WHERE total > 10".to_owned())
    );
    assert_eq!(scatter.plan.merge, streamed(Vec::new(), 0));
    assert_eq!(scatter.plan.key, None);
}

#[test]
fn order_by_and_paging_become_a_merge_of_sorted_streams_with_a_wider_limit() {
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT id, total AS t FROM orders ORDER BY t DESC, 1, created_at NULLS FIRST \
         LIMIT 10 OFFSET 20",
    );
    assert_eq!(
        sql,
        "SELECT id, total AS t, created_at AS __sw_1 FROM orders ORDER BY t DESC, 1, \
         created_at NULLS FIRST LIMIT CAST(10 AS BIGINT) + CAST(20 AS BIGINT)"
    );
    let mut merge = streamed(
        vec![
            desc(OutputRef::Index(1)),
            asc(OutputRef::Ordinal(literal(0))),
            SortKey {
                nulls_first: true,
                ..asc(OutputRef::Hidden(0))
            },
        ],
        1,
    );
    merge.limit = Some(literal(1));
    merge.offset = Some(literal(2));
    assert_eq!(plan.merge, merge);
}

#[test]
fn sort_keys_are_select_items_by_name_or_text_unless_a_wildcard_comes_first() {
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT o.id, o.total FROM orders o ORDER BY total, O.ID",
    );
    assert_eq!(
        sql,
        "SELECT o.id, o.total FROM orders o ORDER BY total, O.ID"
    );
    let keys = vec![asc(OutputRef::Index(1)), asc(OutputRef::Index(0))];
    assert_eq!(plan.merge, streamed(keys, 0));

    let (plan, sql) = scattered(
        &router,
        "SELECT id, *, total * 2 AS dbl FROM orders ORDER BY dbl, id, customer_id, dbl",
    );
    assert_eq!(
        sql,
        "SELECT id, *, total * 2 AS dbl, total * 2 AS __sw_1, customer_id AS __sw_2 \
         FROM orders ORDER BY dbl, id, customer_id, dbl"
    );
    let keys = vec![
        asc(OutputRef::Hidden(0)),
        asc(OutputRef::Index(0)),
        asc(OutputRef::Hidden(1)),
        asc(OutputRef::Hidden(0)),
    ];
    assert_eq!(plan.merge, streamed(keys, 2));
}

#[test]
fn offset_alone_leaves_shards_unlimited_and_fetch_first_is_a_limit() {
    let router = shop_router();
    let cases: [(&str, &str, Option<ValueRef>, Option<ValueRef>); 5] = [
        (
            "SELECT * FROM orders OFFSET 5",
            "SELECT * FROM orders",
            None,
            Some(literal(0)),
        ),
        (
            "SELECT * FROM orders LIMIT ALL OFFSET 5",
            "SELECT * FROM orders",
            None,
            Some(literal(0)),
        ),
        (
            "SELECT * FROM orders LIMIT NULL",
            "SELECT * FROM orders",
            None,
            None,
        ),
        (
            "SELECT * FROM orders FETCH FIRST 3 ROWS ONLY",
            "SELECT * FROM orders LIMIT 3",
            Some(literal(0)),
            None,
        ),
        (
            "SELECT * FROM orders OFFSET 2 ROWS FETCH NEXT 3 ROWS ONLY",
            "SELECT * FROM orders LIMIT CAST(3 AS BIGINT) + CAST(2 AS BIGINT)",
            Some(literal(1)),
            Some(literal(0)),
        ),
    ];
    for (client, shard, limit, offset) in cases {
        let (plan, sql) = scattered(&router, client);
        assert_eq!(sql, shard, "{client}");
        assert_eq!(
            (plan.merge.limit.clone(), plan.merge.offset.clone()),
            (limit, offset)
        );
    }
}

#[test]
fn distinct_runs_on_the_shards_and_again_in_the_merge() {
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT DISTINCT status FROM orders ORDER BY status LIMIT 3",
    );
    assert_eq!(
        sql,
        "SELECT DISTINCT status FROM orders ORDER BY status LIMIT 3"
    );
    let mut merge = streamed(vec![asc(OutputRef::Index(0))], 0);
    merge.distinct = true;
    merge.limit = Some(literal(0));
    assert_eq!(plan.merge, merge);
}

#[test]
fn grouping_by_a_shard_key_runs_the_whole_query_on_the_shards() {
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT c.id, count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id \
         GROUP BY c.id HAVING count(*) > 1 ORDER BY n DESC LIMIT 5 OFFSET 1",
    );
    assert_eq!(
        sql,
        "SELECT c.id, count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id \
         GROUP BY c.id HAVING count(*) > 1 ORDER BY n DESC \
         LIMIT CAST(5 AS BIGINT) + CAST(1 AS BIGINT)"
    );
    let mut merge = streamed(vec![desc(OutputRef::Index(1))], 0);
    merge.limit = Some(literal(1));
    merge.offset = Some(literal(2));
    assert_eq!(plan.merge, merge);

    // The key of a NULL-extended side does not keep groups apart: its NULL group
    // appears on every shard.
    let (plan, _) = scattered(
        &router,
        "SELECT c.id, count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id \
         GROUP BY c.id",
    );
    assert!(plan.merge.grouped);
}

#[test]
fn aggregates_without_group_by_are_combined_into_one_group() {
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT count(*), sum(total), min(total) FILTER (WHERE paid), max(total) AS top, \
         AVG(total), count(DISTINCT customer_id) FROM orders WHERE paid",
    );
    assert_eq!(
        sql,
        "SELECT count(*), sum(total), min(total) FILTER (WHERE paid), max(total) AS top, \
         sum(total) AS \"avg\", count(DISTINCT customer_id), count(total) AS __sw_1 \
         FROM orders WHERE paid"
    );
    use ColumnRole::{Count, Max, Min, Sum};
    let merge = MergeSpec {
        columns: vec![Count, Sum, Min, Max, Sum, Count, Count],
        hidden: 0,
        grouped: true,
        outputs: vec![
            Output::Column(0),
            Output::Column(1),
            Output::Column(2),
            Output::Column(3),
            Output::Avg { sum: 4, count: 6 },
            Output::Column(5),
        ],
        visible: 6,
        having: None,
        distinct: false,
        order_by: Vec::new(),
        limit: None,
        offset: None,
    };
    assert_eq!(plan.merge, merge);
}

#[test]
fn grouped_reads_send_partial_groups_that_the_merge_finishes() {
    use shardwire_router::{CompareOp, Condition, Operand};
    use ColumnRole::{Count, Max, Min, Sum, Value};
    let router = shop_router();
    let (plan, sql) = scattered(
        &router,
        "SELECT DISTINCT status, avg(total) AS mean, max(total) FROM orders \
         GROUP BY status, region \
         HAVING min(total) IS NOT NULL AND (count(*) BETWEEN 2 AND 9 OR status IN ('a', 'b')) \
         ORDER BY mean DESC, sum(qty), region LIMIT 10 OFFSET 4",
    );
    assert_eq!(
        sql,
        "SELECT status, sum(total) AS mean, max(total), count(total) AS __sw_1, \
         region AS __sw_2, sum(qty) AS __sw_3, min(total) AS __sw_4, count(*) AS __sw_5 \
         FROM orders GROUP BY status, region"
    );
    let compare = |output, op, value| Condition::Compare {
        left: Operand::Output(output),
        op,
        right: Operand::Value(literal(value)),
    };
    let merge = MergeSpec {
        columns: vec![Value, Sum, Max, Count, Value, Sum, Min, Count],
        hidden: 0,
        grouped: true,
        outputs: vec![
            Output::Column(0),
            Output::Avg { sum: 1, count: 3 },
            Output::Column(2),
            Output::Column(5),
            Output::Column(4),
            Output::Column(6),
            Output::Column(7),
        ],
        visible: 3,
        having: Some(Condition::And(vec![
            Condition::IsNull {
                output: 5,
                negated: true,
            },
            Condition::Or(vec![
                Condition::And(vec![
                    compare(6, CompareOp::GtEq, 0),
                    compare(6, CompareOp::LtEq, 1),
                ]),
                compare(0, CompareOp::Eq, 2),
                compare(0, CompareOp::Eq, 3),
            ]),
        ])),
        distinct: true,
        order_by: vec![
            desc(OutputRef::Index(1)),
            asc(OutputRef::Index(3)),
            asc(OutputRef::Index(4)),
        ],
        limit: Some(literal(4)),
        offset: Some(literal(5)),
    };
    assert_eq!(plan.merge, merge);

    let (plan, sql) = scattered(
        &router,
        "SELECT status FROM orders GROUP BY 1 ORDER BY 1, max(x)",
    );
    assert_eq!(
        sql,
        "SELECT status, max(x) AS __sw_1 FROM orders GROUP BY 1"
    );
    assert_eq!(plan.merge.columns, [Value, Max]);
    assert_eq!(plan.merge.outputs, [Output::Column(0), Output::Column(1)]);
    assert_eq!(
        plan.merge.order_by,
        [
            asc(OutputRef::Ordinal(literal(1))),
            asc(OutputRef::Index(1))
        ]
    );
}

#[test]
fn co_located_joins_and_shard_independent_subqueries_are_scattered() {
    let router = shop_router();
    for sql in [
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id",
        "SELECT * FROM orders o, customers c WHERE o.total > 1 AND c.id = o.customer_id",
        "SELECT * FROM orders o LEFT JOIN items i ON i.customer_id = o.customer_id AND i.n > 0",
        "SELECT * FROM orders JOIN items USING (customer_id)",
        "SELECT * FROM orders a JOIN orders b ON a.customer_id = b.customer_id",
        "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id \
         JOIN items i ON i.customer_id = o.customer_id JOIN countries k ON k.code = c.country",
        "SELECT * FROM orders WHERE country IN (SELECT code FROM countries WHERE eu)",
        "WITH eu AS (SELECT code FROM countries WHERE eu) \
         SELECT * FROM orders o JOIN eu ON eu.code = o.country",
        "SELECT * FROM orders o, LATERAL (SELECT * FROM countries k WHERE k.code = o.country) k",
        "SELECT * FROM generate_series(1, 3) g JOIN orders o ON o.n = g",
    ] {
        scattered(&router, sql);
    }
}

#[test]
fn key_conditions_pin_a_scatter_to_the_shards_of_their_values() {
    let router = shop_router();
    let (a, b, c) = keys_on_two_shards();
    let mut two = vec![int(a).unwrap(), int(b).unwrap()];
    two.sort_unstable();
    for sql in [
        format!("SELECT * FROM orders WHERE customer_id IN ({a}, {b}, {c})"),
        format!("SELECT * FROM orders WHERE customer_id = ANY('{{{a},{b}}}') ORDER BY id"),
        format!(
            "SELECT count(*) FROM orders o JOIN customers k ON k.id = o.customer_id \
             WHERE k.id IN ({b}, {a})"
        ),
    ] {
        let routed = router.route_simple(&sql).unwrap();
        assert_eq!(routed.scatter.map(|s| s.shards), Some(two.clone()), "{sql}");
    }
    let (plan, _) = scattered(
        &router,
        &format!("SELECT * FROM orders WHERE customer_id IN ({a}, {b})"),
    );
    let key = plan.key.as_ref().unwrap();
    assert_eq!(
        (key.table.as_str(), key.column.as_str()),
        ("orders", "customer_id")
    );
    assert_eq!(key.sources, [KeySource::Literal(0), KeySource::Literal(1)]);

    // Values on one shard, or none at all, need no merge.
    for (sql, shard) in [
        (
            format!("SELECT * FROM orders WHERE customer_id IN ({a}, {c})"),
            int(a),
        ),
        (
            "SELECT * FROM orders WHERE customer_id = ANY('{}')".to_owned(),
            None,
        ),
    ] {
        let routed = router.route_simple(&sql).unwrap();
        assert_eq!(
            (routed.shards, routed.scatter),
            (vec![shard], None),
            "{sql}"
        );
    }
    // One value pins co-located tables to one shard: a plain key route.
    let sql = format!(
        "SELECT * FROM orders o JOIN items i USING (customer_id) WHERE o.customer_id = {b}"
    );
    let routed = router.route_simple(&sql).unwrap();
    assert!(matches!(routed.plan.statements[0].target, Target::Key(_)));
    assert_eq!(routed.shards, [int(b)]);
}

#[test]
fn prepared_scatters_have_their_literals_folded_at_prepare() {
    let router = shop_router();
    let (a, b, _) = keys_on_two_shards();
    let plan = router
        .prepare(
            &format!(
                "SELECT status, count(*) FROM orders WHERE customer_id IN ({a}, $1) \
                 GROUP BY status HAVING count(*) > 3 ORDER BY 2 DESC LIMIT $2"
            ),
            &[],
        )
        .unwrap();
    let statement = &plan.statements[0];
    let Target::Scatter(scatter) = &statement.target else {
        panic!("{plan:?}");
    };
    assert_eq!(
        scatter.shard_sql.text(),
        Some(
            format!(
                "SELECT status, count(*) FROM orders WHERE customer_id IN ({a}, $1) GROUP BY status"
            )
            .as_str()
        )
    );
    let key = scatter.key.as_ref().unwrap();
    assert_eq!(
        key.sources,
        [KeySource::Shard(int(a).unwrap()), KeySource::Param(1)]
    );
    assert_eq!(
        scatter.merge.order_by,
        [desc(OutputRef::Ordinal(ValueRef::Const("2".into())))]
    );
    assert_eq!(scatter.merge.limit, Some(ValueRef::Param(2)));
    let having = format!("{:?}", scatter.merge.having);
    assert!(having.contains("Const(\"3\")"), "{having}");

    let shards = plan.shard_count;
    let (a_text, b_text) = (a.to_string(), b.to_string());
    fn bind(key: &str) -> Vec<ParamValue<'_>> {
        vec![ParamValue::text(key), ParamValue::text("10")]
    }
    assert_eq!(
        statement.place(shards, &[], &bind(&a_text)),
        Ok(Placement::One(int(a)))
    );
    let mut both = vec![int(a).unwrap(), int(b).unwrap()];
    both.sort_unstable();
    assert_eq!(
        statement.place(shards, &[], &bind(&b_text)),
        Ok(Placement::Many(both))
    );
    let err = plan.resolve(&[], &bind(&b_text)).unwrap_err();
    assert_eq!(err.sqlstate, "0A000", "{}", err.message);
    assert_eq!(plan.resolve(&[], &bind(&a_text)), Ok(vec![int(a)]));

    // Constant keys on one shard make a single-shard statement.
    let (_, _, c) = keys_on_two_shards();
    let pinned = router
        .prepare(
            &format!("SELECT * FROM orders WHERE customer_id IN ({a}, {c})"),
            &[],
        )
        .unwrap();
    assert_eq!(pinned.statements[0].target, Target::Shard(int(a).unwrap()));
}

#[test]
fn array_parameters_place_a_prepared_scatter() {
    let router = shop_router();
    let plan = router
        .prepare(
            "SELECT * FROM orders WHERE customer_id = ANY($1) ORDER BY id LIMIT 5",
            &[],
        )
        .unwrap();
    let statement = &plan.statements[0];
    let (a, b, c) = keys_on_two_shards();
    let place =
        |value: &str| statement.place(plan.shard_count, &[], &vec![ParamValue::text(value)]);
    let mut both = vec![int(a).unwrap(), int(b).unwrap()];
    both.sort_unstable();
    assert_eq!(
        place(&format!("{{{a},{b},{c}}}")),
        Ok(Placement::Many(both))
    );
    assert_eq!(place(&format!("{{{a},{c}}}")), Ok(Placement::One(int(a))));
    assert_eq!(place("{}"), Ok(Placement::One(None)));
    let everywhere = router.prepare("SELECT * FROM orders", &[]).unwrap();
    assert_eq!(
        everywhere.statements[0].place(everywhere.shard_count, &[], &Vec::<ParamValue<'_>>::new()),
        Ok(Placement::Many(vec![0, 1, 2, 3]))
    );
}

#[test]
fn one_shard_databases_run_every_read_on_shard_zero() {
    let router = Router::new(shop(1), Dialect::Postgres);
    for sql in [
        "SELECT * FROM orders ORDER BY id LIMIT 3",
        "SELECT string_agg(note, ',') FROM orders",
        "SELECT * FROM orders o JOIN things t ON t.id = o.thing_id",
    ] {
        let routed = router.route_simple(sql).unwrap();
        assert_eq!(
            (routed.shards, routed.scatter),
            (vec![Some(0)], None),
            "{sql}"
        );
    }
    let plan = router.prepare("SELECT * FROM orders", &[]).unwrap();
    let one = NonZeroU32::new(1).unwrap();
    assert_eq!(
        plan.statements[0].place(one, &[], &Vec::<ParamValue<'_>>::new()),
        Ok(Placement::One(Some(0)))
    );
}

#[test]
fn a_scattered_read_must_be_alone_in_its_query_string() {
    let router = shop_router();
    let err = router
        .route_simple("SELECT 1; SELECT * FROM orders")
        .unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert!(
        err.message.contains("must be sent on its own"),
        "{}",
        err.message
    );
    let (a, _, c) = keys_on_two_shards();
    let sql = format!("SELECT 1; SELECT * FROM orders WHERE customer_id IN ({a}, {c})");
    assert_eq!(router.route_simple(&sql).unwrap().shards, [None, int(a)]);
}

#[test]
fn plans_made_from_the_clients_own_text_are_not_cached() {
    // `numeric(10, 2)` cannot be parsed with placeholders for its numbers, so the plan
    // is made from the text as written and holds its literals.
    let router = shop_router();
    for limit in ["5", "7"] {
        let sql = format!("SELECT total::numeric(10, 2) FROM orders ORDER BY 1 LIMIT {limit}");
        let (plan, shard_sql) = scattered(&router, &sql);
        assert_eq!(
            shard_sql,
            format!("SELECT total::NUMERIC(10,2) FROM orders ORDER BY 1 LIMIT {limit}")
        );
        assert_eq!(plan.merge.limit, Some(ValueRef::Const(limit.into())));
        assert_eq!(
            plan.merge.order_by,
            [asc(OutputRef::Ordinal(ValueRef::Const("1".into())))]
        );
    }
}

#[test]
fn writes_and_locking_reads_are_not_scattered() {
    let router = shop_router();
    let (a, b, _) = keys_on_two_shards();
    // Writes are spread (see `spread_plans`), never merged.
    for sql in [
        "UPDATE orders SET paid = true".to_owned(),
        format!("DELETE FROM orders WHERE customer_id IN ({a}, {b})"),
    ] {
        let routed = router.route_simple(&sql).unwrap();
        assert!(routed.scatter.is_none(), "{sql}");
        assert!(routed.spread.is_some(), "{sql}");
    }
    common::assert_refused(
        &router,
        "SELECT * FROM orders FOR UPDATE",
        "0A000",
        "has no condition on its shard key",
    );
}

#[test]
fn group_by_names_mean_input_columns_first_as_in_postgresql() {
    let router = shop_router();
    let cases = [
        // An alias names the output only when no column of that name is in play.
        (
            "SELECT date_trunc('day', placed) AS day, count(*) FROM orders GROUP BY day",
            "SELECT date_trunc('day', placed) AS day, count(*) FROM orders GROUP BY day",
        ),
        (
            "SELECT date_trunc('day', at) AS at, count(*) FROM orders GROUP BY at",
            "SELECT date_trunc('day', at) AS at, count(*), at AS __sw_1 FROM orders GROUP BY at",
        ),
        (
            "SELECT o.status, count(*) FROM orders o GROUP BY status",
            "SELECT o.status, count(*) FROM orders o GROUP BY status",
        ),
        (
            "SELECT count(*) FROM orders GROUP BY count",
            "SELECT count(*), count AS __sw_1 FROM orders GROUP BY count",
        ),
    ];
    for (client, shard) in cases {
        let (plan, sql) = scattered(&router, client);
        assert_eq!(sql, shard, "{client}");
        assert!(plan.merge.grouped, "{client}");
    }
}
