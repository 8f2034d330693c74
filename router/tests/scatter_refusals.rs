//! Reads whose per-shard answers cannot be combined into the single-database answer are
//! refused with `0A000`, naming the table and the reason (on the `shop` schema of
//! `common`, four shards; with one shard they still run, see `scatter_plans`).

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_refused, shop_router};

/// Each case: the statement and its whole message (after `shardwire: `).
const REFUSED: &[(&str, &str)] = &[
    (
        "SELECT id FROM orders UNION SELECT id FROM customers",
        "UNION over sharded table \"orders\" cannot be combined across shards",
    ),
    (
        "SELECT id FROM orders EXCEPT SELECT id FROM countries",
        "EXCEPT over sharded table \"orders\" cannot be combined across shards",
    ),
    (
        "SELECT id, row_number() OVER (ORDER BY id) FROM orders",
        "window function row_number() over sharded table \"orders\" cannot be computed across \
         shards",
    ),
    (
        "SELECT DISTINCT ON (customer_id) * FROM orders",
        "SELECT DISTINCT ON over sharded table \"orders\" cannot be combined across shards",
    ),
    (
        "SELECT status, count(*) FROM orders GROUP BY ROLLUP (status)",
        "GROUP BY ROLLUP, CUBE or GROUPING SETS over sharded table \"orders\" cannot be \
         combined across shards",
    ),
    (
        "SELECT status, count(*) FROM orders GROUP BY GROUPING SETS ((status), ())",
        "GROUP BY ROLLUP, CUBE or GROUPING SETS over sharded table \"orders\" cannot be \
         combined across shards",
    ),
    (
        "SELECT * FROM orders ORDER BY total FETCH FIRST 3 ROWS WITH TIES",
        "FETCH … WITH TIES of a SELECT over sharded table \"orders\" cannot be combined across \
         shards",
    ),
    (
        "SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE vip)",
        "sharded table \"customers\" is read inside a subquery, which each shard would run over \
         its own rows only; only subqueries over reference tables can be combined across shards",
    ),
    (
        "SELECT * FROM (SELECT customer_id, sum(total) FROM orders GROUP BY 1) t",
        "sharded table \"orders\" is read inside a derived table, which each shard would run \
         over its own rows only; only subqueries over reference tables can be combined across \
         shards",
    ),
    (
        "WITH big AS (SELECT * FROM orders WHERE total > 100) SELECT count(*) FROM big",
        "sharded table \"orders\" is read inside the common table expression \"big\", which \
         each shard would run over its own rows only; only subqueries over reference tables \
         can be combined across shards",
    ),
    (
        "SELECT * FROM orders o JOIN things t ON t.id = o.thing_id",
        "cannot read sharded table \"orders\" across shards together with unsharded table \
         \"things\", which lives on shard 0 only",
    ),
    (
        "SELECT * FROM orders WHERE thing_id IN (SELECT id FROM things)",
        "cannot read sharded table \"orders\" across shards together with unsharded table \
         \"things\" (in a subquery), which lives on shard 0 only",
    ),
    (
        "SELECT * FROM orders o JOIN pg_class c ON c.oid = o.id",
        "cannot read sharded table \"orders\" across shards together with system catalog \
         \"pg_class\", whose contents differ between shards",
    ),
    (
        "SELECT * FROM orders o JOIN items i ON i.order_id = o.id",
        "cannot join sharded tables \"orders\" and \"items\" across shards: the join condition \
         does not equate their shard keys \"customer_id\" and \"customer_id\"",
    ),
    (
        "SELECT * FROM customers c, orders o WHERE c.id = o.id",
        "cannot join sharded tables \"customers\" and \"orders\" across shards: the join \
         condition does not equate their shard keys \"id\" and \"customer_id\"",
    ),
    (
        "SELECT * FROM orders a JOIN orders b ON a.parent = b.id",
        "cannot join sharded table \"orders\" with itself across shards: the join condition \
         does not equate the shard key \"customer_id\" of both sides",
    ),
    (
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id OR c.id = 0",
        "cannot join sharded tables \"orders\" and \"customers\" across shards: the join \
         condition does not equate their shard keys \"customer_id\" and \"id\"",
    ),
    (
        // Both keys in one side of an outer join do not pin that side's rows.
        "SELECT * FROM orders o LEFT JOIN customers c ON true \
         LEFT JOIN items i ON i.customer_id = c.id AND c.id = o.customer_id",
        "cannot join sharded tables \"orders\" and \"customers\" across shards: the join \
         condition does not equate their shard keys \"customer_id\" and \"id\"",
    ),
    (
        "SELECT * FROM users u JOIN customers c ON c.id = u.name",
        "cannot join sharded tables \"customers\" and \"users\" across shards: their shard keys \
         \"id\" (bigint) and \"name\" (text) hash differently",
    ),
    (
        "SELECT * FROM orders LIMIT 1 + 1",
        "LIMIT of a SELECT over sharded table \"orders\" must be a constant or a parameter to \
         be combined across shards",
    ),
    (
        "SELECT * FROM orders OFFSET (SELECT count(*) FROM countries)",
        "OFFSET (SELECT count(*) FROM countries) of a SELECT over sharded table \"orders\" must \
         be a constant or a parameter to be combined across shards",
    ),
    (
        "SELECT string_agg(note, ',') FROM orders",
        "aggregate string_agg() over sharded table \"orders\" cannot be combined across shards",
    ),
    (
        "SELECT status, percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders \
         GROUP BY status",
        "aggregate percentile_cont() over sharded table \"orders\" cannot be combined across \
         shards",
    ),
    (
        "SELECT count(DISTINCT status) FROM orders",
        "aggregate count(DISTINCT …) over sharded table \"orders\" can only be combined across \
         shards when its argument is a shard key (distinct values may repeat on several shards)",
    ),
    (
        "SELECT sum(total) / count(*) FROM orders",
        "aggregate sum() inside an expression over sharded table \"orders\" cannot be combined \
         across shards; select the aggregate itself",
    ),
    (
        "SELECT round(avg(total), 2) FROM orders",
        "aggregate avg() inside an expression over sharded table \"orders\" cannot be combined \
         across shards; select the aggregate itself",
    ),
    (
        "SELECT coalesce(sum(total), 0) FROM orders",
        "aggregate sum() inside an expression over sharded table \"orders\" cannot be combined \
         across shards; select the aggregate itself",
    ),
    (
        "SELECT *, count(*) FROM orders GROUP BY id",
        "SELECT * with aggregates or GROUP BY over sharded table \"orders\" cannot be combined \
         across shards; list the columns",
    ),
    (
        "SELECT status FROM orders GROUP BY status HAVING sum(total) > avg(total) * 2",
        "aggregate avg() inside an expression over sharded table \"orders\" cannot be combined \
         across shards; select the aggregate itself",
    ),
    (
        "SELECT status FROM orders GROUP BY status HAVING bool_or(paid)",
        "aggregate bool_or() over sharded table \"orders\" cannot be combined across shards",
    ),
    (
        "SELECT status FROM orders GROUP BY status HAVING status LIKE 'a%'",
        "HAVING condition of a SELECT over sharded table \"orders\" cannot be evaluated across \
         shards: only comparisons of aggregates and grouped columns with constants, combined by \
         AND, OR and NOT, are supported",
    ),
    (
        "SELECT * FROM orders ORDER BY total USING >",
        "ORDER BY … USING in a SELECT over sharded table \"orders\" cannot be combined across \
         shards",
    ),
];

#[test]
fn reads_whose_answers_cannot_be_combined_are_refused_naming_the_table() {
    let router = shop_router();
    for (sql, message) in REFUSED {
        assert_refused(&router, sql, "0A000", message);
        let err = router.route_simple(sql).unwrap_err();
        assert_eq!(err.message, format!("shardwire: {message}"), "{sql}");
    }
}

#[test]
fn a_refused_key_list_keeps_its_single_shard_route() {
    // Key values that share a shard still run there, even when the statement could not
    // be scattered; on several shards the key route's own refusal applies.
    let router = shop_router();
    let (a, b, c) = common::keys_on_two_shards();
    let sql = |x: i64, y: i64| {
        format!("SELECT string_agg(note, ',') FROM orders WHERE customer_id IN ({x}, {y})")
    };
    assert_eq!(common::shard(&router, &sql(a, c)), Ok(common::int(a)));
    assert_refused(&router, &sql(a, b), "0A000", "map to different shards");
}
