//! Grouped merges: partial aggregates from several shards combined, filtered, sorted and
//! written as PostgreSQL would have answered.

use bytes::BytesMut;
use shardwire_router::{
    ColumnRole, CompareOp, Condition, MergeSpec, Operand, Output, OutputRef, ValueRef,
};

use super::test_support::*;
use super::*;

use ColumnRole::{Count, Max, Min, Sum, Value};

const INT4: u32 = 23;
const INT8: u32 = 20;
const TEXT: u32 = 25;
const FLOAT8: u32 = 701;
const NUMERIC: u32 = 1700;

/// `SELECT k, count(*), sum(x), min(x), max(x), avg(x) FROM t GROUP BY k` with x int4:
/// the shards run `… sum(x), count(x)` for the average.
fn stats_spec() -> MergeSpec {
    grouped_spec(
        &[Value, Count, Sum, Min, Max, Sum, Count],
        &[
            Output::Column(0),
            Output::Column(1),
            Output::Column(2),
            Output::Column(3),
            Output::Column(4),
            Output::Avg { sum: 5, count: 6 },
        ],
        6,
    )
}

fn stats_description(format: i16) -> Vec<u8> {
    description(&[
        ("k", TEXT, format),
        ("count", INT8, format),
        ("sum", INT8, format),
        ("min", INT4, format),
        ("max", INT4, format),
        ("avg", INT8, 0),
        ("count", INT8, 0),
    ])
}

/// Rows of two shards for `stats_spec`.
fn stats_rows() -> Vec<Vec<u8>> {
    vec![
        tr(&["a", "2", "3", "1", "2", "3", "2"]),
        tr(&["b", "1", "10", "10", "10", "10", "1"]),
        tr(&["a", "1", "4", "4", "4", "4", "1"]),
        text_row(&[Some("c"), Some("1"), None, None, None, None, Some("0")]),
    ]
}

/// Absorbs `rows` and drains everything.
fn run(merge: &mut Merge, rows: &[Vec<u8>]) -> BytesMut {
    for row in rows {
        merge.absorb(row).unwrap();
    }
    let mut out = BytesMut::new();
    while merge.drain(&mut out, 1 << 20).unwrap() {}
    out
}

fn sorted_by(mut spec: MergeSpec, output: usize, descending: bool) -> MergeSpec {
    spec.order_by
        .push(key(OutputRef::Index(output), descending));
    spec
}

#[test]
fn groups_combine_counts_sums_extremes_and_averages() {
    let spec = sorted_by(stats_spec(), 0, false);
    let mut merge = Merge::new(&spec, &stats_description(0), &[], &NoValues).unwrap();
    assert!(merge.grouped());
    let out = run(&mut merge, &stats_rows());
    assert_eq!(
        text_rows(&out),
        [
            ["a", "3", "7", "1", "4", "2.3333333333333333"],
            ["b", "1", "10", "10", "10", "10.0000000000000000"],
            ["c", "1", "NULL", "NULL", "NULL", "NULL"],
        ]
    );
    assert_eq!(merge.rows_sent(), 3);
    assert!(!merge.done());
}

#[test]
fn having_filters_merged_groups() {
    // HAVING count(*) > $L0 AND max(x) IS NOT NULL
    let mut spec = sorted_by(stats_spec(), 0, true);
    spec.having = Some(Condition::And(vec![
        Condition::Compare {
            left: Operand::Output(1),
            op: CompareOp::Gt,
            right: Operand::Value(ValueRef::Literal(0)),
        },
        Condition::IsNull {
            output: 4,
            negated: true,
        },
    ]));
    let values = TestValues::literals(&["0"]);
    let mut merge = Merge::new(&spec, &stats_description(0), &[], &values).unwrap();
    let out = run(&mut merge, &stats_rows());
    let keys: Vec<String> = text_rows(&out).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(keys, ["b", "a"]);
    // A HAVING on an aggregate the client does not see (a hidden output).
    let mut spec = grouped_spec(
        &[Value, Sum, Count],
        &[Output::Column(0), Output::Avg { sum: 1, count: 2 }],
        1,
    );
    spec.having = Some(Condition::Compare {
        left: Operand::Output(1),
        op: CompareOp::GtEq,
        right: Operand::Value(c("5")),
    });
    let desc = description(&[("k", TEXT, 0), ("sum", INT8, 0), ("count", INT8, 0)]);
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let out = run(
        &mut merge,
        &[
            tr(&["x", "3", "2"]),
            tr(&["y", "10", "1"]),
            tr(&["x", "1", "1"]),
        ],
    );
    assert_eq!(text_rows(&out), [["y"]]);
}

#[test]
fn order_by_an_aggregate_with_offset_and_limit() {
    // ORDER BY sum(x) DESC (NULLs first) LIMIT 2 OFFSET 1
    let mut spec = sorted_by(stats_spec(), 2, true);
    spec.limit = Some(c("2"));
    spec.offset = Some(c("1"));
    let mut merge = Merge::new(&spec, &stats_description(0), &[], &NoValues).unwrap();
    let out = run(&mut merge, &stats_rows());
    let keys: Vec<String> = text_rows(&out).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(keys, ["b", "a"]);
    assert!(merge.done());
    assert_eq!(merge.rows_sent(), 2);
}

#[test]
fn order_by_a_hidden_average_and_by_position() {
    // SELECT k FROM t GROUP BY k ORDER BY avg(x)
    let spec = sorted_by(
        grouped_spec(
            &[Value, Sum, Count],
            &[Output::Column(0), Output::Avg { sum: 1, count: 2 }],
            1,
        ),
        1,
        false,
    );
    let desc = description(&[("k", TEXT, 0), ("sum", NUMERIC, 0), ("count", INT8, 0)]);
    let rows = [
        tr(&["x", "3.5", "2"]),
        tr(&["y", "1.25", "1"]),
        tr(&["x", "0.5", "2"]),
        tr(&["z", "0.1", "1"]),
    ];
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert_eq!(text_rows(&run(&mut merge, &rows)), [["z"], ["x"], ["y"]]);
    // ORDER BY 1 DESC
    let mut spec = grouped_spec(
        &[Value, Sum, Count],
        &[Output::Column(0), Output::Avg { sum: 1, count: 2 }],
        1,
    );
    spec.order_by
        .push(key(OutputRef::Ordinal(ValueRef::Literal(0)), true));
    let mut merge = Merge::new(&spec, &desc, &[], &TestValues::literals(&["1"])).unwrap();
    assert_eq!(text_rows(&run(&mut merge, &rows)), [["z"], ["y"], ["x"]]);
    spec.order_by[0] = key(OutputRef::Ordinal(ValueRef::Literal(0)), true);
    let e = Merge::new(&spec, &desc, &[], &TestValues::literals(&["2"])).unwrap_err();
    assert_eq!(
        e.message,
        "shardwire: ORDER BY position 2 is not in select list"
    );
}

#[test]
fn distinct_applies_to_the_visible_outputs() {
    // SELECT DISTINCT count(*) FROM t GROUP BY k ORDER BY 1
    let mut spec = sorted_by(
        grouped_spec(&[Count, Value], &[Output::Column(0)], 1),
        0,
        false,
    );
    spec.distinct = true;
    let desc = description(&[("count", INT8, 0), ("k", TEXT, 0)]);
    let rows = [
        tr(&["1", "a"]),
        tr(&["2", "b"]),
        tr(&["1", "c"]),
        tr(&["1", "b"]),
        tr(&["5", "d"]),
    ];
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    // a:1 b:3 c:1 d:5
    assert_eq!(text_rows(&run(&mut merge, &rows)), [["1"], ["3"], ["5"]]);
}

#[test]
fn groups_are_identified_by_value_not_spelling() {
    let spec = sorted_by(
        grouped_spec(&[Value, Count], &[Output::Column(0), Output::Column(1)], 2),
        0,
        false,
    );
    let desc = description(&[("v", NUMERIC, 0), ("count", INT8, 0)]);
    let rows = [
        tr(&["1.5", "1"]),
        tr(&["1.50", "2"]),
        text_row(&[None, Some("4")]),
        text_row(&[None, Some("1")]),
    ];
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert_eq!(
        text_rows(&run(&mut merge, &rows)),
        [["1.5", "3"], ["NULL", "5"]]
    );
}

#[test]
fn empty_input_gives_one_row_without_group_keys_and_none_with_them() {
    // SELECT count(*), sum(x), min(x), max(x), avg(x) FROM empty
    let spec = grouped_spec(
        &[Count, Sum, Min, Max, Sum, Count],
        &[
            Output::Column(0),
            Output::Column(1),
            Output::Column(2),
            Output::Column(3),
            Output::Avg { sum: 4, count: 5 },
        ],
        5,
    );
    let desc = description(&[
        ("count", INT8, 0),
        ("sum", INT8, 0),
        ("min", INT4, 0),
        ("max", INT4, 0),
        ("avg", INT8, 0),
        ("count", INT8, 0),
    ]);
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert_eq!(
        text_rows(&run(&mut merge, &[])),
        [["0", "NULL", "NULL", "NULL", "NULL"]]
    );
    assert_eq!(merge.rows_sent(), 1);
    // The same over shards that had rows merges into the one row.
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let rows = [
        tr(&["2", "5", "1", "4", "5", "2"]),
        tr(&["1", "-1", "-1", "-1", "-1", "1"]),
    ];
    assert_eq!(
        text_rows(&run(&mut merge, &rows)),
        [["3", "4", "-1", "4", "1.3333333333333333"]]
    );

    let spec = stats_spec();
    let mut merge = Merge::new(&spec, &stats_description(0), &[], &NoValues).unwrap();
    assert!(run(&mut merge, &[]).is_empty());
    assert_eq!(merge.rows_sent(), 0);
}

#[test]
fn drain_writes_about_a_budget_at_a_time() {
    let spec = sorted_by(
        grouped_spec(&[Value, Count], &[Output::Column(0), Output::Column(1)], 2),
        0,
        false,
    );
    let desc = description(&[("k", INT4, 0), ("count", INT8, 0)]);
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    for i in 0..10 {
        merge.absorb(&tr(&[&i.to_string(), "1"])).unwrap();
    }
    let mut calls = 0;
    let mut all = BytesMut::new();
    loop {
        calls += 1;
        let mut out = BytesMut::new();
        let more = merge
            .drain(&mut out, if calls % 2 == 0 { 0 } else { 1 })
            .unwrap();
        assert_eq!(frames(&out).len(), 1);
        all.extend_from_slice(&out);
        if !more {
            break;
        }
    }
    assert_eq!(calls, 10);
    assert_eq!(merge.rows_sent(), 10);
    assert_eq!(text_rows(&all).len(), 10);
    assert_eq!(text_rows(&all)[9], ["9", "1"]);
    // Nothing more afterwards, and absorbing is over.
    let mut out = BytesMut::new();
    assert!(!merge.drain(&mut out, 100).unwrap());
    assert!(out.is_empty());
    assert!(merge.absorb(&tr(&["1", "1"])).is_err());
}

#[test]
fn row_description_names_outputs_with_client_formats() {
    // SELECT k, avg(x), avg(f) FROM t GROUP BY k, with f float8; client: k text, both
    // averages binary.
    let spec = grouped_spec(
        &[Value, Sum, Sum, Count, Count],
        &[
            Output::Column(0),
            Output::Avg { sum: 1, count: 3 },
            Output::Avg { sum: 2, count: 4 },
        ],
        3,
    );
    let formats = [0, 1, 1];
    assert_eq!(shard_formats(&spec, &formats), [0, 0, 0, 0, 0]);
    let desc = description(&[
        ("k", TEXT, 0),
        ("avg", NUMERIC, 0),
        ("avg_f", FLOAT8, 0),
        ("count", INT8, 0),
        ("count", INT8, 0),
    ]);
    let mut merge = Merge::new(&spec, &desc, &formats, &NoValues).unwrap();
    let mut out = BytesMut::new();
    merge.write_row_description(&mut out);
    let (tag, body) = frames(&out).remove(0);
    assert_eq!(tag, b'T');
    let mut expected = BytesMut::new();
    expected.extend_from_slice(&3i16.to_be_bytes());
    let field =
        |b: &mut BytesMut, name: &str, table: i32, attnum: i16, oid: u32, len: i16, format: i16| {
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&[0]);
            b.extend_from_slice(&table.to_be_bytes());
            b.extend_from_slice(&attnum.to_be_bytes());
            b.extend_from_slice(&oid.to_be_bytes());
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(&(-1i32).to_be_bytes());
            b.extend_from_slice(&format.to_be_bytes());
        };
    field(&mut expected, "k", 16384, 1, TEXT, -1, 0);
    field(&mut expected, "avg", 0, 0, NUMERIC, -1, 1);
    field(&mut expected, "avg_f", 0, 0, FLOAT8, 8, 1);
    assert_eq!(body, expected.to_vec());

    let rows = [
        tr(&["a", "1", "0.5", "1", "1"]),
        tr(&["a", "2", "0.5", "1", "2"]),
    ];
    let out = run(&mut merge, &rows);
    let row = raw_rows(&out).remove(0);
    assert_eq!(row[0].as_deref(), Some(&b"a"[..]));
    let avg = numeric::Numeric::parse_binary(row[1].as_deref().unwrap()).unwrap();
    assert_eq!(avg.to_text(), "1.5000000000000000");
    assert_eq!(row[2].as_deref(), Some(&(1.0f64 / 3.0).to_be_bytes()[..]));
}

#[test]
fn binary_columns_are_merged_and_sent_in_binary() {
    let spec = stats_spec();
    assert_eq!(shard_formats(&spec, &[1]), [1, 1, 1, 1, 1, 0, 0]);
    let mut merge = Merge::new(&spec, &stats_description(1), &[1], &NoValues).unwrap();
    let r = |k: &str, count: i64, sum: i64, min: i32, max: i32, avg_count: i64| {
        let (count, sum, min, max) = (
            count.to_be_bytes(),
            sum.to_be_bytes(),
            min.to_be_bytes(),
            max.to_be_bytes(),
        );
        let (s, n) = (sum_text(sum), avg_count.to_string());
        row(&[
            Some(k.as_bytes()),
            Some(&count),
            Some(&sum),
            Some(&min),
            Some(&max),
            Some(s.as_bytes()),
            Some(n.as_bytes()),
        ])
    };
    fn sum_text(b: [u8; 8]) -> String {
        i64::from_be_bytes(b).to_string()
    }
    let out = run(
        &mut merge,
        &[r("a", 2, 3, 1, 2, 2), r("a", 1, -10, -10, -10, 1)],
    );
    let row = raw_rows(&out).remove(0);
    assert_eq!(row[1].as_deref(), Some(&3i64.to_be_bytes()[..]));
    assert_eq!(row[2].as_deref(), Some(&(-7i64).to_be_bytes()[..]));
    assert_eq!(row[3].as_deref(), Some(&(-10i32).to_be_bytes()[..]));
    assert_eq!(row[4].as_deref(), Some(&2i32.to_be_bytes()[..]));
    let avg = numeric::Numeric::parse_binary(row[5].as_deref().unwrap()).unwrap();
    assert_eq!(avg.to_text(), "-2.3333333333333333");
}

#[test]
fn shard_formats_follow_the_client_codes() {
    let mut streamed = spec(false);
    streamed.hidden = 2;
    assert_eq!(shard_formats(&streamed, &[]), Vec::<i16>::new());
    assert_eq!(shard_formats(&streamed, &[1]), [1]);
    assert_eq!(shard_formats(&streamed, &[1, 0, 1]), [1, 0, 1, 0, 0]);
    let grouped = stats_spec();
    assert_eq!(shard_formats(&grouped, &[]), [0; 7]);
    assert_eq!(
        shard_formats(&grouped, &[0, 1, 0, 1, 0, 1]),
        [0, 1, 0, 1, 0, 0, 0]
    );
}

#[test]
fn plans_that_do_not_fit_the_shard_rows_are_refused() {
    let spec = stats_spec();
    // Column count.
    let desc = description(&[("k", TEXT, 0)]);
    assert_eq!(
        Merge::new(&spec, &desc, &[], &NoValues)
            .unwrap_err()
            .sqlstate,
        "XX000"
    );
    // Shard columns in another format than the client asked for.
    let e = Merge::new(&spec, &stats_description(0), &[1], &NoValues).unwrap_err();
    assert_eq!(e.sqlstate, "0A000");
    // Result-format count.
    let e = Merge::new(&spec, &stats_description(0), &[0, 0], &NoValues).unwrap_err();
    assert_eq!(e.sqlstate, "08P01");
    // avg over columns that are not a sum and a count.
    let bad = grouped_spec(&[Value, Sum], &[Output::Avg { sum: 0, count: 1 }], 1);
    let desc = description(&[("k", INT8, 0), ("s", INT8, 0)]);
    assert_eq!(
        Merge::new(&bad, &desc, &[], &NoValues)
            .unwrap_err()
            .sqlstate,
        "XX000"
    );
    // ORDER BY on an output of a type the merge cannot order.
    let spec = sorted_by(grouped_spec(&[Value], &[Output::Column(0)], 1), 0, false);
    let desc = description(&[("span", 1186, 0)]);
    let e = Merge::new(&spec, &desc, &[], &NoValues).unwrap_err();
    assert_eq!(
        e.message,
        "shardwire: cannot merge ORDER BY on column \"span\" of type oid 1186 across shards"
    );
}

#[test]
fn malformed_or_overflowing_partials_are_errors() {
    let spec = stats_spec();
    let mut merge = Merge::new(&spec, &stats_description(0), &[], &NoValues).unwrap();
    assert_eq!(merge.absorb(&tr(&["a"])).unwrap_err().sqlstate, "08P01");
    assert_eq!(merge.absorb(&[0, 7, 0]).unwrap_err().sqlstate, "08P01");
    assert_eq!(
        merge
            .absorb(&tr(&["a", "x", "1", "1", "1", "1", "1"]))
            .unwrap_err()
            .sqlstate,
        "22P02"
    );
    assert!(merge.emit(&tr(&["a"]), &mut BytesMut::new()).is_err());
    assert!(merge.compare(&[], &[]).is_eq());

    let spec = grouped_spec(&[Sum], &[Output::Column(0)], 1);
    let desc = description(&[("sum", INT8, 0)]);
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let max = i64::MAX.to_string();
    merge.absorb(&tr(&[&max])).unwrap();
    merge.absorb(&tr(&["1"])).unwrap();
    let e = merge.drain(&mut BytesMut::new(), 100).unwrap_err();
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        ("22003", "shardwire: bigint out of range")
    );
    let mut out = BytesMut::new();
    assert!(!merge.drain(&mut out, 100).unwrap());
    assert!(out.is_empty());
}
