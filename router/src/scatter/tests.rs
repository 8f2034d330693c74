//! Unit tests of the analysis on parsed trees, including trees of the client's own text
//! (literals in place), which the router only meets when the normalized text does not
//! parse.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::analyze::analyze;
use super::spec::{CompareOp, Condition, Operand, OutputRef, SortKey, ValueRef};
use super::ScatterPlan;
use crate::error::RouteError;
use crate::schema::Schema;

fn schema() -> Schema {
    Schema::new(NonZeroU32::new(4).expect("non-zero"))
        .with_sharded("customers", "id", KeyType::Bigint)
        .with_sharded("orders", "customer_id", KeyType::Bigint)
        .with_reference("countries")
}

/// Plans `sql` as written (`inline`), its first sharded table being `orders`.
fn plan_of(sql: &str) -> Result<ScatterPlan, RouteError> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
    let Some(Statement::Query(query)) = statements.pop() else {
        panic!("{sql}: not a query");
    };
    analyze(&schema(), &query, "orders", true)
}

fn constant(text: &str) -> ValueRef {
    ValueRef::Const(text.to_owned())
}

#[test]
fn literals_written_in_the_text_are_constants_of_the_merge() {
    let plan = plan_of("SELECT * FROM orders ORDER BY 2 DESC LIMIT 10 OFFSET 5").expect("plan");
    assert!(plan.shard_sql.has_inline_literals());
    assert_eq!(
        plan.shard_sql.text(),
        Some("SELECT * FROM orders ORDER BY 2 DESC LIMIT CAST(10 AS BIGINT) + CAST(5 AS BIGINT)")
    );
    assert_eq!(
        plan.merge.order_by,
        [SortKey {
            output: OutputRef::Ordinal(constant("2")),
            descending: true,
            nulls_first: true,
        }]
    );
    assert_eq!(plan.merge.limit, Some(constant("10")));
    assert_eq!(plan.merge.offset, Some(constant("5")));

    let grouped = plan_of(
        "SELECT status, count(*) FROM orders GROUP BY status \
         HAVING status <> 'it''s' AND count(*) >= -2",
    )
    .expect("plan");
    let compare = |output, op, value: &str| Condition::Compare {
        left: Operand::Output(output),
        op,
        right: Operand::Value(constant(value)),
    };
    assert_eq!(
        grouped.merge.having,
        Some(Condition::And(vec![
            compare(0, CompareOp::NotEq, "'it''s'"),
            compare(1, CompareOp::GtEq, "-2"),
        ]))
    );
}

#[test]
fn locks_are_pushed_down_to_the_shards() {
    let plan = plan_of("SELECT * FROM orders ORDER BY id FOR UPDATE").expect("plan");
    assert_eq!(
        plan.shard_sql.text(),
        Some("SELECT *, id AS __sw_1 FROM orders ORDER BY id FOR UPDATE")
    );
}

#[test]
fn negations_in_having_keep_three_valued_logic() {
    let plan = plan_of(
        "SELECT count(*) FROM orders HAVING count(*) NOT BETWEEN 1 AND 3 \
         OR max(x) NOT IN (1, 2) OR min(x) IS NULL OR NOT count(*) = NULL",
    )
    .expect("plan");
    let compare = |output, op, right| Condition::Compare {
        left: Operand::Output(output),
        op,
        right,
    };
    let value = |text: &str| Operand::Value(constant(text));
    assert_eq!(
        plan.merge.having,
        Some(Condition::Or(vec![
            Condition::Not(Box::new(Condition::And(vec![
                compare(0, CompareOp::GtEq, value("1")),
                compare(0, CompareOp::LtEq, value("3")),
            ]))),
            Condition::Not(Box::new(Condition::Or(vec![
                compare(1, CompareOp::Eq, value("1")),
                compare(1, CompareOp::Eq, value("2")),
            ]))),
            Condition::IsNull {
                output: 2,
                negated: false,
            },
            Condition::Not(Box::new(compare(0, CompareOp::Eq, Operand::Null))),
        ]))
    );
}

#[test]
fn having_needs_an_output_on_one_side() {
    let err = plan_of("SELECT count(*) FROM orders HAVING 1 = 1").expect_err("refused");
    assert!(
        err.message.contains("HAVING condition 1 = 1"),
        "{}",
        err.message
    );
}

#[test]
fn outer_joins_make_their_nullable_side_unfit_for_shard_local_groups() {
    let grouped = |sql: &str| plan_of(sql).expect("plan").merge.grouped;
    let join = "FROM customers c {} JOIN orders o ON o.customer_id = c.id GROUP BY";
    let sql = |kind: &str, key: &str| format!("SELECT count(*) {} {key}", join.replace("{}", kind));
    assert!(!grouped(&sql("LEFT", "c.id")));
    assert!(grouped(&sql("LEFT", "o.customer_id")));
    assert!(grouped(&sql("RIGHT", "c.id")));
    assert!(!grouped(&sql("RIGHT", "o.customer_id")));
    assert!(grouped(&sql("FULL", "c.id")));
    assert!(grouped(&sql("FULL", "o.customer_id")));
    assert!(!grouped(&sql("", "customer_id")));
}

#[test]
fn renamed_columns_hide_the_shard_key() {
    let err = plan_of("SELECT * FROM orders o(a, b) JOIN customers c ON c.id = o.a")
        .expect_err("refused");
    assert!(
        err.message.contains("cannot join sharded tables"),
        "{}",
        err.message
    );
}
