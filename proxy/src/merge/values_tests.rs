//! Decoding and ordering per type, in both formats, and canonical bytes.

use std::cmp::Ordering::{self, Equal, Greater, Less};

use super::*;

fn cmp(kind: Kind, binary: bool, a: &[u8], b: &[u8]) -> Ordering {
    compare(
        &decode(kind, binary, a).unwrap(),
        &decode(kind, binary, b).unwrap(),
    )
}

fn cmp_text(kind: Kind, a: &str, b: &str) -> Ordering {
    cmp(kind, false, a.as_bytes(), b.as_bytes())
}

/// Orders a text value against a binary one of the same kind.
fn text_vs_binary(kind: Kind, text: &[u8], binary: &[u8]) -> Ordering {
    compare(
        &decode(kind, false, text).unwrap(),
        &decode(kind, true, binary).unwrap(),
    )
}

fn canon(kind: Kind, binary: bool, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    canonical(kind, binary, bytes, &mut out);
    out
}

#[test]
fn integers_compare_numerically_in_both_formats() {
    assert_eq!(cmp_text(Kind::Int, "9", "10"), Less);
    assert_eq!(cmp_text(Kind::Int, "-5", "-10"), Greater);
    assert_eq!(
        cmp(Kind::Int, true, &(-1i16).to_be_bytes(), &1i16.to_be_bytes()),
        Less
    );
    assert_eq!(
        cmp(Kind::Int, true, &(-1i32).to_be_bytes(), &7i32.to_be_bytes()),
        Less
    );
    assert_eq!(
        cmp(
            Kind::Int,
            true,
            &i64::MAX.to_be_bytes(),
            &i64::MIN.to_be_bytes()
        ),
        Greater
    );
    assert_eq!(cmp_text(Kind::Oid, "4294967295", "1"), Greater);
    assert_eq!(
        cmp(
            Kind::Oid,
            true,
            &u32::MAX.to_be_bytes(),
            &1u32.to_be_bytes()
        ),
        Greater
    );
    assert!(decode(Kind::Int, true, &[1, 2, 3]).is_err());
    assert!(decode(Kind::Int, false, b"x").is_err());
}

#[test]
fn numerics_compare_by_value_in_both_formats() {
    let text = [
        "-Infinity",
        "-12.50",
        "-1",
        "0",
        "0.001",
        "1.5",
        "1.50001",
        "10",
        "Infinity",
        "NaN",
    ];
    for (i, a) in text.iter().enumerate() {
        for (j, b) in text.iter().enumerate() {
            assert_eq!(cmp_text(Kind::Numeric, a, b), i.cmp(&j), "{a} vs {b}");
            let (ba, bb) = (binary_numeric(a), binary_numeric(b));
            assert_eq!(
                cmp(Kind::Numeric, true, &ba, &bb),
                i.cmp(&j),
                "binary {a} vs {b}"
            );
        }
    }
    assert_eq!(cmp_text(Kind::Numeric, "1.50", "1.5"), Equal);
    assert_eq!(cmp_text(Kind::Numeric, "007", "7.000"), Equal);
    assert_eq!(cmp_text(Kind::Numeric, "-0.5", "-0.25"), Less);
    assert_eq!(
        cmp(
            Kind::Numeric,
            true,
            &binary_numeric("1.50"),
            &binary_numeric("1.5")
        ),
        Equal
    );
    // Mixed forms and exponent notation go through exact arithmetic.
    assert_eq!(
        text_vs_binary(Kind::Numeric, b"1.5", &binary_numeric("1.50")),
        Equal
    );
    assert_eq!(
        text_vs_binary(Kind::Numeric, b"-2", &binary_numeric("1.5")),
        Less
    );
    assert_eq!(cmp_text(Kind::Numeric, "1e2", "99.9"), Greater);
    assert!(decode(Kind::Numeric, false, b"1.2.3").is_err());
    assert!(decode(Kind::Numeric, true, &[0, 1, 0, 0]).is_err());
}

fn binary_numeric(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    Numeric::parse_text(text.as_bytes())
        .unwrap()
        .write_binary(&mut out);
    out
}

#[test]
fn floats_put_nan_last_and_equal_zeros() {
    let text = [
        "-Infinity",
        "-1.5",
        "0",
        "1e-05",
        "2.5",
        "1e+300",
        "Infinity",
        "NaN",
    ];
    for (i, a) in text.iter().enumerate() {
        for (j, b) in text.iter().enumerate() {
            assert_eq!(cmp_text(Kind::Float8, a, b), i.cmp(&j), "{a} vs {b}");
        }
    }
    assert_eq!(cmp_text(Kind::Float8, "-0", "0"), Equal);
    assert_eq!(cmp_text(Kind::Float8, "NaN", "NaN"), Equal);
    let f8 = |v: f64| v.to_be_bytes();
    assert_eq!(
        cmp(Kind::Float8, true, &f8(f64::NAN), &f8(f64::INFINITY)),
        Greater
    );
    assert_eq!(cmp(Kind::Float8, true, &f8(-0.0), &f8(0.0)), Equal);
    let f4 = |v: f32| v.to_be_bytes();
    assert_eq!(cmp(Kind::Float4, true, &f4(0.1), &f4(0.2)), Less);
    // A real's text reads as the same value its binary form carries.
    assert_eq!(text_vs_binary(Kind::Float4, b"0.1", &f4(0.1)), Equal);
    assert!(decode(Kind::Float8, true, &[0; 4]).is_err());
}

#[test]
fn text_kinds_use_byte_order_and_bpchar_ignores_trailing_spaces() {
    assert_eq!(cmp_text(Kind::Text, "B", "a"), Less);
    assert_eq!(cmp_text(Kind::Text, "a", "ab"), Less);
    assert_eq!(cmp_text(Kind::Text, "é", "z"), Greater);
    assert_eq!(cmp(Kind::Text, true, b"abc", b"abd"), Less);
    assert_eq!(cmp_text(Kind::Bpchar, "ab  ", "ab"), Equal);
    assert_eq!(cmp(Kind::Bpchar, true, b"ab ", b"ab"), Equal);
    assert_eq!(cmp_text(Kind::Bpchar, "a ", "a!"), Less);
}

#[test]
fn booleans_dates_times_and_uuids_in_both_formats() {
    assert_eq!(cmp_text(Kind::Bool, "f", "t"), Less);
    assert_eq!(cmp(Kind::Bool, true, &[1], &[0]), Greater);
    assert!(decode(Kind::Bool, true, &[1, 0]).is_err());

    assert_eq!(cmp_text(Kind::Date, "2024-01-02", "2023-12-31"), Greater);
    assert_eq!(cmp_text(Kind::Date, "0001-01-01 BC", "0001-01-01"), Less);
    assert_eq!(cmp_text(Kind::Date, "infinity", "9999-12-31"), Greater);
    assert_eq!(
        text_vs_binary(Kind::Date, b"2000-01-03", &2i32.to_be_bytes()),
        Equal
    );
    assert_eq!(
        text_vs_binary(Kind::Date, b"infinity", &i32::MAX.to_be_bytes()),
        Equal
    );
    assert_eq!(
        text_vs_binary(Kind::Date, b"-infinity", &i32::MIN.to_be_bytes()),
        Equal
    );

    assert_eq!(
        cmp_text(
            Kind::Timestamp,
            "2024-01-01 10:00:00",
            "2024-01-01 09:59:59.999999"
        ),
        Greater
    );
    // timestamptz compares instants: 10:00+02 is before 09:00+00.
    assert_eq!(
        cmp_text(
            Kind::Timestamptz,
            "2024-01-01 10:00:00+02",
            "2024-01-01 09:00:00+00"
        ),
        Less
    );
    assert_eq!(
        cmp_text(
            Kind::Timestamptz,
            "2024-01-01 10:00:00+02",
            "2024-01-01 08:00:00+00"
        ),
        Equal
    );
    assert_eq!(
        text_vs_binary(
            Kind::Timestamp,
            b"2000-01-01 00:00:01",
            &1_000_000i64.to_be_bytes()
        ),
        Equal
    );
    assert_eq!(
        text_vs_binary(
            Kind::Timestamptz,
            b"2000-01-01 02:00:01+02",
            &1_000_000i64.to_be_bytes()
        ),
        Equal
    );
    assert!(decode(Kind::Timestamptz, false, b"2024-01-01 10:00:00").is_err());

    assert_eq!(cmp_text(Kind::Time, "23:59:59", "24:00:00"), Less);
    assert_eq!(
        text_vs_binary(Kind::Time, b"00:00:01.5", &1_500_000i64.to_be_bytes()),
        Equal
    );

    let u1 = "00000000-0000-0000-0000-0000000000ff";
    let u2 = "10000000-0000-0000-0000-000000000000";
    assert_eq!(cmp_text(Kind::Uuid, u1, u2), Less);
    let mut raw = [0u8; 16];
    raw[15] = 0xff;
    assert_eq!(text_vs_binary(Kind::Uuid, u1.as_bytes(), &raw), Equal);
    assert!(decode(Kind::Uuid, false, b"not-a-uuid").is_err());
}

#[test]
fn numbers_compare_across_kinds() {
    let int = decode(Kind::Int, false, b"2").unwrap();
    let num = decode(Kind::Numeric, false, b"1.5").unwrap();
    let float = decode(Kind::Float8, false, b"2.5").unwrap();
    assert_eq!(compare(&int, &num), Greater);
    assert_eq!(compare(&num, &int), Less);
    assert_eq!(compare(&int, &float), Less);
    assert_eq!(compare(&float, &num), Greater);
    let zero = decode(Kind::Numeric, false, b"0").unwrap();
    assert_eq!(
        compare(&decode(Kind::Int, false, b"1").unwrap(), &zero),
        Greater
    );
    assert_eq!(
        compare(&zero, &decode(Kind::Int, false, b"0").unwrap()),
        Equal
    );
    let minus = decode(Kind::Numeric, false, b"-0.50").unwrap();
    assert_eq!(
        compare(&decode(Kind::Int, false, b"-1").unwrap(), &minus),
        Less
    );
}

#[test]
fn canonical_bytes_make_equal_values_equal() {
    assert_eq!(canon(Kind::Numeric, false, b"1.50"), b"1.5");
    assert_eq!(canon(Kind::Numeric, false, b"2.000"), b"2");
    assert_eq!(canon(Kind::Numeric, false, b"100"), b"100");
    assert_eq!(
        canon(Kind::Numeric, true, &binary_numeric("1.50")),
        canon(Kind::Numeric, true, &binary_numeric("1.5"))
    );
    assert_eq!(
        canon(Kind::Float8, false, b"-0"),
        canon(Kind::Float8, false, b"0")
    );
    assert_eq!(
        canon(Kind::Float8, true, &(-0.0f64).to_be_bytes()),
        canon(Kind::Float8, true, &0.0f64.to_be_bytes())
    );
    assert_eq!(
        canon(Kind::Float8, true, &f64::NAN.to_be_bytes()),
        canon(Kind::Float8, true, &(-f64::NAN).to_be_bytes())
    );
    assert_ne!(
        canon(Kind::Float8, true, &1.0f64.to_be_bytes()),
        canon(Kind::Float8, true, &0.0f64.to_be_bytes())
    );
    assert_eq!(canon(Kind::Bpchar, false, b"ab  "), b"ab");
    assert_eq!(canon(Kind::Text, false, b"ab  "), b"ab  ");
    let mut a = Vec::new();
    identity(
        [
            (Kind::Text, false, Some(&b"ab"[..])),
            (Kind::Text, false, None),
        ]
        .into_iter(),
        &mut a,
    );
    let mut b = Vec::new();
    identity(
        [
            (Kind::Text, false, Some(&b"a"[..])),
            (Kind::Text, false, Some(&b"b"[..])),
        ]
        .into_iter(),
        &mut b,
    );
    assert_ne!(a, b);
}
