//! Streamed merges driven the way the executor drives them: one head row per shard, the
//! least offered to `emit` until the shards run dry or `done()`.

use bytes::BytesMut;
use shardwire_router::{OutputRef, ValueRef};

use super::test_support::*;
use super::*;

const INT8: u32 = 20;
const TEXT: u32 = 25;
const NUMERIC: u32 = 1700;

/// Merges sorted shard streams; returns the frames written.
fn run(merge: &mut Merge, shards: Vec<Vec<Vec<u8>>>) -> Result<BytesMut, MergeError> {
    let mut out = BytesMut::new();
    let mut streams: Vec<std::vec::IntoIter<Vec<u8>>> =
        shards.into_iter().map(Vec::into_iter).collect();
    let mut heads: Vec<Option<Vec<u8>>> = streams.iter_mut().map(Iterator::next).collect();
    while !merge.done() {
        let mut least: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some(row) = head else { continue };
            least = match least {
                Some(j) if merge.compare(heads[j].as_ref().unwrap(), row).is_le() => Some(j),
                _ => Some(i),
            };
        }
        let Some(i) = least else { break };
        let row = heads[i].take().unwrap();
        merge.emit(&row, &mut out)?;
        heads[i] = streams[i].next();
    }
    Ok(out)
}

fn streamed(order_by: Vec<shardwire_router::SortKey>) -> shardwire_router::MergeSpec {
    shardwire_router::MergeSpec {
        order_by,
        ..spec(false)
    }
}

#[test]
fn the_engine_can_move_between_and_be_shared_by_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Merge>();
    send_sync::<MergeError>();
}

#[test]
fn rows_from_sorted_shards_come_out_in_global_order() {
    let desc = description(&[("id", INT8, 0), ("name", TEXT, 0)]);
    let spec = streamed(vec![key(OutputRef::Index(0), false)]);
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert!(!merge.grouped());
    let out = run(
        &mut merge,
        vec![
            vec![tr(&["1", "a"]), tr(&["4", "d"]), tr(&["10", "j"])],
            vec![tr(&["2", "b"]), tr(&["3", "c"])],
            vec![],
            vec![tr(&["5", "e"])],
        ],
    )
    .unwrap();
    let ids: Vec<String> = text_rows(&out).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "10"]);
    assert_eq!(merge.rows_sent(), 6);
}

#[test]
fn rows_without_hidden_columns_pass_through_unchanged() {
    let desc = description(&[("id", INT8, 0), ("name", TEXT, 0)]);
    let mut merge = Merge::new(&streamed(vec![]), &desc, &[], &NoValues).unwrap();
    let row = text_row(&[Some("7"), None]);
    let mut out = BytesMut::new();
    assert_eq!(merge.emit(&row, &mut out).unwrap(), Emit::Sent);
    assert_eq!(frames(&out), vec![(b'D', row)]);
}

#[test]
fn hidden_sort_columns_are_stripped_from_rows_and_description() {
    let desc = description(&[("name", TEXT, 0), ("price", NUMERIC, 0)]);
    let spec = shardwire_router::MergeSpec {
        hidden: 1,
        ..streamed(vec![key(OutputRef::Hidden(0), true)])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let mut out = BytesMut::new();
    merge.write_row_description(&mut out);
    let (tag, body) = frames(&out).remove(0);
    assert_eq!(tag, b'T');
    assert_eq!(body, description(&[("name", TEXT, 0)]));
    let out = run(
        &mut merge,
        vec![
            vec![tr(&["a", "10.5"]), tr(&["b", "2"])],
            vec![text_row(&[Some("d"), None]), tr(&["c", "9.99"])],
        ],
    )
    .unwrap();
    // DESC puts NULLs first by default.
    assert_eq!(text_rows(&out), [["d"], ["a"], ["c"], ["b"]]);
}

#[test]
fn descending_keys_with_nulls_first_or_last() {
    let desc = description(&[("v", INT8, 0)]);
    let nulls_last_desc = shardwire_router::SortKey {
        output: OutputRef::Index(0),
        descending: true,
        nulls_first: false,
    };
    let merge = Merge::new(&streamed(vec![nulls_last_desc]), &desc, &[], &NoValues).unwrap();
    let null = text_row(&[None]);
    assert!(merge.compare(&tr(&["1"]), &null).is_lt());
    assert!(merge.compare(&tr(&["2"]), &tr(&["1"])).is_lt());
    let merge = Merge::new(
        &streamed(vec![key(OutputRef::Index(0), false)]),
        &desc,
        &[],
        &NoValues,
    )
    .unwrap();
    assert!(merge.compare(&tr(&["1"]), &null).is_lt());
    let first = shardwire_router::SortKey {
        output: OutputRef::Index(0),
        descending: false,
        nulls_first: true,
    };
    let merge = Merge::new(&streamed(vec![first]), &desc, &[], &NoValues).unwrap();
    assert!(merge.compare(&null, &tr(&["1"])).is_lt());
    assert!(merge.compare(&null, &null).is_eq());
}

#[test]
fn offset_then_limit_then_done() {
    let desc = description(&[("v", INT8, 0)]);
    let spec = shardwire_router::MergeSpec {
        limit: Some(ValueRef::Literal(0)),
        offset: Some(ValueRef::Param(1)),
        ..streamed(vec![])
    };
    let values = TestValues {
        literals: vec!["2"],
        params: vec![(Some(1i32.to_be_bytes().to_vec()), true, 23)],
    };
    let mut merge = Merge::new(&spec, &desc, &[], &values).unwrap();
    let mut out = BytesMut::new();
    let got: Vec<Emit> = ["1", "2", "3", "4"]
        .iter()
        .map(|v| merge.emit(&tr(&[v]), &mut out).unwrap())
        .collect();
    assert_eq!(got, [Emit::Skipped, Emit::Sent, Emit::Sent, Emit::Done]);
    assert!(merge.done());
    assert_eq!(text_rows(&out), [["2"], ["3"]]);
    assert_eq!(merge.rows_sent(), 2);
}

#[test]
fn limit_zero_is_done_before_any_row_and_null_limit_is_none() {
    let desc = description(&[("v", INT8, 0)]);
    let spec = shardwire_router::MergeSpec {
        limit: Some(c("0")),
        ..streamed(vec![])
    };
    let merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert!(merge.done());
    let spec = shardwire_router::MergeSpec {
        limit: Some(c("NULL")),
        offset: Some(c("NULL")),
        ..streamed(vec![])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    assert!(!merge.done());
    assert_eq!(
        merge.emit(&tr(&["1"]), &mut BytesMut::new()).unwrap(),
        Emit::Sent
    );
}

#[test]
fn distinct_drops_duplicates_by_value_before_offset() {
    let desc = description(&[("v", NUMERIC, 0), ("h", INT8, 0)]);
    let spec = shardwire_router::MergeSpec {
        distinct: true,
        hidden: 1,
        offset: Some(c("1")),
        ..streamed(vec![key(OutputRef::Index(0), false)])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let mut out = BytesMut::new();
    let got: Vec<Emit> = [
        ["1.5", "1"],
        ["1.50", "2"],
        ["2", "3"],
        ["2.0", "4"],
        ["3", "5"],
    ]
    .iter()
    .map(|r| merge.emit(&tr(r), &mut out).unwrap())
    .collect();
    assert_eq!(
        got,
        [
            Emit::Skipped,
            Emit::Skipped,
            Emit::Sent,
            Emit::Skipped,
            Emit::Sent
        ]
    );
    assert_eq!(text_rows(&out), [["2"], ["3"]]);
}

#[test]
fn ordinals_and_binary_keys() {
    let desc = description(&[("a", TEXT, 1), ("b", INT8, 1)]);
    let spec = streamed(vec![key(OutputRef::Ordinal(ValueRef::Literal(0)), true)]);
    let merge = Merge::new(&spec, &desc, &[1], &TestValues::literals(&["2"])).unwrap();
    let r = |a: &str, b: i64| row(&[Some(a.as_bytes()), Some(&b.to_be_bytes())]);
    assert!(merge.compare(&r("x", 10), &r("a", -3)).is_lt());
    assert!(merge.compare(&r("x", 10), &r("a", 10)).is_eq());
}

#[test]
fn bad_limits_and_positions_are_refused_like_postgresql() {
    let desc = description(&[("v", INT8, 0)]);
    let err =
        |spec: shardwire_router::MergeSpec| Merge::new(&spec, &desc, &[], &NoValues).unwrap_err();
    let e = err(shardwire_router::MergeSpec {
        limit: Some(c("-1")),
        ..streamed(vec![])
    });
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        ("2201W", "shardwire: LIMIT must not be negative")
    );
    let e = err(shardwire_router::MergeSpec {
        offset: Some(c("-1")),
        ..streamed(vec![])
    });
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        ("2201X", "shardwire: OFFSET must not be negative")
    );
    let e = err(streamed(vec![key(OutputRef::Ordinal(c("2")), false)]));
    assert_eq!(
        (e.sqlstate, e.message.as_str()),
        (
            "42P10",
            "shardwire: ORDER BY position 2 is not in select list"
        )
    );
    let e = err(streamed(vec![key(OutputRef::Ordinal(c("0")), false)]));
    assert_eq!(e.sqlstate, "42P10");
    let e = err(shardwire_router::MergeSpec {
        limit: Some(c("'ten'")),
        ..streamed(vec![])
    });
    assert_eq!(e.sqlstate, "22P02");
    let e = err(shardwire_router::MergeSpec {
        limit: Some(ValueRef::Param(1)),
        ..streamed(vec![])
    });
    assert_eq!(e.sqlstate, "XX000");
    // A rounded non-integer, as the cast to bigint does.
    let spec = shardwire_router::MergeSpec {
        limit: Some(c("1.5")),
        ..streamed(vec![])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let mut out = BytesMut::new();
    merge.emit(&tr(&["1"]), &mut out).unwrap();
    assert!(!merge.done());
    merge.emit(&tr(&["1"]), &mut out).unwrap();
    assert!(merge.done());
}

#[test]
fn sorting_on_a_type_the_merge_cannot_compare_is_refused_by_name() {
    let desc = description(&[("span", 1186, 0)]);
    let e = Merge::new(
        &streamed(vec![key(OutputRef::Index(0), false)]),
        &desc,
        &[],
        &NoValues,
    )
    .unwrap_err();
    assert_eq!(e.sqlstate, "0A000");
    assert_eq!(
        e.message,
        "shardwire: cannot merge ORDER BY on column \"span\" of type oid 1186 across shards"
    );
    // Passing it through (and DISTINCT on it) is fine.
    let spec = shardwire_router::MergeSpec {
        distinct: true,
        ..streamed(vec![])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let mut out = BytesMut::new();
    assert_eq!(merge.emit(&tr(&["1 day"]), &mut out).unwrap(), Emit::Sent);
    assert_eq!(
        merge.emit(&tr(&["1 day"]), &mut out).unwrap(),
        Emit::Skipped
    );
}

#[test]
fn malformed_rows_are_errors_not_panics() {
    let desc = description(&[("v", INT8, 0), ("h", INT8, 0)]);
    let spec = shardwire_router::MergeSpec {
        hidden: 1,
        distinct: true,
        ..streamed(vec![key(OutputRef::Index(0), false)])
    };
    let mut merge = Merge::new(&spec, &desc, &[], &NoValues).unwrap();
    let good = tr(&["1", "2"]);
    let mut out = BytesMut::new();
    // Broken before the sort key: compare says Equal, the next emit reports it.
    let broken = [
        vec![],
        vec![0],
        vec![0, 2, 0, 0, 0, 9, b'1'],
        vec![0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0],
        vec![0xff, 0xff],
    ];
    for bad in &broken {
        assert_eq!(
            merge.emit(bad, &mut out).unwrap_err().sqlstate,
            "08P01",
            "{bad:?}"
        );
        assert!(merge.compare(bad, &good).is_eq());
        assert!(
            merge.emit(&good, &mut out).is_err(),
            "compare's error is reported"
        );
    }
    // Broken after it: emit refuses the row.
    for bad in [
        tr(&["1"]),
        tr(&["1", "2", "3"]),
        [good.clone(), vec![0]].concat(),
    ] {
        assert_eq!(
            merge.emit(&bad, &mut out).unwrap_err().sqlstate,
            "08P01",
            "{bad:?}"
        );
    }
    // A sort key that does not read as its type.
    let bad_value = tr(&["x", "2"]);
    assert!(merge.compare(&good, &bad_value).is_eq());
    assert_eq!(merge.emit(&good, &mut out).unwrap_err().sqlstate, "22P02");
    assert!(out.is_empty());
    assert_eq!(merge.emit(&good, &mut out).unwrap(), Emit::Sent);
    // Grouped calls on a streamed merge are refused.
    assert!(merge.absorb(&good).is_err());
    assert!(merge.drain(&mut out, 10).is_err());
}

#[test]
fn malformed_descriptions_are_errors() {
    let desc = description(&[("v", INT8, 0)]);
    for bad in [
        &desc[..desc.len() - 1],
        &[0, 1, b'v'][..],
        &[][..],
        &[0xff, 0xff][..],
    ] {
        let e = Merge::new(&streamed(vec![]), bad, &[], &NoValues).unwrap_err();
        assert_eq!(e.sqlstate, "08P01");
    }
    let spec = shardwire_router::MergeSpec {
        hidden: 2,
        ..streamed(vec![])
    };
    assert!(Merge::new(&spec, &desc, &[], &NoValues).is_err());
    assert!(Merge::new(
        &streamed(vec![key(OutputRef::Index(1), false)]),
        &desc,
        &[],
        &NoValues
    )
    .is_err());
}
