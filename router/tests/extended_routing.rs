//! Extended-protocol routing (issue 3, items 4–5): a statement is prepared once
//! (`Router::prepare`, as at Parse) and resolved per Bind from its parameters, in text or
//! binary format, scalars or arrays, without copying them.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{int, keys_on_two_shards, router, text, uuid};
use shardwire_router::hash::parse_uuid;
use shardwire_router::{
    oid, KeyRoute, KeySource, KeyType, ParamValue, Plan, RouteError, StatementKind, StatementPlan,
    Target,
};

const UUID: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";

/// Resolves a one-statement plan with `params`.
fn resolve(plan: &Plan, params: &[ParamValue<'_>]) -> Result<Option<u32>, RouteError> {
    let shards = plan.resolve(&[], &params.to_vec())?;
    assert_eq!(shards.len(), 1);
    Ok(shards[0])
}

/// A one-dimensional binary array as a driver sends it.
fn binary_array(element_oid: u32, elements: &[Option<&[u8]>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&i32::from(elements.iter().any(Option::is_none)).to_be_bytes());
    out.extend_from_slice(&element_oid.to_be_bytes());
    out.extend_from_slice(&(elements.len() as i32).to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    for element in elements {
        match element {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

#[test]
fn a_prepared_point_select_is_a_plan_over_parameter_one() {
    let router = router();
    let plan = router
        .prepare("SELECT abalance FROM accounts WHERE id = $1", &[oid::INT8])
        .unwrap();
    assert_eq!(
        *plan,
        Plan {
            statements: vec![StatementPlan {
                kind: StatementKind::Read,
                target: Target::Key(KeyRoute {
                    table: "accounts".into(),
                    column: "id".into(),
                    key_type: KeyType::Bigint,
                    sources: vec![KeySource::Param(1)],
                }),
                tables: vec!["accounts".into()],
            }],
            shard_count: std::num::NonZeroU32::new(common::SHARDS).unwrap(),
        }
    );
}

#[test]
fn integer_parameters_resolve_in_text_and_binary_formats() {
    let router = router();
    let plan = router
        .prepare("SELECT * FROM accounts WHERE id = $1::bigint", &[])
        .unwrap();
    let (i8b, i4b, i2b) = (
        42i64.to_be_bytes(),
        42i32.to_be_bytes(),
        42i16.to_be_bytes(),
    );
    for param in [
        ParamValue::text("42"),
        ParamValue::text(" +42 "),
        ParamValue::binary(&i8b, oid::INT8),
        ParamValue::binary(&i4b, oid::INT4),
        ParamValue::binary(&i2b, oid::INT2),
        ParamValue::binary(&i8b, 0),
        ParamValue::binary(&i4b, 0),
        ParamValue::binary(&i2b, 0),
    ] {
        assert_eq!(resolve(&plan, &[param]), Ok(int(42)), "{param:?}");
    }
    let negative = (-5i64).to_be_bytes();
    assert_eq!(
        resolve(&plan, &[ParamValue::binary(&negative, oid::INT8)]),
        Ok(int(-5))
    );
}

#[test]
fn text_and_uuid_parameters_resolve_in_both_formats() {
    let router = router();
    let users = router
        .prepare("SELECT * FROM users WHERE name = $1", &[oid::TEXT])
        .unwrap();
    for param in [
        ParamValue::text("bob"),
        ParamValue::binary(b"bob", oid::TEXT),
        ParamValue::binary(b"bob", oid::VARCHAR),
        ParamValue::binary(b"bob", 0),
    ] {
        assert_eq!(resolve(&users, &[param]), Ok(text("bob")), "{param:?}");
    }
    let sessions = router
        .prepare("DELETE FROM sessions WHERE sid = $1", &[oid::UUID])
        .unwrap();
    let bytes = parse_uuid(UUID).unwrap();
    for param in [
        ParamValue::text(UUID),
        ParamValue::text("A0EEBC999C0B4EF8BB6D6BB9BD380A11"),
        ParamValue::binary(&bytes, oid::UUID),
        ParamValue::binary(&bytes, 0),
    ] {
        assert_eq!(resolve(&sessions, &[param]), Ok(uuid(UUID)), "{param:?}");
    }
}

#[test]
fn inserts_route_by_the_key_parameter_of_every_row() {
    let router = router();
    let plan = router
        .prepare(
            "INSERT INTO accounts (balance, id) VALUES ($1, $2), ($3, $4)",
            &[],
        )
        .unwrap();
    let (a, b, c) = keys_on_two_shards();
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    fn params<'a>(k1: &'a str, k2: &'a str) -> Vec<ParamValue<'a>> {
        vec![
            ParamValue::text("0"),
            ParamValue::text(k1),
            ParamValue::text("0"),
            ParamValue::text(k2),
        ]
    }
    let same = params(&a, &c);
    assert_eq!(plan.resolve(&[], &same), Ok(vec![int(a.parse().unwrap())]));
    let spread = params(&a, &b);
    let err = plan.resolve(&[], &spread).unwrap_err();
    assert_eq!(err.sqlstate, "0A000");
    assert!(
        err.message.contains(
            "a multi-row INSERT with parameters whose rows go to different shards is not supported"
        ),
        "{}",
        err.message
    );
}

#[test]
fn any_of_an_array_parameter_needs_all_elements_on_one_shard() {
    let router = router();
    let plan = router
        .prepare(
            "SELECT * FROM accounts WHERE id = ANY($1)",
            &[oid::INT8_ARRAY],
        )
        .unwrap();
    let (a, b, c) = keys_on_two_shards();
    let same_text = format!("{{{a}, {c}}}");
    let spread_text = format!("{{{a},{b}}}");
    let (ab, bb, cb) = (a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes());
    let same_binary = binary_array(oid::INT8, &[Some(&ab), Some(&cb)]);
    let spread_binary = binary_array(oid::INT8, &[Some(&ab), Some(&bb)]);
    let int4 = binary_array(oid::INT4, &[Some(&(a as i32).to_be_bytes())]);
    let empty = binary_array(oid::INT8, &[]);

    assert_eq!(resolve(&plan, &[ParamValue::text(&same_text)]), Ok(int(a)));
    assert_eq!(
        resolve(&plan, &[ParamValue::binary(&same_binary, oid::INT8_ARRAY)]),
        Ok(int(a))
    );
    assert_eq!(resolve(&plan, &[ParamValue::binary(&int4, 0)]), Ok(int(a)));
    assert_eq!(
        resolve(&plan, &[ParamValue::text("{}")]),
        Ok(None),
        "no key, no row"
    );
    assert_eq!(resolve(&plan, &[ParamValue::binary(&empty, 0)]), Ok(None));
    assert_eq!(
        resolve(&plan, &[ParamValue::null()]),
        Ok(None),
        "= ANY(NULL) matches nothing"
    );
    for param in [
        ParamValue::text(&spread_text),
        ParamValue::binary(&spread_binary, oid::INT8_ARRAY),
    ] {
        let err = resolve(&plan, &[param]).unwrap_err();
        assert_eq!(err.sqlstate, "0A000", "{}", err.message);
    }
}

#[test]
fn text_and_uuid_arrays_resolve_too() {
    let router = router();
    let users = router
        .prepare("SELECT * FROM users WHERE name = ANY($1::text[])", &[])
        .unwrap();
    let names = binary_array(oid::TEXT, &[Some(b"bob"), Some(b"bob")]);
    assert_eq!(
        resolve(&users, &[ParamValue::text(r#"{"bob", bob}"#)]),
        Ok(text("bob"))
    );
    assert_eq!(
        resolve(&users, &[ParamValue::binary(&names, oid::TEXT_ARRAY)]),
        Ok(text("bob"))
    );

    let sessions = router
        .prepare("SELECT * FROM sessions WHERE sid = ANY($1)", &[])
        .unwrap();
    let bytes = parse_uuid(UUID).unwrap();
    let uuids = binary_array(oid::UUID, &[Some(&bytes)]);
    assert_eq!(
        resolve(&sessions, &[ParamValue::binary(&uuids, oid::UUID_ARRAY)]),
        Ok(uuid(UUID))
    );
    assert_eq!(
        resolve(&sessions, &[ParamValue::text(&format!("{{{UUID}}}"))]),
        Ok(uuid(UUID))
    );
}

#[test]
fn null_parameters_go_to_shard_zero() {
    let router = router();
    let plan = router
        .prepare("INSERT INTO accounts (id) VALUES ($1)", &[])
        .unwrap();
    assert_eq!(resolve(&plan, &[ParamValue::null()]), Ok(Some(0)));
}

#[test]
fn bad_parameters_are_refused_with_the_parameter_named() {
    let router = router();
    let plan = router
        .prepare("SELECT * FROM accounts WHERE id = $1", &[])
        .unwrap();
    let three = [1u8, 2, 3];
    for (params, sqlstate, needle) in [
        (
            vec![ParamValue::text("x1")],
            "22P02",
            "invalid input syntax for type bigint: \"x1\" (shard key \"id\" of table \"accounts\", parameter $1)",
        ),
        (
            vec![ParamValue::binary(&three, 0)],
            "22P03",
            "incorrect binary data format (shard key \"id\" of table \"accounts\", parameter $1)",
        ),
        (vec![ParamValue::binary(&three, oid::UUID)], "22P03", "type OID 2950"),
        (vec![], "42P02", "there is no parameter $1"),
    ] {
        let err = resolve(&plan, &params).unwrap_err();
        assert_eq!(err.sqlstate, sqlstate, "{}", err.message);
        assert!(err.message.contains(needle), "{} lacks {needle}", err.message);
    }
    let arrays = router
        .prepare("SELECT * FROM accounts WHERE id = ANY($1)", &[])
        .unwrap();
    let truncated = &binary_array(oid::INT8, &[Some(&1i64.to_be_bytes())])[..20];
    let err = resolve(&arrays, &[ParamValue::binary(truncated, 0)]).unwrap_err();
    assert_eq!(err.sqlstate, "22P03", "{}", err.message);
    assert!(
        err.message.contains("malformed binary array"),
        "{}",
        err.message
    );
}

#[test]
fn literals_of_a_prepared_statement_are_folded_at_prepare() {
    let router = router();
    let plan = router
        .prepare("SELECT * FROM accounts WHERE id = 42", &[])
        .unwrap();
    assert_eq!(plan.statements[0].target, Target::Shard(int(42).unwrap()));
    assert_eq!(resolve(&plan, &[]), Ok(int(42)));

    // Several key values make a scattered read; its literal key values are folded too.
    let mixed = router
        .prepare("SELECT * FROM accounts WHERE id IN (42, $1)", &[])
        .unwrap();
    let Target::Scatter(scatter) = &mixed.statements[0].target else {
        panic!("{mixed:?}");
    };
    let route = scatter.key.as_ref().unwrap();
    assert_eq!(
        route.sources,
        [KeySource::Shard(int(42).unwrap()), KeySource::Param(1)]
    );
    assert_eq!(resolve(&mixed, &[ParamValue::text("42")]), Ok(int(42)));

    let err = router
        .prepare("SELECT * FROM accounts WHERE id = 'abc'", &[])
        .unwrap_err();
    assert_eq!(err.sqlstate, "22P02");
}

#[test]
fn a_prepared_text_holds_one_statement() {
    let router = router();
    let err = router.prepare("SELECT 1; SELECT 2", &[]).unwrap_err();
    assert_eq!(err.sqlstate, "42601");
    assert_eq!(
        err.message,
        "shardwire: cannot insert multiple commands into a prepared statement"
    );
    let empty = router.prepare("", &[]).unwrap();
    assert_eq!(empty.statements[0].kind, StatementKind::Empty);
}

#[test]
fn prepared_statements_are_cached_by_text_and_parameter_types() {
    let router = router();
    let sql = "UPDATE accounts SET abalance = abalance + $1 WHERE id = $2";
    let first = router.prepare(sql, &[oid::INT4, oid::INT8]).unwrap();
    let again = router.prepare(sql, &[oid::INT4, oid::INT8]).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    let other_types = router.prepare(sql, &[0, 0]).unwrap();
    assert_eq!(*first, *other_types);
    let stats = router.stats();
    assert_eq!(stats.prepared.entries, 2);
    assert_eq!(stats.prepared.hits, 1);
    assert_eq!(
        stats.parses, 1,
        "the second type list reuses the normalized plan"
    );
}
