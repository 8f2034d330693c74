//! `numeric` values as they arrive from a shard, compared without allocating.
//!
//! Sorting by a numeric column compares the same column's values over and over; both wire
//! forms can be ordered in place: text by its digit strings, binary by its weight and
//! base-10000 digits. Values of different forms (or constants) fall back to exact
//! [`Numeric`] arithmetic.

use std::cmp::Ordering;

use super::numeric::{BinaryHeader, Numeric};

/// A numeric value borrowed from a row, or an exact one.
pub(crate) enum Num<'a> {
    /// Text form, split into parts.
    Text(TextNum<'a>),
    /// Binary form.
    Binary(BinaryHeader<'a>),
    /// Anything else (constants, exponent notation, computed values).
    Exact(Numeric),
}

/// A numeric in PostgreSQL's text output form `[-]digits[.digits]` or a special value.
#[derive(Clone, Copy)]
pub(crate) struct TextNum<'a> {
    /// -Infinity < finite < Infinity < NaN.
    class: u8,
    negative: bool,
    /// Integer digits without leading zeros.
    int: &'a [u8],
    /// Fraction digits without trailing zeros.
    frac: &'a [u8],
    /// The whole text.
    raw: &'a [u8],
}

impl<'a> TextNum<'a> {
    /// Splits `[-]digits[.digits]`, `NaN`, `Infinity`, `-Infinity`; `None` for other
    /// spellings (which [`Numeric::parse_text`] may still read).
    pub(crate) fn parse(text: &'a [u8]) -> Option<TextNum<'a>> {
        let special = |class| TextNum {
            class,
            negative: false,
            int: &[],
            frac: &[],
            raw: text,
        };
        match text {
            b"NaN" => return Some(special(3)),
            b"Infinity" => return Some(special(2)),
            b"-Infinity" => return Some(special(0)),
            _ => {}
        }
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let (int, frac) = match body.iter().position(|&b| b == b'.') {
            Some(at) => (&body[..at], &body[at + 1..]),
            None => (body, &[][..]),
        };
        if (int.is_empty() && frac.is_empty()) || !int.iter().chain(frac).all(u8::is_ascii_digit) {
            return None;
        }
        let lead = int.iter().take_while(|&&b| b == b'0').count();
        let trail = frac.iter().rev().take_while(|&&b| b == b'0').count();
        Some(TextNum {
            class: 1,
            negative,
            int: &int[lead..],
            frac: &frac[..frac.len() - trail],
            raw: text,
        })
    }

    fn signum(&self) -> i8 {
        if self.int.is_empty() && self.frac.is_empty() {
            0
        } else if self.negative {
            -1
        } else {
            1
        }
    }

    fn cmp(&self, other: &TextNum<'_>) -> Ordering {
        if self.class != 1 || other.class != 1 {
            return self.class.cmp(&other.class);
        }
        let sign = self.signum().cmp(&other.signum());
        if sign != Ordering::Equal || self.signum() == 0 {
            return sign;
        }
        let magnitude = self
            .int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    /// The exact value, display scale included.
    fn exact(&self) -> Numeric {
        Numeric::parse_text(self.raw).unwrap_or(Numeric::NaN)
    }
}

/// Compares two binary numerics by class, sign, weight and digits.
fn cmp_binary(a: &BinaryHeader<'_>, b: &BinaryHeader<'_>) -> Ordering {
    if a.special() || b.special() {
        return a.class().cmp(&b.class());
    }
    let signum = |h: &BinaryHeader<'_>| {
        if h.digits().all(|d| d == 0) {
            0i8
        } else if h.negative() {
            -1
        } else {
            1
        }
    };
    let (sa, sb) = (signum(a), signum(b));
    if sa != sb || sa == 0 {
        return sa.cmp(&sb);
    }
    // Weight of the first non-zero group.
    let weight = |h: &BinaryHeader<'_>| {
        i32::from(h.weight) - h.digits().take_while(|&d| d == 0).count() as i32
    };
    let mut magnitude = weight(a).cmp(&weight(b));
    if magnitude == Ordering::Equal {
        let mut da = a.digits().skip_while(|&d| d == 0);
        let mut db = b.digits().skip_while(|&d| d == 0);
        magnitude = loop {
            match (da.next(), db.next()) {
                (None, None) => break Ordering::Equal,
                (x, y) => {
                    let o = x.unwrap_or(0).cmp(&y.unwrap_or(0));
                    if o != Ordering::Equal {
                        break o;
                    }
                }
            }
        };
    }
    if sa < 0 {
        magnitude.reverse()
    } else {
        magnitude
    }
}

impl Num<'_> {
    /// The exact value.
    pub(crate) fn exact(&self) -> Numeric {
        match self {
            Num::Text(t) => t.exact(),
            Num::Binary(b) => Numeric::parse_binary(b.raw).unwrap_or(Numeric::NaN),
            Num::Exact(n) => n.clone(),
        }
    }

    /// PostgreSQL's numeric order (NaN highest, equal to itself; 1.50 = 1.5).
    pub(crate) fn cmp(&self, other: &Num<'_>) -> Ordering {
        match (self, other) {
            (Num::Text(a), Num::Text(b)) => a.cmp(b),
            (Num::Binary(a), Num::Binary(b)) => cmp_binary(a, b),
            _ => self.exact().cmp_value(&other.exact()),
        }
    }
}
