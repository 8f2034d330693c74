//! Tests of COM_STMT_EXECUTE reading and rewriting against `mysql_common`'s builder.

use super::*;
use crate::protocol::mysql::packet::split_all;
use mysql_common::packets::ComStmtExecuteRequestBuilder;
use mysql_common::proto::MySerialize;
use mysql_common::Value;

fn values() -> Vec<Value> {
    vec![
        Value::Int(-42),
        Value::UInt(u64::MAX),
        Value::NULL,
        Value::Bytes(b"hello".to_vec()),
        Value::Double(1.5),
        Value::Date(2024, 2, 29, 13, 14, 15, 16),
        Value::Time(true, 1, 2, 3, 4, 0),
        Value::Bytes(vec![b'x'; 300]),
    ]
}

fn their_execute(stmt_id: u32, params: &[Value]) -> Vec<u8> {
    let (req, _) = ComStmtExecuteRequestBuilder::new(stmt_id).build(params);
    let mut bytes = Vec::new();
    req.serialize(&mut bytes);
    bytes
}

fn ctx(count: usize) -> ParamContext<'static> {
    ParamContext {
        count,
        types: None,
        long_data: &[],
    }
}

#[test]
fn mysql_common_execute_parses_with_values_and_keys() {
    let params = values();
    let bytes = their_execute(7, &params);
    let e = parse_execute(&bytes, ctx(params.len())).unwrap();
    assert_eq!((e.stmt_id, e.flags, e.iteration_count), (7, 0, 1));
    assert!(e.new_params_bound);
    assert_eq!(e.types.map(<[u8]>::len), Some(16));
    assert_eq!(e.values[0], ParamValue::Value(&(-42i64).to_le_bytes()[..]));
    assert_eq!(e.values[2], ParamValue::Null);
    assert_eq!(e.values[3], ParamValue::Value(&b"hello"[..]));
    assert_eq!(
        e.values[5],
        ParamValue::Value(&[0xE8, 0x07, 2, 29, 13, 14, 15, 16, 0, 0, 0][..])
    );
    assert!(matches!(e.values[6], ParamValue::Value(v) if v.len() == 8));
    assert!(matches!(e.values[7], ParamValue::Value(v) if v.len() == 300));
    assert_eq!(e.key(0), Some(ParamKey::Int(-42)));
    assert_eq!(e.key(1), Some(ParamKey::Int(i128::from(u64::MAX))));
    assert_eq!(e.key(2), Some(ParamKey::Null));
    assert_eq!(e.key(3), Some(ParamKey::Text(b"hello")));
    assert_eq!(e.key(4), Some(ParamKey::Unsupported));
    assert_eq!(e.key(8), None);
}

#[test]
fn every_truncation_is_an_error() {
    let params = values();
    let bytes = their_execute(7, &params);
    for cut in 0..bytes.len() {
        assert!(
            parse_execute(&bytes[..cut], ctx(params.len())).is_err(),
            "cut {cut}"
        );
    }
    // A huge parameter count from a confused caller is an error, not an allocation.
    assert!(parse_execute(&bytes, ctx(usize::MAX)).is_err());
}

#[test]
fn rebuild_targets_another_statement_without_cursor() {
    let params = values();
    let mut bytes = their_execute(7, &params);
    bytes[5] = cursor::READ_ONLY;
    let e = parse_execute(&bytes, ctx(params.len())).unwrap();
    assert_eq!(e.flags, cursor::READ_ONLY);
    let mut out = BytesMut::new();
    let mut seq = 0;
    rebuild_execute(&mut out, &mut seq, &e, 99, e.types.unwrap_or_default());
    let p = split_all(&out);
    assert_eq!(
        p[0].1,
        their_execute(99, &params),
        "identical to a fresh execute of 99"
    );
}

#[test]
fn later_execute_without_types_uses_remembered_ones() {
    let params = [Value::Int(5), Value::Bytes(b"k".to_vec())];
    let first = their_execute(3, &params);
    let e1 = parse_execute(&first, ctx(2)).unwrap();
    let types = e1.types.unwrap_or_default().to_vec();
    // Same execute, types not re-sent: bitmap, 0, values.
    let mut second = first[..10].to_vec();
    second.extend_from_slice(&[0, 0]);
    second.extend_from_slice(e1.values_raw);
    assert!(parse_execute(&second, ctx(2)).is_err(), "types unknown");
    let remembered = ParamContext {
        count: 2,
        types: Some(&types),
        long_data: &[],
    };
    let e2 = parse_execute(&second, remembered).unwrap();
    assert!(!e2.new_params_bound);
    assert_eq!(e2.values, e1.values);
    assert_eq!(e2.key(0), Some(ParamKey::Int(5)));
    let mut out = BytesMut::new();
    let mut seq = 0;
    rebuild_execute(&mut out, &mut seq, &e2, 3, &types);
    assert_eq!(split_all(&out)[0].1, first);
}

#[test]
fn long_data_parameters_have_no_bytes() {
    let params = [Value::Bytes(b"a".to_vec()), Value::Int(1)];
    let bytes = their_execute(3, &params);
    // Drop the first value's bytes as a client does after COM_STMT_SEND_LONG_DATA.
    let e = parse_execute(&bytes, ctx(2)).unwrap();
    let mut long = bytes[..bytes.len() - e.values_raw.len()].to_vec();
    long.extend_from_slice(&e.values_raw[2..]);
    let c = ParamContext {
        count: 2,
        types: None,
        long_data: &[true],
    };
    let e = parse_execute(&long, c).unwrap();
    assert_eq!(e.values[0], ParamValue::LongData);
    assert_eq!(e.key(0), Some(ParamKey::Unsupported));
    assert_eq!(e.key(1), Some(ParamKey::Int(1)));
}

#[test]
fn integer_keys_by_width_and_sign() {
    let cases: [(u8, u8, &[u8], i128); 8] = [
        (ty::TINY, 0, &[0xFF], -1),
        (ty::TINY, PARAM_UNSIGNED, &[0xFF], 255),
        (ty::SHORT, 0, &[0x00, 0x80], -32768),
        (ty::YEAR, PARAM_UNSIGNED, &[0xE8, 0x07], 2024),
        (ty::LONG, 0, &[0xFE, 0xFF, 0xFF, 0xFF], -2),
        (
            ty::INT24,
            PARAM_UNSIGNED,
            &[0xFF, 0xFF, 0xFF, 0xFF],
            0xFFFF_FFFF,
        ),
        (
            ty::LONGLONG,
            0,
            &[0, 0, 0, 0, 0, 0, 0, 0x80],
            i128::from(i64::MIN),
        ),
        (
            ty::LONGLONG,
            PARAM_UNSIGNED,
            &[0xFF; 8],
            i128::from(u64::MAX),
        ),
    ];
    for (t, flag, bytes, want) in cases {
        assert_eq!(
            param_key(t, flag, ParamValue::Value(bytes)),
            ParamKey::Int(want),
            "type {t}"
        );
    }
    assert_eq!(
        param_key(ty::LONG, 0, ParamValue::Value(&[1])),
        ParamKey::Unsupported
    );
    assert_eq!(
        param_key(ty::NEWDECIMAL, 0, ParamValue::Value(b"1.5")),
        ParamKey::Text(b"1.5")
    );
    assert_eq!(param_key(ty::LONG, 0, ParamValue::Null), ParamKey::Null);
}
