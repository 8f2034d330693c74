//! The MySQL merge end to end on column definitions and text rows.

use bytes::BytesMut;
use shardwire_router::{ColumnRole, Output, OutputRef, SortKey};

use super::*;
use crate::merge::test_support::spec;
use crate::merge::NoValues;
use crate::protocol::mysql::consts::{column_flag, column_type as ty};
use crate::protocol::mysql::resultset::{column_def, ColumnDef};

fn def(name: &str, column_type: u8, charset: u16, length: u32, decimals: u8) -> Vec<u8> {
    let d = ColumnDef {
        charset,
        column_length: length,
        column_type,
        // MariaDB flags numbers and binary collations BINARY, not general_ci strings.
        flags: if charset == 63 {
            column_flag::BINARY
        } else {
            0
        },
        decimals,
        ..ColumnDef::text(name)
    };
    let mut out = BytesMut::new();
    column_def(&mut out, &mut 0, &d);
    out.get(4..).unwrap_or_default().to_vec()
}

fn text_row(values: &[Option<&str>]) -> Vec<u8> {
    let mut b = BytesMut::new();
    for v in values {
        lenenc::write_nullable_str(&mut b, v.map(str::as_bytes));
    }
    b.to_vec()
}

/// The text values of the row packets in `out`.
fn rows_of(out: &[u8], width: usize) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut rest = out;
    while rest.len() >= 4 {
        let len = usize::from(rest[0]) | usize::from(rest[1]) << 8 | usize::from(rest[2]) << 16;
        let mut payload = &rest[4..4 + len];
        let mut row = Vec::new();
        for _ in 0..width {
            let (v, used) = lenenc::read_nullable_str(payload).expect("value");
            row.push(v.map(|v| String::from_utf8_lossy(v).into_owned()));
            payload = &payload[used..];
        }
        rows.push(row);
        rest = &rest[4 + len..];
    }
    rows
}

#[test]
fn streamed_order_and_distinct_follow_general_ci() {
    let mut s = spec(false);
    s.distinct = true;
    s.order_by = vec![SortKey {
        output: OutputRef::Index(0),
        descending: false,
        nulls_first: true,
    }];
    let c = def("c", ty::VAR_STRING, 45, 80, 0);
    let mut m = MyMerge::new(&s, &[&c], &NoValues, false).expect("merge");
    let a = m.shard_row(&text_row(&[Some("apple")])).expect("row");
    let b = m.shard_row(&text_row(&[Some("Banana")])).expect("row");
    assert_eq!(m.compare(&a, &b), Ordering::Less);
    let mut out = BytesMut::new();
    let mut seq = 1;
    for v in [None, Some("a"), Some("Á "), Some("b")] {
        let row = m.shard_row(&text_row(&[v])).expect("row");
        m.emit(&row, &mut out, &mut seq).expect("emit");
    }
    let rows = rows_of(&out, 1);
    assert_eq!(
        rows,
        [vec![None], vec![Some("a".into())], vec![Some("b".into())]]
    );
    assert_eq!(seq, 4);
}

#[test]
fn grouped_sums_counts_and_averages_as_mariadb() {
    let mut s = spec(true);
    s.columns = vec![
        ColumnRole::Value,
        ColumnRole::Count,
        ColumnRole::Sum,
        ColumnRole::Count,
    ];
    s.outputs = vec![
        Output::Column(0),
        Output::Column(1),
        Output::Avg { sum: 2, count: 3 },
    ];
    s.visible = 3;
    let cols = [
        def("g", ty::VAR_STRING, 45, 80, 0),
        def("n", ty::LONGLONG, 63, 21, 0),
        def("a", ty::NEWDECIMAL, 63, 34, 3),
        def("__sw_1", ty::LONGLONG, 63, 21, 0),
    ];
    let refs: Vec<&[u8]> = cols.iter().map(Vec::as_slice).collect();
    let mut m = MyMerge::new(&s, &refs, &NoValues, false).expect("merge");
    for r in [
        [Some("x"), Some("2"), Some("1.500"), Some("2")],
        [Some("X"), Some("1"), Some("-0.125"), Some("1")],
        [Some("y"), Some("1"), None, Some("0")],
    ] {
        let row = m.shard_row(&text_row(&r)).expect("row");
        m.absorb(&row).expect("absorb");
    }
    let mut out = BytesMut::new();
    let mut seq = 1;
    while m.drain(&mut out, &mut seq, 1 << 16).expect("drain") {}
    let mut rows = rows_of(&out, 3);
    rows.sort();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        [
            vec![s("x"), s("3"), s("0.4583333")],
            vec![s("y"), s("1"), None]
        ]
    );
    let mut defs = BytesMut::new();
    m.write_columns(&mut defs, &mut 1);
    assert_eq!(defs[4], 3, "three columns");
}

#[test]
fn unknown_collations_are_refused_where_they_must_be_compared() {
    let mut s = spec(false);
    s.order_by = vec![SortKey {
        output: OutputRef::Index(0),
        descending: true,
        nulls_first: false,
    }];
    let c = def("name", ty::VAR_STRING, 224, 80, 0);
    let err = MyMerge::new(&s, &[&c], &NoValues, false).unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert!(
        err.message.contains("`name`") && err.message.contains("224"),
        "{}",
        err.message
    );
    s.order_by.clear();
    assert!(
        MyMerge::new(&s, &[&c], &NoValues, false).is_ok(),
        "no order needed"
    );
}
