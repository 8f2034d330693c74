//! Combining partials per role and type.

use super::*;

fn field(type_oid: u32, format: i16) -> Field {
    Field {
        name: b"x".to_vec(),
        table_oid: 0,
        attnum: 0,
        type_oid,
        typlen: -1,
        typmod: -1,
        format,
        kind: Kind::of(type_oid),
        decimals: None,
    }
}

fn merge(
    role: ColumnRole,
    type_oid: u32,
    format: i16,
    cells: &[Option<&[u8]>],
) -> Result<Option<Vec<u8>>, MergeError> {
    let plan = ColumnPlan::new(role, &field(type_oid, format))?;
    let mut acc = plan.start();
    for cell in cells {
        acc.absorb(&plan, *cell)?;
    }
    acc.finish(&plan)
}

fn text(
    role: ColumnRole,
    type_oid: u32,
    cells: &[Option<&str>],
) -> Result<Option<String>, MergeError> {
    let cells: Vec<Option<&[u8]>> = cells.iter().map(|c| c.map(str::as_bytes)).collect();
    merge(role, type_oid, 0, &cells).map(|v| v.map(|b| String::from_utf8(b).unwrap()))
}

#[test]
fn counts_add_in_either_format() {
    assert_eq!(
        text(ColumnRole::Count, oid::INT8, &[Some("2"), Some("3")])
            .unwrap()
            .as_deref(),
        Some("5")
    );
    assert_eq!(
        text(ColumnRole::Count, oid::INT8, &[]).unwrap().as_deref(),
        Some("0")
    );
    let two = 2i64.to_be_bytes();
    let got = merge(ColumnRole::Count, oid::INT8, 1, &[Some(&two), Some(&two)]).unwrap();
    assert_eq!(got, Some(4i64.to_be_bytes().to_vec()));
    let max = i64::MAX.to_string();
    let err = text(ColumnRole::Count, oid::INT8, &[Some(&max), Some("1")]).unwrap_err();
    assert_eq!(err.sqlstate, "22003");
}

#[test]
fn integer_sums_skip_nulls_and_check_the_bigint_range() {
    assert_eq!(
        text(ColumnRole::Sum, oid::INT8, &[Some("5"), None, Some("-7")])
            .unwrap()
            .as_deref(),
        Some("-2")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::INT8, &[None, None]).unwrap(),
        None
    );
    let max = i64::MAX.to_string();
    // Intermediate overflow that comes back in range is fine.
    assert_eq!(
        text(
            ColumnRole::Sum,
            oid::INT8,
            &[Some(&max), Some("1"), Some("-2")]
        )
        .unwrap(),
        Some((i64::MAX - 1).to_string())
    );
    let err = text(ColumnRole::Sum, oid::INT8, &[Some(&max), Some("1")]).unwrap_err();
    assert_eq!(
        (err.sqlstate, err.message.as_str()),
        ("22003", "shardwire: bigint out of range")
    );
}

#[test]
fn numeric_sums_are_exact_with_the_largest_scale() {
    assert_eq!(
        text(
            ColumnRole::Sum,
            oid::NUMERIC,
            &[Some("1.25"), Some("2.5"), None]
        )
        .unwrap()
        .as_deref(),
        Some("3.75")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::NUMERIC, &[Some("0.1"), Some("0.2")])
            .unwrap()
            .as_deref(),
        Some("0.3")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::NUMERIC, &[Some("1.50"), Some("2")])
            .unwrap()
            .as_deref(),
        Some("3.50")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::NUMERIC, &[Some("0.00"), Some("0")])
            .unwrap()
            .as_deref(),
        Some("0.00")
    );
    assert_eq!(
        text(
            ColumnRole::Sum,
            oid::NUMERIC,
            &[Some("Infinity"), Some("-Infinity")]
        )
        .unwrap()
        .as_deref(),
        Some("NaN")
    );
    assert_eq!(
        text(
            ColumnRole::Sum,
            oid::NUMERIC,
            &[Some("99999999999999999999"), Some("1")]
        )
        .unwrap()
        .as_deref(),
        Some("100000000000000000000")
    );
    let mut one = Vec::new();
    Numeric::parse_text(b"1.5").unwrap().write_binary(&mut one);
    let got = merge(ColumnRole::Sum, oid::NUMERIC, 1, &[Some(&one), Some(&one)])
        .unwrap()
        .unwrap();
    assert_eq!(Numeric::parse_binary(&got).unwrap().to_text(), "3.0");
}

#[test]
fn float_sums_add_and_detect_overflow() {
    assert_eq!(
        text(ColumnRole::Sum, oid::FLOAT8, &[Some("0.1"), Some("0.2")])
            .unwrap()
            .as_deref(),
        Some("0.30000000000000004")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::FLOAT4, &[Some("0.1"), Some("0.2")])
            .unwrap()
            .as_deref(),
        Some("0.3")
    );
    assert_eq!(
        text(ColumnRole::Sum, oid::FLOAT8, &[Some("Infinity"), Some("1")])
            .unwrap()
            .as_deref(),
        Some("Infinity")
    );
    let err = text(
        ColumnRole::Sum,
        oid::FLOAT8,
        &[Some("1e308"), Some("1e308")],
    )
    .unwrap_err();
    assert_eq!(err.sqlstate, "22003");
    let err = text(ColumnRole::Sum, oid::FLOAT4, &[Some("3e38"), Some("3e38")]).unwrap_err();
    assert_eq!(err.sqlstate, "22003");
    let got = merge(
        ColumnRole::Sum,
        oid::FLOAT8,
        1,
        &[Some(&1.5f64.to_be_bytes()), Some(&2f64.to_be_bytes())],
    )
    .unwrap();
    assert_eq!(got, Some(3.5f64.to_be_bytes().to_vec()));
}

#[test]
fn min_and_max_keep_the_winning_bytes() {
    assert_eq!(
        text(
            ColumnRole::Min,
            oid::NUMERIC,
            &[Some("2.50"), None, Some("10"), Some("2.5")]
        )
        .unwrap()
        .as_deref(),
        Some("2.50")
    );
    assert_eq!(
        text(
            ColumnRole::Max,
            oid::NUMERIC,
            &[Some("2.50"), Some("10"), None]
        )
        .unwrap()
        .as_deref(),
        Some("10")
    );
    assert_eq!(
        text(ColumnRole::Max, oid::TEXT, &[Some("b"), Some("a")])
            .unwrap()
            .as_deref(),
        Some("b")
    );
    assert_eq!(text(ColumnRole::Min, oid::INT4, &[None]).unwrap(), None);
    assert_eq!(
        text(ColumnRole::Max, oid::FLOAT8, &[Some("1"), Some("NaN")])
            .unwrap()
            .as_deref(),
        Some("NaN")
    );
}

#[test]
fn roles_on_types_the_merge_cannot_combine_are_refused() {
    let err = ColumnPlan::new(ColumnRole::Min, &field(1186, 0)).unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert_eq!(
        err.message,
        "shardwire: cannot merge min() on column \"x\" of type oid 1186 across shards"
    );
    assert!(ColumnPlan::new(ColumnRole::Sum, &field(1186, 0)).is_err());
    assert!(ColumnPlan::new(ColumnRole::Sum, &field(oid::TEXT, 0)).is_err());
    assert!(ColumnPlan::new(ColumnRole::Count, &field(oid::NUMERIC, 0)).is_err());
    assert!(ColumnPlan::new(ColumnRole::Value, &field(1186, 0)).is_ok());
}

#[test]
fn averages_divide_merged_sums_by_merged_counts() {
    let avg = |sum: Acc, count: i64| {
        average(&sum, &Acc::Count(count), None)
            .unwrap()
            .map(|a| String::from_utf8(a.encode(false)).unwrap())
    };
    assert_eq!(
        avg(Acc::SumInt(Some(3)), 2).as_deref(),
        Some("1.5000000000000000")
    );
    assert_eq!(
        avg(Acc::SumInt(Some(7)), 3).as_deref(),
        Some("2.3333333333333333")
    );
    assert_eq!(
        avg(Acc::SumNumeric(Numeric::parse_text(b"3.75")), 2).as_deref(),
        Some("1.8750000000000000")
    );
    assert_eq!(
        avg(Acc::SumFloat(Some(1.0)), 3).as_deref(),
        Some("0.3333333333333333")
    );
    assert_eq!(avg(Acc::SumInt(None), 0), None);
    assert_eq!(avg(Acc::SumFloat(None), 0), None);
    let bin = average(&Acc::SumInt(Some(3)), &Acc::Count(2), None)
        .unwrap()
        .unwrap()
        .encode(true);
    assert_eq!(
        Numeric::parse_binary(&bin).unwrap().to_text(),
        "1.5000000000000000"
    );
}
