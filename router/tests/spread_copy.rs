//! `COPY … FROM STDIN`: into a sharded table every shard runs the client's statement and
//! gets the rows whose key hashes to it (a `CopyPlan` says how to find the key); into a
//! reference table every shard gets every row. The options are read in both syntaxes.
//! The splitter itself is unit-tested in `spread::tests`; here it runs end to end once.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;

use common::{int, router, shard, spread, SHARDS};
use shardwire_router::{
    CopyFormat, CopyPlan, CopySplitter, KeyType, SpreadAction, SpreadPlan, SpreadResults,
    SpreadShards, StatementKind,
};

/// The copy plan of a `COPY … FROM STDIN` into a sharded table.
fn copy_plan(sql: &str) -> CopyPlan {
    let spread = spread(&router(), sql);
    assert_eq!(spread.shards, [0, 1, 2, 3], "{sql}");
    let SpreadAction::Copy(plan) = &spread.plan.action else {
        panic!("{sql}: {:?}", spread.plan.action);
    };
    assert_eq!(spread.plan.shards, SpreadShards::All);
    assert!(spread.plan.transactional);
    assert_eq!(spread.plan.results, SpreadResults::Sum);
    plan.clone()
}

fn text_format() -> CopyFormat {
    CopyFormat {
        csv: false,
        delimiter: b'\t',
        null: b"\\N".to_vec(),
        header: false,
        quote: b'"',
        escape: b'"',
    }
}

fn csv_format() -> CopyFormat {
    CopyFormat {
        csv: true,
        delimiter: b',',
        null: Vec::new(),
        ..text_format()
    }
}

#[test]
fn copy_into_a_sharded_table_finds_the_key_in_the_column_list() {
    assert_eq!(
        copy_plan("COPY accounts (balance, ID, note) FROM STDIN"),
        CopyPlan {
            table: "accounts".into(),
            key_column: "id".into(),
            key_column_index: 1,
            columns_listed: true,
            key_type: KeyType::Bigint,
            format: text_format(),
        }
    );
    let plan = copy_plan("copy public.users (\"name\") from stdin;");
    assert_eq!((plan.key_column_index, plan.key_type), (0, KeyType::Text));
}

#[test]
fn both_option_syntaxes_are_read() {
    let header_csv = CopyFormat {
        header: true,
        ..csv_format()
    };
    for (sql, format) in [
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT csv)",
            csv_format(),
        ),
        (
            "COPY accounts (id) FROM STDIN (FORMAT 'csv', HEADER)",
            header_csv.clone(),
        ),
        (
            "COPY accounts (id) FROM STDIN WITH CSV HEADER",
            header_csv.clone(),
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT csv, HEADER MATCH)",
            header_csv.clone(),
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT csv, HEADER false)",
            csv_format(),
        ),
        (
            "COPY accounts (id) FROM STDIN DELIMITER ';' CSV",
            CopyFormat {
                delimiter: b';',
                ..csv_format()
            },
        ),
        (
            "COPY accounts (id) FROM STDIN WITH DELIMITER AS '|' NULL AS '' CSV QUOTE AS '''' \
             ESCAPE AS '\\' FORCE NOT NULL note",
            CopyFormat {
                delimiter: b'|',
                quote: b'\'',
                escape: b'\\',
                ..csv_format()
            },
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t', NULL 'NULL', \
             QUOTE '''', ESCAPE '\\', FREEZE, ENCODING 'UTF8', FORCE_NULL (note))",
            CopyFormat {
                delimiter: b'\t',
                null: b"NULL".to_vec(),
                quote: b'\'',
                escape: b'\\',
                ..csv_format()
            },
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (DELIMITER ',', NULL '-', HEADER on) \
             WHERE id > 0",
            CopyFormat {
                delimiter: b',',
                null: b"-".to_vec(),
                header: true,
                ..text_format()
            },
        ),
    ] {
        assert_eq!(copy_plan(sql).format, format, "{sql}");
    }
}

#[test]
fn options_are_part_of_the_plan_so_copies_are_not_cached_by_shape() {
    let router = router();
    let comma = spread(
        &router,
        "COPY accounts (id) FROM STDIN WITH (DELIMITER ',')",
    );
    let pipe = spread(
        &router,
        "COPY accounts (id) FROM STDIN WITH (DELIMITER '|')",
    );
    assert_ne!(comma.plan, pipe.plan);
}

#[test]
fn copies_that_cannot_be_split_are_refused() {
    let router = router();
    for (sql, sqlstate, needle) in [
        (
            "COPY accounts (balance) FROM STDIN",
            "0A000",
            "COPY into sharded table \"accounts\" must set its shard key \"id\"",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT binary)",
            "0A000",
            "COPY into sharded table \"accounts\" with FORMAT binary is not supported",
        ),
        (
            "COPY accounts (id) FROM STDIN BINARY",
            "0A000",
            "FORMAT binary",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (id))",
            "0A000",
            "FORCE_NOT_NULL on its shard key \"id\"",
        ),
        (
            "COPY accounts (id) FROM STDIN CSV FORCE NULL *",
            "0A000",
            "FORCE_NULL",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (DEFAULT '?')",
            "0A000",
            "DEFAULT",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (ENCODING 'LATIN1')",
            "0A000",
            "ENCODING",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (ON_ERROR ignore)",
            "0A000",
            "ON_ERROR",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (SHINY true)",
            "0A000",
            "SHINY",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (DELIMITER ',,')",
            "22023",
            "COPY delimiter must be a single one-byte character",
        ),
        (
            "COPY accounts (id) FROM STDIN WITH (DELIMITER",
            "0A000",
            "cannot read this COPY of sharded table \"accounts\"",
        ),
        (
            "COPY accounts (id) FROM '/tmp/accounts.csv'",
            "0A000",
            "COPY FROM a file or program into sharded table \"accounts\"",
        ),
        (
            "COPY countries FROM PROGRAM 'cat x'",
            "0A000",
            "COPY FROM a file or program into reference table \"countries\"",
        ),
        (
            "COPY accounts TO STDOUT",
            "0A000",
            "COPY … TO from sharded table \"accounts\" cannot run across shards; use SELECT",
        ),
        (
            "COPY (SELECT * FROM accounts WHERE balance > 0) TO STDOUT",
            "0A000",
            "COPY (SELECT …) TO over sharded tables cannot run across shards",
        ),
    ] {
        common::assert_refused(&router, sql, sqlstate, needle);
    }
}

#[test]
fn reference_and_unsharded_copies() {
    let router = router();
    let spread = spread(&router, "COPY countries (code, name) FROM STDIN WITH CSV");
    assert_eq!(
        *spread.plan,
        SpreadPlan {
            shards: SpreadShards::All,
            action: SpreadAction::CopyToAll,
            transactional: true,
            results: SpreadResults::Copies,
        }
    );
    assert_eq!(shard(&router, "COPY countries TO STDOUT"), Ok(None));
    for (sql, kind) in [
        (
            "COPY things FROM STDIN WITH (FORMAT csv, HEADER MATCH)",
            StatementKind::Write,
        ),
        ("COPY things TO STDOUT (DELIMITER '|')", StatementKind::Read),
    ] {
        let routed = router.route_simple(sql).unwrap();
        assert_eq!(routed.single_shard(), Ok(Some(0)), "{sql}");
        assert_eq!(routed.plan.statements[0].kind, kind, "{sql}");
    }
    // A key-pinned query copy runs on its shard, as before.
    assert_eq!(
        shard(
            &router,
            "COPY (SELECT * FROM accounts WHERE id = 7) TO STDOUT"
        ),
        Ok(int(7))
    );
}

#[test]
fn the_plan_splits_the_data_it_describes() {
    let plan = copy_plan("COPY accounts (note, id) FROM STDIN WITH (FORMAT csv, HEADER)");
    let mut splitter = CopySplitter::new(&plan, NonZeroU32::new(SHARDS).unwrap());
    let data = b"note,id\n\"a,\nb\",1\nplain,2\n\"x\"\"y\",3\n";
    let mut got: Vec<(u32, Vec<u8>)> = Vec::new();
    for chunk in data.chunks(3) {
        splitter
            .feed(chunk, &mut |shard, row| got.push((shard, row.to_vec())))
            .unwrap();
    }
    splitter
        .finish(&mut |shard, row| got.push((shard, row.to_vec())))
        .unwrap();
    let mut expected: Vec<(u32, Vec<u8>)> =
        (0..SHARDS).map(|s| (s, b"note,id\n".to_vec())).collect();
    expected.push((int(1).unwrap(), b"\"a,\nb\",1\n".to_vec()));
    expected.push((int(2).unwrap(), b"plain,2\n".to_vec()));
    expected.push((int(3).unwrap(), b"\"x\"\"y\",3\n".to_vec()));
    assert_eq!(got, expected);
}

#[test]
fn a_copy_without_columns_leaves_the_key_position_to_the_catalog() {
    let routed = router().route_simple("COPY accounts FROM STDIN").unwrap();
    let spread = routed.spread.expect("spread");
    let shardwire_router::SpreadAction::Copy(plan) = &spread.plan.action else {
        panic!("not a split copy: {:?}", spread.plan.action);
    };
    assert!(!plan.columns_listed);
}
