//! MySQL's text form of a `DOUBLE` the proxy computed itself (a merged `SUM` or `AVG`
//! of floating-point values), as MariaDB prints doubles: the shortest digits that read
//! back as the same value, in fixed notation when the decimal exponent is in
//! `[-15, 14]`, else `<digits>e<exponent>` (`1e16`, `1.5e-16`, no `+`, no padding);
//! zero is `0`.
//!
//! Deviation: Rust's shortest digits and MariaDB's `dtoa` may pick different (equally
//! short) digits for a value exactly between two candidates.

/// The text MariaDB sends for double `v`.
pub fn format_double(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        // MariaDB has no infinities; an overflow is its error, ours is this text.
        return if v.is_nan() {
            "nan"
        } else if v > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    let scientific = format!("{v:e}");
    let exponent: i32 = scientific
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if (-15..=14).contains(&exponent) {
        format!("{v}")
    } else {
        scientific
    }
}

#[cfg(test)]
mod tests {
    use super::format_double;

    #[test]
    fn doubles_print_as_mariadb_prints_them() {
        // Left: what MariaDB 10.11 sent for the value on the right.
        for (text, v) in [
            ("100000000000000", 1e14),
            ("1.000000000000001e15", 1e15 + 1.0),
            ("1e16", 1e16),
            ("123456789012345", 123_456_789_012_345.0),
            ("1.234567890123456e15", 1_234_567_890_123_456.0),
            ("0.30000000000000004", 0.1 + 0.2),
            ("0.3333333333333333", 1.0 / 3.0),
            ("0.00000015", 1.5e-7),
            ("0.000000000000001", 1e-15),
            ("1e-16", 1e-16),
            ("-0.0000000000000015", -1.5e-15),
            ("1.2345678901234568e-16", 1.2345678901234567e-16),
            ("-1.5e300", -1.5e300),
            ("5e-324", 5e-324),
            ("0", -0.0),
            ("1.23456789e20", 1.23456789e20),
            ("12345.678", 12345.678),
            ("0.00000034999999343199306", f64::from(3.5e-7f32)),
        ] {
            assert_eq!(format_double(v), text);
        }
    }
}
