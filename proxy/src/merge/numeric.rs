//! Exact decimal arithmetic for `numeric`: parsing both wire formats, addition (merged
//! `sum`), division with PostgreSQL's result scale (merged `avg`), and both outputs.
//!
//! A finite value is a [`BigInt`] mantissa and a display scale (`value = mantissa /
//! 10^scale`), which is PostgreSQL's `dscale`: the number of fractional digits printed.
//! PostgreSQL's special values NaN and ±Infinity follow its rules (NaN sorts above
//! everything, `Infinity + -Infinity` is NaN).

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

/// A `numeric` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Numeric {
    /// `NaN`.
    NaN,
    /// `Infinity`.
    PosInf,
    /// `-Infinity`.
    NegInf,
    /// `mantissa / 10^scale`, printed with `scale` fractional digits.
    Finite {
        /// The digits as an integer.
        mantissa: BigInt,
        /// The display scale.
        scale: u32,
    },
}

/// Binary sign words.
const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;
/// Largest display scale PostgreSQL accepts (`NUMERIC_MAX_DISPLAY_SCALE`).
const MAX_DISPLAY_SCALE: i64 = 1000;
/// Largest decimal exponent accepted in text input (`NUMERIC_MAX_PRECISION`).
const MAX_EXPONENT: i64 = 1000;
/// Significant digits a quotient gets at least (`NUMERIC_MIN_SIG_DIGITS`).
const MIN_SIG_DIGITS: i64 = 16;
/// The dscale PostgreSQL's `numeric_send` gives infinities.
const INF_DSCALE: u16 = 32;
/// Largest binary dscale (`NUMERIC_DSCALE_MASK`).
const MAX_DSCALE: u16 = 0x3FFF;

/// `10^n`.
fn pow10(n: u32) -> BigInt {
    BigInt::from(10u32).pow(n)
}

impl Numeric {
    /// An integer.
    pub(crate) fn from_int(value: i128) -> Numeric {
        Numeric::Finite {
            mantissa: BigInt::from(value),
            scale: 0,
        }
    }

    /// Reads PostgreSQL's text form: `[+-]digits[.digits][e[+-]digits]`, `NaN`,
    /// `[+-]Infinity` (case-insensitive, surrounding spaces allowed).
    pub(crate) fn parse_text(text: &[u8]) -> Option<Numeric> {
        let text = text.trim_ascii();
        let lower = text.to_ascii_lowercase();
        match lower.as_slice() {
            b"nan" => return Some(Numeric::NaN),
            b"infinity" | b"+infinity" | b"inf" | b"+inf" => return Some(Numeric::PosInf),
            b"-infinity" | b"-inf" => return Some(Numeric::NegInf),
            _ => {}
        }
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (number, exponent) = match body.iter().position(|&b| b == b'e' || b == b'E') {
            Some(at) => {
                let exp = std::str::from_utf8(body.get(at + 1..)?).ok()?;
                let exp: i64 = exp.parse().ok()?;
                if exp.abs() > MAX_EXPONENT {
                    return None;
                }
                (body.get(..at)?, exp)
            }
            None => (body, 0),
        };
        let (int, frac) = match number.iter().position(|&b| b == b'.') {
            Some(at) => (number.get(..at)?, number.get(at + 1..)?),
            None => (number, &[][..]),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.iter().chain(frac).all(u8::is_ascii_digit) {
            return None;
        }
        let digits: Vec<u8> = int.iter().chain(frac).copied().collect();
        let mut mantissa = if digits.is_empty() {
            BigInt::zero()
        } else {
            BigInt::parse_bytes(&digits, 10)?
        };
        let mut scale = frac.len() as i64 - exponent;
        if scale < 0 {
            mantissa *= pow10(u32::try_from(-scale).ok()?);
            scale = 0;
        }
        if negative {
            mantissa = -mantissa;
        }
        Some(Numeric::Finite {
            mantissa,
            scale: u32::try_from(scale).ok()?,
        })
    }

    /// Reads the binary form: int16 ndigits, int16 weight, uint16 sign, uint16 dscale,
    /// then ndigits base-10000 digits.
    pub(crate) fn parse_binary(bytes: &[u8]) -> Option<Numeric> {
        let header = BinaryHeader::parse(bytes)?;
        match header.sign {
            SIGN_NAN => return Some(Numeric::NaN),
            SIGN_PINF => return Some(Numeric::PosInf),
            SIGN_NINF => return Some(Numeric::NegInf),
            _ => {}
        }
        let mut n = BigInt::zero();
        for d in header.digits() {
            n = n * 10_000u32 + d;
        }
        let ndigits = header.digits().count() as i64;
        let exp10 = 4 * (i64::from(header.weight) - ndigits + 1) + i64::from(header.dscale);
        let mut mantissa = if exp10 >= 0 {
            n * pow10(u32::try_from(exp10).ok()?)
        } else {
            n / pow10(u32::try_from(-exp10).ok()?)
        };
        if header.sign == SIGN_NEG {
            mantissa = -mantissa;
        }
        Some(Numeric::Finite {
            mantissa,
            scale: u32::from(header.dscale),
        })
    }

    /// PostgreSQL's text output: exactly `scale` fractional digits.
    pub(crate) fn to_text(&self) -> String {
        let (mantissa, scale) = match self {
            Numeric::NaN => return "NaN".into(),
            Numeric::PosInf => return "Infinity".into(),
            Numeric::NegInf => return "-Infinity".into(),
            Numeric::Finite { mantissa, scale } => (mantissa, *scale as usize),
        };
        let digits = mantissa.magnitude().to_string();
        let digits = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = digits.split_at(digits.len() - scale);
        let sign = if mantissa.is_negative() { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }

    /// The binary form, normalized as PostgreSQL sends it (no leading or trailing zero
    /// digit groups).
    pub(crate) fn write_binary(&self, out: &mut Vec<u8>) {
        let (sign, weight, digits, dscale) = match self {
            Numeric::NaN => (SIGN_NAN, 0, Vec::new(), 0),
            // PostgreSQL sends infinities with dscale 32 (bits of its header).
            Numeric::PosInf => (SIGN_PINF, 0, Vec::new(), INF_DSCALE),
            Numeric::NegInf => (SIGN_NINF, 0, Vec::new(), INF_DSCALE),
            Numeric::Finite { mantissa, scale } => {
                let (weight, digits) = self.groups();
                let sign = if mantissa.is_negative() {
                    SIGN_NEG
                } else {
                    SIGN_POS
                };
                (
                    sign,
                    weight,
                    digits,
                    (*scale).min(u32::from(MAX_DSCALE)) as u16,
                )
            }
        };
        out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
        out.extend_from_slice(&(weight as i16).to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
    }

    /// The magnitude as base-10000 digit groups aligned at the decimal point: the weight
    /// (exponent of the first group) and the groups, without leading or trailing zero
    /// groups. Zero is `(0, [])`.
    pub(crate) fn groups(&self) -> (i32, Vec<u16>) {
        let Numeric::Finite { mantissa, scale } = self else {
            return (0, Vec::new());
        };
        if mantissa.is_zero() {
            return (0, Vec::new());
        }
        let pad = (4 - scale % 4) % 4;
        let frac_groups = ((scale + pad) / 4) as i32;
        let decimal = (mantissa.abs() * pow10(pad)).to_string();
        let lead = (4 - decimal.len() % 4) % 4;
        let decimal = format!("{}{decimal}", "0".repeat(lead));
        let mut groups: Vec<u16> = decimal
            .as_bytes()
            .chunks(4)
            .map(|c| c.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
            .collect();
        let weight = groups.len() as i32 - 1 - frac_groups;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        (weight, groups)
    }

    /// The sum, with the larger display scale; NaN and infinities as PostgreSQL adds them.
    pub(crate) fn add(&self, other: &Numeric) -> Numeric {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) | (PosInf, NegInf) | (NegInf, PosInf) => NaN,
            (PosInf, _) | (_, PosInf) => PosInf,
            (NegInf, _) | (_, NegInf) => NegInf,
            (
                Finite {
                    mantissa: a,
                    scale: sa,
                },
                Finite {
                    mantissa: b,
                    scale: sb,
                },
            ) => {
                let scale = (*sa).max(*sb);
                Finite {
                    mantissa: a * pow10(scale - sa) + b * pow10(scale - sb),
                    scale,
                }
            }
        }
    }

    /// `self / other` as PostgreSQL's `numeric_div`: the result scale by
    /// `select_div_scale`, rounded half away from zero. `None` for division by zero.
    pub(crate) fn div(&self, other: &Numeric) -> Option<Numeric> {
        use Numeric::*;
        match (self, other) {
            (NaN, _) | (_, NaN) => return Some(NaN),
            (PosInf | NegInf, PosInf | NegInf) => return Some(NaN),
            (PosInf | NegInf, Finite { mantissa, .. }) => {
                return match mantissa.sign() {
                    num_bigint::Sign::NoSign => None,
                    s if (s == num_bigint::Sign::Minus) == (*self == NegInf) => Some(PosInf),
                    _ => Some(NegInf),
                };
            }
            (Finite { .. }, PosInf | NegInf) => return Some(Numeric::from_int(0)),
            (Finite { .. }, Finite { .. }) => {}
        }
        self.div_scaled(other, select_div_scale(self, other) as u32)
    }

    /// `self / other` with exactly `rscale` fractional digits, rounded half away from
    /// zero. `None` for division by zero; NaN or an infinity on either side gives NaN.
    pub(crate) fn div_scaled(&self, other: &Numeric, rscale: u32) -> Option<Numeric> {
        let (
            Numeric::Finite {
                mantissa: a,
                scale: sa,
            },
            Numeric::Finite {
                mantissa: b,
                scale: sb,
            },
        ) = (self, other)
        else {
            return Some(Numeric::NaN);
        };
        let (sa, sb) = (*sa, *sb);
        if b.is_zero() {
            return None;
        }
        // q * 10^rscale = a * 10^(rscale + sb) / (b * 10^sa)
        let num = a * pow10(rscale + sb);
        let den = b * pow10(sa);
        let negative = num.is_negative() != den.is_negative() && !num.is_zero();
        let (num, den) = (num.abs(), den.abs());
        let q = (num * 2u32 + &den) / (den * 2u32);
        Some(Numeric::Finite {
            mantissa: if negative { -q } else { q },
            scale: rscale,
        })
    }

    /// The nearest `f64`.
    pub(crate) fn to_f64(&self) -> f64 {
        match self {
            Numeric::NaN => f64::NAN,
            Numeric::PosInf => f64::INFINITY,
            Numeric::NegInf => f64::NEG_INFINITY,
            finite => finite.to_text().parse().unwrap_or(f64::NAN),
        }
    }

    /// Order rank of the value's class: -Infinity < finite < Infinity < NaN.
    fn class(&self) -> u8 {
        match self {
            Numeric::NegInf => 0,
            Numeric::Finite { .. } => 1,
            Numeric::PosInf => 2,
            Numeric::NaN => 3,
        }
    }

    /// PostgreSQL's order: NaN equals NaN and is above everything; scale does not matter
    /// (1.50 = 1.5).
    pub(crate) fn cmp_value(&self, other: &Numeric) -> Ordering {
        match (self, other) {
            (
                Numeric::Finite {
                    mantissa: a,
                    scale: sa,
                },
                Numeric::Finite {
                    mantissa: b,
                    scale: sb,
                },
            ) => {
                let scale = (*sa).max(*sb);
                (a * pow10(scale - sa)).cmp(&(b * pow10(scale - sb)))
            }
            _ => self.class().cmp(&other.class()),
        }
    }
}

/// PostgreSQL's `select_div_scale`: at least 16 significant digits, at least the inputs'
/// display scales, at most 1000.
fn select_div_scale(a: &Numeric, b: &Numeric) -> i64 {
    let first = |n: &Numeric| {
        let (weight, groups) = n.groups();
        (i64::from(weight), groups.first().copied().unwrap_or(0))
    };
    let scale = |n: &Numeric| match n {
        Numeric::Finite { scale, .. } => i64::from(*scale),
        _ => 0,
    };
    let (w1, d1) = first(a);
    let (w2, d2) = first(b);
    let mut qweight = w1 - w2;
    if d1 <= d2 {
        qweight -= 1;
    }
    let rscale = MIN_SIG_DIGITS - qweight * 4;
    rscale
        .max(scale(a))
        .max(scale(b))
        .clamp(0, MAX_DISPLAY_SCALE)
}

/// The header and digits of a binary numeric, validated.
pub(crate) struct BinaryHeader<'a> {
    /// Weight of the first digit group.
    pub weight: i16,
    /// Sign word.
    pub sign: u16,
    /// Display scale.
    pub dscale: u16,
    /// The digit groups, 2 bytes each.
    pub raw_digits: &'a [u8],
    /// The whole value.
    pub raw: &'a [u8],
}

impl<'a> BinaryHeader<'a> {
    /// Reads and checks a binary numeric.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<BinaryHeader<'a>> {
        let (head, raw_digits) = bytes.split_first_chunk::<8>()?;
        let ndigits = i16::from_be_bytes([head[0], head[1]]);
        let weight = i16::from_be_bytes([head[2], head[3]]);
        let sign = u16::from_be_bytes([head[4], head[5]]);
        let dscale = u16::from_be_bytes([head[6], head[7]]);
        let header = BinaryHeader {
            weight,
            sign,
            dscale,
            raw_digits,
            raw: bytes,
        };
        let valid = usize::try_from(ndigits).is_ok_and(|n| n * 2 == raw_digits.len())
            && matches!(sign, SIGN_POS | SIGN_NEG | SIGN_NAN | SIGN_PINF | SIGN_NINF)
            && dscale <= MAX_DSCALE
            && header.digits().all(|d| d < 10_000);
        valid.then_some(header)
    }

    /// The digit groups.
    pub(crate) fn digits(&self) -> impl Iterator<Item = u16> + 'a {
        self.raw_digits
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }

    /// Whether the value is NaN or an infinity.
    pub(crate) fn special(&self) -> bool {
        matches!(self.sign, SIGN_NAN | SIGN_PINF | SIGN_NINF)
    }

    /// Order rank of the class: -Infinity < finite < Infinity < NaN.
    pub(crate) fn class(&self) -> u8 {
        match self.sign {
            SIGN_NINF => 0,
            SIGN_PINF => 2,
            SIGN_NAN => 3,
            _ => 1,
        }
    }

    /// Whether a finite value is negative.
    pub(crate) fn negative(&self) -> bool {
        self.sign == SIGN_NEG
    }
}

#[cfg(test)]
#[path = "numeric_tests.rs"]
mod tests;
