//! Float text output as PostgreSQL 15 prints it.

use super::*;

#[test]
fn double_uses_fixed_notation_for_exponents_minus_4_to_14() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (100.0, "100"),
        (0.1, "0.1"),
        (0.0001, "0.0001"),
        (0.00015, "0.00015"),
        (1.0 / 3.0, "0.3333333333333333"),
        (123456789012345.0, "123456789012345"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e15, "1e+15"),
        (1.5e-5, "1.5e-05"),
        (-2.5e20, "-2.5e+20"),
        (1e100, "1e+100"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        // Exact ties break to even; a decimal on the interval's bound is not taken.
        (6_526_407_631_207_285.0 / 4.0, "1.6316019078018212e+15"),
        (-880_121_228_548_917.0 / 8.0, "-110015153568614.62"),
        (21182220754442592.0, "2.1182220754442592e+16"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (9007199254740993.0, "9.007199254740992e+15"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (v, text) in cases {
        assert_eq!(format_f64(*v), *text, "{v:e}");
    }
}

#[test]
fn real_uses_fixed_notation_for_exponents_minus_4_to_5() {
    let cases: &[(f32, &str)] = &[
        (0.1, "0.1"),
        (1.5, "1.5"),
        (100000.0, "100000"),
        (1000000.0, "1e+06"),
        (123456.7, "123456.7"),
        (1.0 / 3.0, "0.33333334"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (f32::NAN, "NaN"),
        (f32::NEG_INFINITY, "-Infinity"),
    ];
    for (v, text) in cases {
        assert_eq!(format_f32(*v), *text, "{v:e}");
    }
}
