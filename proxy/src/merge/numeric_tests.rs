//! Exact numeric arithmetic against values PostgreSQL prints.

use super::*;

fn n(text: &str) -> Numeric {
    Numeric::parse_text(text.as_bytes()).unwrap()
}

/// `avg` as the merge computes it: the exact sum (largest input scale) over the count.
fn avg(values: &[&str]) -> String {
    let sum = values.iter().fold(n("0"), |sum, v| sum.add(&n(v)));
    sum.div(&Numeric::from_int(values.len() as i128))
        .unwrap()
        .to_text()
}

#[test]
fn text_round_trips_with_its_display_scale() {
    for text in [
        "0",
        "-12.50",
        "1.5",
        "0.001",
        "100000",
        "-0.0000001",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        assert_eq!(n(text).to_text(), text);
    }
    assert_eq!(n("1e3").to_text(), "1000");
    assert_eq!(n("1.50e1").to_text(), "15.0");
    assert_eq!(n("2.5e-3").to_text(), "0.0025");
    assert_eq!(n(" +.5 ").to_text(), "0.5");
    assert_eq!(n("5.").to_text(), "5");
    assert_eq!(n("nan"), Numeric::NaN);
    for bad in ["", ".", "-", "1.2.3", "abc", "1e", "1e2000", "--1"] {
        assert_eq!(Numeric::parse_text(bad.as_bytes()), None, "{bad}");
    }
}

#[test]
fn addition_keeps_the_larger_scale_and_special_rules() {
    assert_eq!(n("1.25").add(&n("2.5")).to_text(), "3.75");
    assert_eq!(n("1.50").add(&n("-1.5")).to_text(), "0.00");
    assert_eq!(n("-12.50").add(&n("2")).to_text(), "-10.50");
    assert_eq!(n("NaN").add(&n("1")), Numeric::NaN);
    assert_eq!(n("Infinity").add(&n("-Infinity")), Numeric::NaN);
    assert_eq!(n("Infinity").add(&n("1")), Numeric::PosInf);
    assert_eq!(n("-Infinity").add(&n("-1")), Numeric::NegInf);
}

#[test]
fn averages_have_postgresql_division_scale() {
    assert_eq!(avg(&["1", "2"]), "1.5000000000000000");
    assert_eq!(avg(&["1", "2", "4"]), "2.3333333333333333");
    assert_eq!(avg(&["10", "20", "30"]), "20.0000000000000000");
    assert_eq!(avg(&["100000", "200000"]), "150000.000000000000");
    assert_eq!(avg(&["1.25", "2.50"]), "1.8750000000000000");
    assert_eq!(avg(&["0.001", "0.002"]), "0.00150000000000000000");
    assert_eq!(avg(&["-1", "-2"]), "-1.5000000000000000");
}

#[test]
fn division_rounds_half_away_from_zero_and_handles_specials() {
    assert_eq!(
        n("2").div(&n("3")).unwrap().to_text(),
        "0.66666666666666666667"
    );
    assert_eq!(
        n("-2").div(&n("3")).unwrap().to_text(),
        "-0.66666666666666666667"
    );
    assert_eq!(n("1").div(&n("0")), None);
    assert_eq!(n("NaN").div(&n("2")), Some(Numeric::NaN));
    assert_eq!(n("Infinity").div(&n("2")), Some(Numeric::PosInf));
    assert_eq!(n("Infinity").div(&n("-2")), Some(Numeric::NegInf));
    assert_eq!(n("-Infinity").div(&n("2")), Some(Numeric::NegInf));
    assert_eq!(n("Infinity").div(&n("0")), None);
}

fn binary(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    n(text).write_binary(&mut out);
    out
}

fn header(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

#[test]
fn binary_form_is_normalized_base_10000() {
    let cases: &[(&str, Vec<u8>)] = &[
        ("0", header(0, 0, 0, &[])),
        ("0.00", header(0, 0, 2, &[])),
        ("1.5", header(0, 0, 1, &[1, 5000])),
        ("-12.50", header(0, 0x4000, 2, &[12, 5000])),
        ("100000", header(1, 0, 0, &[10])),
        ("0.001", header(-1, 0, 3, &[10])),
        (
            "123456789.000012",
            header(2, 0, 6, &[1, 2345, 6789, 0, 1200]),
        ),
        ("NaN", header(0, 0xC000, 0, &[])),
        ("Infinity", header(0, 0xD000, 32, &[])),
        ("-Infinity", header(0, 0xF000, 32, &[])),
    ];
    for (text, bytes) in cases {
        assert_eq!(&binary(text), bytes, "{text}");
        assert_eq!(Numeric::parse_binary(bytes), Some(n(text)), "{text}");
    }
}

#[test]
fn malformed_binary_is_refused() {
    assert_eq!(Numeric::parse_binary(&[0, 1, 0, 0]), None);
    // ndigits says 2, one digit present.
    let mut short = header(0, 0, 0, &[1]);
    short[1] = 2;
    assert_eq!(Numeric::parse_binary(&short), None);
    // A digit of 10000.
    assert_eq!(Numeric::parse_binary(&header(0, 0, 0, &[10_000])), None);
    // An unknown sign.
    assert_eq!(Numeric::parse_binary(&header(0, 0x1234, 0, &[1])), None);
}

#[test]
fn comparison_ignores_scale_and_puts_nan_last() {
    use std::cmp::Ordering::*;
    assert_eq!(n("1.50").cmp_value(&n("1.5")), Equal);
    assert_eq!(n("-2").cmp_value(&n("1")), Less);
    assert_eq!(n("Infinity").cmp_value(&n("1e100")), Greater);
    assert_eq!(n("NaN").cmp_value(&n("Infinity")), Greater);
    assert_eq!(n("NaN").cmp_value(&n("NaN")), Equal);
    assert_eq!(n("-Infinity").cmp_value(&n("-1e100")), Less);
    assert_eq!(n("0.1").to_f64(), 0.1);
}
