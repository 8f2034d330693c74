//! `real` and `double precision` text output as PostgreSQL 15 prints them by default
//! (`extra_float_digits = 1`): the shortest digits that read back as the same value, in
//! fixed notation when the decimal exponent is in `[-4, 15)` (`[-4, 6)` for `real`), else
//! scientific with at least two exponent digits (`1e+15`, `1.5e-05`).
//!
//! PostgreSQL's Ryu excludes the interval bounds (a decimal exactly halfway to the next
//! float is never chosen, even where round-to-even would read it back) and breaks exact
//! ties to even; Rust's formatter does neither, so the digits are chosen here, by exact
//! arithmetic: the fewest significant digits with a decimal strictly inside the rounding
//! interval, then the one nearest the value (ties to even).

use num_bigint::BigInt;
use num_traits::One;

/// PostgreSQL's text output of a `double precision`.
pub(crate) fn format_f64(v: f64) -> String {
    if let Some(s) = special(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        return s.to_string();
    }
    let bits = v.to_bits();
    let float = Ieee {
        negative: v.is_sign_negative(),
        mantissa: bits & ((1 << 52) - 1),
        exponent: ((bits >> 52) & 0x7ff) as u32,
        mantissa_bits: 52,
        bias: 1023,
    };
    layout(float, estimate(&format!("{v:e}")), 15)
}

/// PostgreSQL's text output of a `real`.
pub(crate) fn format_f32(v: f32) -> String {
    if let Some(s) = special(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        return s.to_string();
    }
    let bits = v.to_bits();
    let float = Ieee {
        negative: v.is_sign_negative(),
        mantissa: u64::from(bits & ((1 << 23) - 1)),
        exponent: (bits >> 23) & 0xff,
        mantissa_bits: 23,
        bias: 127,
    };
    layout(float, estimate(&format!("{v:e}")), 6)
}

fn special(nan: bool, infinite: bool, negative: bool) -> Option<&'static str> {
    match (nan, infinite, negative) {
        (true, _, _) => Some("NaN"),
        (_, true, false) => Some("Infinity"),
        (_, true, true) => Some("-Infinity"),
        _ => None,
    }
}

/// Where to start the digit search: the scale of the last digit of Rust's shortest form
/// (`1.25e-5` → -7). Rust's bounds are wider (inclusive when even), so PostgreSQL's
/// digits are never coarser than Rust's.
fn estimate(sci: &str) -> i32 {
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count() as i32;
    exponent.parse::<i32>().unwrap_or(0) - (digits - 1)
}

/// A finite float's fields.
struct Ieee {
    negative: bool,
    mantissa: u64,
    exponent: u32,
    mantissa_bits: u32,
    bias: i32,
}

/// `value * 2^e2 * 10^-k` as a fraction.
fn scaled(value: &BigInt, e2: i32, k: i32) -> (BigInt, BigInt) {
    let mut num = value.clone();
    let mut den = BigInt::one();
    if e2 >= 0 {
        num <<= e2 as u32;
    } else {
        den <<= e2.unsigned_abs();
    }
    let ten = BigInt::from(10u32);
    if k >= 0 {
        den *= ten.pow(k as u32);
    } else {
        num *= ten.pow(k.unsigned_abs());
    }
    (num, den)
}

/// The shortest decimal digits (no trailing zeros) and the exponent of the first.
fn shortest(f: &Ieee, estimate: i32) -> (String, i32) {
    let (m2, e2) = if f.exponent == 0 {
        (f.mantissa, 1 - f.bias - f.mantissa_bits as i32 - 2)
    } else {
        (
            (1u64 << f.mantissa_bits) | f.mantissa,
            f.exponent as i32 - f.bias - f.mantissa_bits as i32 - 2,
        )
    };
    // The rounding interval, in units of 2^e2: the value is 4*m2; the lower bound is
    // closer at a power of two.
    let mm_shift = u64::from(f.mantissa != 0 || f.exponent <= 1);
    let mv = BigInt::from(4 * m2);
    let mp = BigInt::from(4 * m2 + 2);
    let mm = BigInt::from(4 * m2 - 1 - mm_shift);
    // From coarse to fine: the first scale with a decimal strictly inside wins (17
    // significant digits always suffice).
    for k in (estimate - 20..=estimate + 1).rev() {
        let (lo_num, den) = scaled(&mm, e2, k);
        let lo = &lo_num / &den + 1u32;
        let (hi_num, _) = scaled(&mp, e2, k);
        let hi = (&hi_num + &den - 1u32) / &den - 1u32;
        if lo > hi {
            continue;
        }
        let (v_num, _) = scaled(&mv, e2, k);
        let (q, r) = (&v_num / &den, &v_num % &den);
        let twice: BigInt = r * 2u32;
        let odd = (&q % 2u32) == BigInt::one();
        let nearest = if twice > den || (twice == den && odd) {
            q + 1u32
        } else {
            q
        };
        let chosen = nearest.clamp(lo, hi);
        let digits = chosen.to_string();
        let exponent = k + digits.len() as i32 - 1;
        return (digits.trim_end_matches('0').to_string(), exponent);
    }
    // Unreachable for finite floats: 17 digits always identify one.
    (String::from("0"), 0)
}

/// Lays the digits out PostgreSQL's way, in fixed notation for decimal exponents in
/// `[-4, fixed_below)`.
fn layout(f: Ieee, estimate: i32, fixed_below: i32) -> String {
    let (digits, exponent) = if f.mantissa == 0 && f.exponent == 0 {
        (String::from("0"), 0)
    } else {
        shortest(&f, estimate)
    };
    let mut out = String::with_capacity(digits.len() + 8);
    if f.negative {
        out.push('-');
    }
    if (-4..fixed_below).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    }
    out
}

#[cfg(test)]
#[path = "float_tests.rs"]
mod tests;
