//! Multi-row `INSERT … VALUES` whose rows hash to different shards: split by shard,
//! each shard's statement holding its rows (in their order) with the literals exactly as
//! the client wrote them, and the same column list, `ON CONFLICT` and `RETURNING`.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;

use common::{int, keys_on_two_shards, router, shard, spread, text, SHARDS};
use shardwire_router::{
    normalize, InsertSplit, NoParams, ParamValue, Placement, Router, SpreadAction, SpreadResults,
    SpreadShards, Target,
};

fn shards() -> NonZeroU32 {
    NonZeroU32::new(SHARDS).unwrap()
}

/// The split of a simple-protocol `INSERT` whose rows need several shards.
fn split(router: &Router, sql: &str) -> Vec<(u32, String)> {
    let spread = spread(router, sql);
    assert!(spread.plan.transactional);
    assert_eq!(spread.plan.results, SpreadResults::Sum);
    assert!(matches!(spread.plan.shards, SpreadShards::Key(_)));
    let SpreadAction::SplitInsert(split) = &spread.plan.action else {
        panic!("{sql}: {:?}", spread.plan.action);
    };
    let parts = split.split(shards(), &normalize(sql).literals).unwrap();
    let used: Vec<u32> = parts.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        used, spread.shards,
        "{sql}: the split uses the placed shards"
    );
    parts
}

#[test]
fn rows_are_grouped_by_shard_with_their_literals_as_written() {
    let router = router();
    let (a, b, c) = keys_on_two_shards();
    let sql = format!(
        "INSERT INTO accounts (id, note, n) VALUES ({a}, 'it''s', -1.5), ({b}, E'tab\\there', 2), \
         ({c}, $$dollar$$, DATE '2024-01-02'), (NULL, 'null key', 0)"
    );
    let mut expected = vec![
        (
            int(a).unwrap(),
            format!(
                "INSERT INTO accounts (id, note, n) VALUES ({a}, 'it''s', -1.5), \
                 ({c}, $$dollar$$, DATE '2024-01-02')"
            ),
        ),
        (
            int(b).unwrap(),
            format!("INSERT INTO accounts (id, note, n) VALUES ({b}, E'tab\\there', 2)"),
        ),
        (
            0,
            "INSERT INTO accounts (id, note, n) VALUES (NULL, 'null key', 0)".to_owned(),
        ),
    ];
    // NULL keys live on shard 0, which may be one of the others.
    expected.sort_by_key(|(s, _)| *s);
    let mut merged: Vec<(u32, String)> = Vec::new();
    for (shard, sql) in expected {
        match merged.last_mut() {
            Some((last, text)) if *last == shard => {
                let rows = sql.split_once(" VALUES ").unwrap().1;
                text.push_str(", ");
                text.push_str(rows);
            }
            _ => merged.push((shard, sql)),
        }
    }
    assert_eq!(split(&router, &sql), merged);
}

#[test]
fn the_tail_is_kept_on_every_shard() {
    let router = router();
    let (a, b, _) = keys_on_two_shards();
    let sql = format!(
        "insert into Accounts AS t (ID, n) values ({a}, now()), ({b}, lower('X')) \
         ON CONFLICT (id) DO UPDATE SET n = t.n || 'x' RETURNING id, n"
    );
    let parts = split(&router, &sql);
    assert_eq!(parts.len(), 2);
    for (shard, part) in parts {
        let row = if Some(shard) == int(a) {
            format!("({a}, now())")
        } else {
            format!("({b}, lower('X'))")
        };
        assert_eq!(
            part,
            format!(
                "insert into Accounts AS t (ID, n) values {row} ON CONFLICT (id) DO UPDATE SET \
                 n = t.n || 'x' RETURNING id, n"
            )
        );
    }
}

#[test]
fn text_keys_split_too() {
    let router = router();
    let names = ["alice", "bob", "carol", "dave", "erin"];
    let rows: Vec<String> = names.iter().map(|n| format!("('{n}')")).collect();
    let sql = format!("INSERT INTO users (name) VALUES {}", rows.join(", "));
    for (shard, part) in split(&router, &sql) {
        let mine: Vec<String> = names
            .iter()
            .filter(|n| text(n) == Some(shard))
            .map(|n| format!("('{n}')"))
            .collect();
        assert_eq!(
            part,
            format!("INSERT INTO users (name) VALUES {}", mine.join(", "))
        );
    }
}

#[test]
fn rows_on_one_shard_go_there_unchanged() {
    let router = router();
    let (a, _, c) = keys_on_two_shards();
    let sql = format!("INSERT INTO accounts (id) VALUES ({a}), ({c}), ({a})");
    let routed = router.route_simple(&sql).unwrap();
    assert!(routed.spread.is_none());
    assert_eq!(routed.single_shard(), Ok(int(a)));
    assert_eq!(
        shard(&router, "INSERT INTO users (name) VALUES (NULL), (NULL)"),
        Ok(Some(0))
    );
}

#[test]
fn bad_key_values_fail_like_resolving() {
    let router = router();
    for (sql, sqlstate, needle) in [
        (
            "INSERT INTO accounts (id) VALUES (1), ('x')",
            "22P02",
            "invalid input syntax for type bigint: \"x\" (shard key \"id\" of table \"accounts\")",
        ),
        (
            "INSERT INTO accounts (id) VALUES (1), (99999999999999999999)",
            "22003",
            "out of range",
        ),
    ] {
        common::assert_refused(&router, sql, sqlstate, needle);
        let plan = router
            .route_simple("INSERT INTO accounts (id) VALUES (1), (2)")
            .unwrap()
            .plan;
        let Target::Spread(spread) = &plan.statements[0].target else {
            panic!("not spread");
        };
        let SpreadAction::SplitInsert(split) = &spread.action else {
            panic!("not split");
        };
        let err = split.split(shards(), &normalize(sql).literals).unwrap_err();
        assert_eq!(err.sqlstate, sqlstate);
    }
}

/// The split of a prepared statement's plan.
fn prepared_split(router: &Router, sql: &str) -> (Target, Option<InsertSplit>) {
    let plan = router.prepare(sql, &[]).unwrap();
    let target = plan.statements[0].target.clone();
    let split = match &target {
        Target::Spread(spread) => match &spread.action {
            SpreadAction::SplitInsert(split) => Some(split.clone()),
            _ => None,
        },
        _ => None,
    };
    (target, split)
}

#[test]
fn prepared_inserts_fold_their_literal_keys() {
    let router = router();
    let (a, b, c) = keys_on_two_shards();
    let (target, _) = prepared_split(
        &router,
        &format!("INSERT INTO accounts (id, n) VALUES ({a}, $1), ({c}, $2)"),
    );
    assert_eq!(target, Target::Shard(int(a).unwrap()));

    let sql = format!("INSERT INTO accounts (id, n) VALUES ({a}, 'x'), ({b}, 'y')");
    let (target, split) = prepared_split(&router, &sql);
    let Target::Spread(spread) = &target else {
        panic!("{target:?}");
    };
    let mut both = vec![int(a).unwrap(), int(b).unwrap()];
    both.sort_unstable();
    assert_eq!(
        spread.place(shards(), &[], &NoParams),
        Ok(Placement::Many(both))
    );
    // Folded: the split needs no literals any more.
    let parts = split.unwrap().split(shards(), &[]).unwrap();
    assert!(parts
        .iter()
        .any(|(_, s)| s == &format!("INSERT INTO accounts (id, n) VALUES ({a}, 'x')")));

    let (target, _) = prepared_split(
        &router,
        &format!("INSERT INTO accounts (id, n) VALUES ({a}, $1), ({b}, $2)"),
    );
    let Target::AllShards(err) = target else {
        panic!("{target:?}");
    };
    assert!(
        err.message.contains(
            "a multi-row INSERT with parameters whose rows go to different \
                              shards is not supported; send one row per statement or use the \
                              simple protocol"
        ),
        "{}",
        err.message
    );
}

#[test]
fn prepared_inserts_with_key_parameters_place_per_bind() {
    let router = router();
    let (a, b, c) = keys_on_two_shards();
    let plan = router
        .prepare("INSERT INTO accounts (id) VALUES ($1), ($2)", &[])
        .unwrap();
    let statement = &plan.statements[0];
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    let same = vec![ParamValue::text(&a), ParamValue::text(&c)];
    assert_eq!(
        statement.place(shards(), &[], &same),
        Ok(Placement::One(int(a.parse().unwrap())))
    );
    let apart = vec![ParamValue::text(&a), ParamValue::text(&b)];
    let err = statement.place(shards(), &[], &apart).unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
}

#[test]
fn other_inserts_keep_their_targets() {
    let router = router();
    for (sql, needle) in [
        (
            "INSERT INTO accounts (id) SELECT id FROM things",
            "INSERT … SELECT into sharded table \"accounts\" may write rows to several shards",
        ),
        (
            "INSERT INTO accounts DEFAULT VALUES",
            "must set its shard key",
        ),
        (
            "INSERT INTO accounts VALUES (1), (2)",
            "needs a column list",
        ),
        (
            "INSERT INTO accounts (id) VALUES (1), (nextval('s'))",
            "must be a constant or a parameter in every row",
        ),
    ] {
        common::assert_refused(&router, sql, "0A000", needle);
    }
    // An unsharded table read in a row pins the insert to shard 0, as before.
    let on_zero: Vec<i64> = (0..).filter(|&k| int(k) == Some(0)).take(2).collect();
    let sql = format!(
        "INSERT INTO accounts (id, n) VALUES ({}, (SELECT max(n) FROM things)), ({}, 1)",
        on_zero[0], on_zero[1]
    );
    assert_eq!(shard(&router, &sql), Ok(Some(0)));
}
