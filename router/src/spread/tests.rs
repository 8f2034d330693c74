//! Unit tests of the `COPY` splitter: the same rows whatever the chunking, the line and
//! field rules of PostgreSQL's `COPY FROM` for text and CSV, and its errors.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;

use super::copy_format::CopyFormat;
use super::copy_plan::CopyPlan;
use super::copy_split::CopySplitter;
use crate::error::RouteError;
use crate::hash::{shard_of, ShardKey};

const SHARDS: u32 = 4;

fn shards() -> NonZeroU32 {
    NonZeroU32::new(SHARDS).expect("non-zero")
}

fn int(value: i64) -> u32 {
    shard_of(&ShardKey::Int(value), shards())
}

fn text(value: &str) -> u32 {
    shard_of(&ShardKey::Text(value.as_bytes()), shards())
}

fn text_plan(key_column_index: usize, key_type: KeyType) -> CopyPlan {
    CopyPlan {
        table: "t".into(),
        key_column: "k".into(),
        key_column_index,
        columns_listed: true,
        key_type,
        format: CopyFormat {
            csv: false,
            delimiter: b'\t',
            null: b"\\N".to_vec(),
            header: false,
            quote: b'"',
            escape: b'"',
        },
    }
}

fn csv_plan(key_column_index: usize, key_type: KeyType) -> CopyPlan {
    let mut plan = text_plan(key_column_index, key_type);
    plan.format.csv = true;
    plan.format.delimiter = b',';
    plan.format.null = Vec::new();
    plan
}

type Rows = Vec<(u32, Vec<u8>)>;

/// Splits `data` fed in chunks of `chunk` bytes.
fn split_in(plan: &CopyPlan, data: &[u8], chunk: usize) -> Result<Rows, RouteError> {
    let mut splitter = CopySplitter::new(plan, shards());
    let mut rows = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        splitter.feed(piece, &mut |s, row| rows.push((s, row.to_vec())))?;
    }
    splitter.finish(&mut |s, row| rows.push((s, row.to_vec())))?;
    Ok(rows)
}

/// Splits `data` whole, byte by byte and in a few other chunkings, checking that all
/// agree.
fn split(plan: &CopyPlan, data: &[u8]) -> Result<Rows, RouteError> {
    let whole = split_in(plan, data, data.len());
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(split_in(plan, data, chunk), whole, "chunks of {chunk}");
    }
    whole
}

fn row(shard: u32, bytes: &[u8]) -> (u32, Vec<u8>) {
    (shard, bytes.to_vec())
}

#[test]
fn text_rows_go_to_the_shard_of_their_key_whatever_the_chunking() {
    let plan = text_plan(1, KeyType::Bigint);
    let data = b"a\t1\tx\nb\t2\ty\r\nc\t3\n";
    assert_eq!(
        split(&plan, data),
        Ok(vec![
            row(int(1), b"a\t1\tx\n"),
            row(int(2), b"b\t2\ty\r\n"),
            row(int(3), b"c\t3\n"),
        ])
    );
}

#[test]
fn text_escapes_are_decoded_in_the_key_only() {
    let plan = text_plan(0, KeyType::Text);
    let data: &[u8] =
        b"tab\\there\t1\nnew\\nline\\\nmore\t2\n\\x41\\102\\\\\t3\n\\N\t4\na\\\tb\t5\n";
    assert_eq!(
        split(&plan, data),
        Ok(vec![
            row(text("tab\there"), b"tab\\there\t1\n"),
            // An escaped newline is data: the row goes on.
            row(text("new\nline\nmore"), b"new\\nline\\\nmore\t2\n"),
            row(text("AB\\"), b"\\x41\\102\\\\\t3\n"),
            // `\N` is NULL: shard 0, where PostgreSQL puts NULL keys.
            row(0, b"\\N\t4\n"),
            // An escaped delimiter is part of the field.
            row(text("a\tb"), b"a\\\tb\t5\n"),
        ])
    );
}

#[test]
fn csv_quotes_hold_newlines_delimiters_and_quotes() {
    let plan = csv_plan(1, KeyType::Text);
    let data: &[u8] = b"1,\"a,b\nc\"\n2,\"say \"\"hi\"\"\",x\n3,,x\n4,\"\",x\n5,pl\"ai\"n\n";
    assert_eq!(
        split(&plan, data),
        Ok(vec![
            row(text("a,b\nc"), b"1,\"a,b\nc\"\n"),
            row(text("say \"hi\""), b"2,\"say \"\"hi\"\"\",x\n"),
            // Unquoted empty is NULL; quoted empty is the empty string.
            row(0, b"3,,x\n"),
            row(text(""), b"4,\"\",x\n"),
            row(text("plain"), b"5,pl\"ai\"n\n"),
        ])
    );
}

#[test]
fn csv_escape_characters_other_than_the_quote() {
    let mut plan = csv_plan(0, KeyType::Text);
    plan.format.escape = b'\\';
    let data: &[u8] = b"\"a\\\"b\",1\n\"c\\\\\",2\n\"d\\e\",3\n";
    assert_eq!(
        split(&plan, data),
        Ok(vec![
            row(text("a\"b"), b"\"a\\\"b\",1\n"),
            row(text("c\\"), b"\"c\\\\\",2\n"),
            row(text("d\\e"), b"\"d\\e\",3\n"),
        ])
    );
}

#[test]
fn the_header_goes_to_every_shard_and_the_end_marker_to_none() {
    let mut plan = csv_plan(0, KeyType::Bigint);
    plan.format.header = true;
    let data: &[u8] = b"id,\"multi\nline\"\n7,x\n\\.\nignored,after\n";
    let mut expected: Rows = (0..SHARDS)
        .map(|s| row(s, b"id,\"multi\nline\"\n"))
        .collect();
    expected.push(row(int(7), b"7,x\n"));
    assert_eq!(split(&plan, data), Ok(expected));
    let numbers = text_plan(0, KeyType::Bigint);
    assert_eq!(
        split(&numbers, b"1\n\\.\r\n2\n"),
        Ok(vec![row(int(1), b"1\n")])
    );
    // After data on its line, the marker is refused, as PostgreSQL 18 does.
    let err = split(&numbers, b"1\n2\\.\n3\n").unwrap_err();
    assert_eq!(err.sqlstate, "22P04");
    assert!(
        err.message.contains("not alone on its line (COPY line 2)"),
        "{}",
        err.message
    );
    // An escaped backslash before a dot is data.
    let names = text_plan(0, KeyType::Text);
    assert_eq!(
        split(&names, b"a\\\\.\n"),
        Ok(vec![row(text("a\\."), b"a\\\\.\n")])
    );
}

#[test]
fn a_last_row_without_newline_is_routed_as_is() {
    let plan = text_plan(0, KeyType::Bigint);
    assert_eq!(
        split(&plan, b"1\tx\n2\ty"),
        Ok(vec![row(int(1), b"1\tx\n"), row(int(2), b"2\ty")])
    );
    assert_eq!(split(&plan, b""), Ok(Vec::new()));
    let csv = csv_plan(0, KeyType::Bigint);
    let err = split(&csv, b"1,\"open\n").unwrap_err();
    assert_eq!(err.sqlstate, "22P04");
    assert!(
        err.message
            .contains("unterminated CSV quoted field (COPY line 1)"),
        "{}",
        err.message
    );
}

#[test]
fn bad_rows_are_errors_naming_the_line_and_the_value() {
    let plan = text_plan(1, KeyType::Bigint);
    let cases: &[(&[u8], &str, &str)] = &[
        (
            b"a\t1\nb\tbad\n",
            "22P02",
            "invalid input syntax for type bigint: \"bad\" (shard key \"k\" of table \"t\", COPY line 2)",
        ),
        (
            b"a\t99999999999999999999\n",
            "22003",
            "value \"99999999999999999999\" is out of range for type bigint",
        ),
        (
            b"a\t1\nonly\n",
            "22P04",
            "missing data for column \"k\", the shard key of table \"t\" (COPY line 2: \"only\")",
        ),
        (b"a\t1\rb\t2\r", "22P04", "carriage-return line endings (line 1)"),
    ];
    for &(data, sqlstate, needle) in cases {
        let err = split(&plan, data).unwrap_err();
        assert_eq!(err.sqlstate, sqlstate, "{}", err.message);
        assert!(err.message.contains(needle), "{}", err.message);
    }
    let uuid = text_plan(0, KeyType::Uuid);
    assert_eq!(split(&uuid, b"nope\n").unwrap_err().sqlstate, "22P02");
}

#[test]
fn any_bytes_split_alike_whatever_the_chunking() {
    // A small linear congruential generator: deterministic, no dependency.
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) as usize
    };
    let alphabet = b"1a,\"\\\n\r\tN.-";
    let plans = [text_plan(1, KeyType::Text), csv_plan(1, KeyType::Bigint)];
    for _ in 0..400 {
        let data: Vec<u8> = (0..next() % 40)
            .map(|_| alphabet[next() % alphabet.len()])
            .collect();
        for plan in &plans {
            // Errors or rows, but the same ones, and never a panic.
            let _ = split(plan, &data);
        }
    }
}

#[test]
fn the_null_string_and_delimiter_are_the_plans() {
    let mut plan = text_plan(0, KeyType::Bigint);
    plan.format.delimiter = b'|';
    plan.format.null = b"NULL".to_vec();
    assert_eq!(
        split(&plan, b"NULL|x\n5|y\n"),
        Ok(vec![row(0, b"NULL|x\n"), row(int(5), b"5|y\n")])
    );
}

#[test]
fn statements_postgres_refuses_in_a_transaction_block_are_told_apart() {
    use super::ddl::transactional;
    for (sql, expected) in [
        ("CREATE TABLE t (a int)", true),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", false),
        ("create unique index concurrently on t (a)", false),
        ("DROP INDEX CONCURRENTLY i", false),
        ("CREATE INDEX i ON t (a)", true),
        ("VACUUM ANALYZE t", false),
        ("ANALYZE t", true),
        ("REINDEX (VERBOSE) DATABASE app", false),
        ("REINDEX (VERBOSE) TABLE t", true),
        ("REINDEX INDEX CONCURRENTLY i", false),
        ("CLUSTER VERBOSE", false),
        ("CLUSTER VERBOSE t", true),
        ("ALTER SYSTEM RESET ALL", false),
        ("CREATE TABLESPACE s LOCATION $L1", false),
        ("ALTER DATABASE app SET TABLESPACE fast", false),
        ("CREATE SUBSCRIPTION s CONNECTION $L1 PUBLICATION p", false),
        ("ALTER TYPE mood ADD VALUE $L1", true),
    ] {
        assert_eq!(transactional(sql), expected, "{sql}");
    }
}
