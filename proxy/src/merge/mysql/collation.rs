//! String comparison under MySQL collations, for sort keys, `MIN`/`MAX`, `GROUP BY` and
//! `DISTINCT` of scattered reads.
//!
//! Two families are implemented, both PAD SPACE (trailing spaces do not count: a string
//! compares as if padded with spaces to the other's length):
//!
//! - **binary** (`*_bin`): code point order, which for UTF-8 (and single-byte sets) is
//!   byte order;
//! - **general_ci** (`utf8mb4_general_ci`, `utf8mb3_general_ci`): every character has
//!   one weight and strings compare weight by weight. A weight is the character's
//!   uppercase, with Latin accents removed (`á` = `A`, `ß` = `S`, `ſ` = `S`, `ı` = `I`)
//!   but not for letters of their own (`æ`, `ø`, `ł`, `đ`, `œ` …); characters outside the
//!   Basic Multilingual Plane all weigh U+FFFD (so all emoji are equal), as MariaDB's
//!   `my_unicase_default` table does.
//!
//! Deviation: the accent table here covers U+0000–U+017F (Latin-1 and Latin
//! Extended-A), checked against MariaDB; elsewhere the weight is Unicode's simple
//! uppercase mapping, where MariaDB's table also folds some accented Greek and Cyrillic
//! letters. Invalid UTF-8 sorts after all valid strings, and by bytes among itself. Columns of any other collation are refused
//! by the merge rather than ordered wrongly.

use std::cmp::Ordering;

/// A collation the merge can compare by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collation {
    /// `*_bin` of a character set: byte order, PAD SPACE.
    BinPad,
    /// `utf8mb4_general_ci` / `utf8mb3_general_ci`.
    GeneralCi,
}

/// MySQL collation ids the merge implements: `(id, name, collation)`.
const KNOWN: &[(u16, &str, Collation)] = &[
    (33, "utf8mb3_general_ci", Collation::GeneralCi),
    (45, "utf8mb4_general_ci", Collation::GeneralCi),
    (46, "utf8mb4_bin", Collation::BinPad),
    (47, "latin1_bin", Collation::BinPad),
    (65, "ascii_bin", Collation::BinPad),
    (83, "utf8mb3_bin", Collation::BinPad),
];

impl Collation {
    /// The collation of MySQL collation id `id`, if the merge implements it (`binary`,
    /// id 63, is no collation here: those values are plain bytes).
    pub fn of(id: u16) -> Option<Collation> {
        KNOWN.iter().find(|(i, _, _)| *i == id).map(|(_, _, c)| *c)
    }

    /// The family's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Collation::BinPad => "string (_bin collation)",
            Collation::GeneralCi => "string (general_ci collation)",
        }
    }

    /// Orders two strings.
    pub fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match (self, std::str::from_utf8(a), std::str::from_utf8(b)) {
            (Collation::GeneralCi, Ok(a), Ok(b)) => {
                pad_compare(a.chars().map(general_ci), b.chars().map(general_ci), 0x20)
            }
            // Invalid UTF-8 after every string that is valid: comparing such a pair by
            // bytes would break transitivity (`an` < `Sn` < `S\xA9` by weights, then by
            // bytes, but `an` > `S\xA9` by bytes), and sorting needs a total order.
            (Collation::GeneralCi, Ok(_), Err(_)) => Ordering::Less,
            (Collation::GeneralCi, Err(_), Ok(_)) => Ordering::Greater,
            _ => pad_compare(
                a.iter().map(|&c| u32::from(c)),
                b.iter().map(|&c| u32::from(c)),
                0x20,
            ),
        }
    }

    /// Appends bytes that are equal for strings the collation calls equal (group
    /// identity, `DISTINCT`).
    pub fn sort_key(self, bytes: &[u8], out: &mut Vec<u8>) {
        let trimmed = trim_spaces(bytes);
        match (self, std::str::from_utf8(trimmed)) {
            (Collation::GeneralCi, Ok(text)) => {
                for c in text.chars() {
                    out.extend_from_slice(&general_ci(c).to_be_bytes());
                }
            }
            _ => out.extend_from_slice(trimmed),
        }
    }
}

/// The name of collation id `id` for messages (`collation 224` when unknown here).
pub fn collation_name(id: u16) -> String {
    KNOWN.iter().find(|(i, _, _)| *i == id).map_or_else(
        || format!("collation id {id}"),
        |(_, n, _)| (*n).to_string(),
    )
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    &b[..end]
}

/// Compares weight sequences, the shorter padded with `pad` weights (PAD SPACE).
fn pad_compare(
    mut a: impl Iterator<Item = u32>,
    mut b: impl Iterator<Item = u32>,
    pad: u32,
) -> Ordering {
    loop {
        let o = match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(x), None) => x.cmp(&pad),
            (None, Some(y)) => pad.cmp(&y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
}

/// Weights of U+00C0–U+00FF (Latin-1 letters): base letter or the letter's own.
const LATIN1: &[u8; 64] = b"AAAAAA\xC6CEEEEIIII\xD0NOOOOO\xD7\xD8UUUUY\xDESAAAAAA\xC6CEEEEIIII\xD0NOOOOO\xF7\xD8UUUUY\xDEY";

/// Weights of U+0100–U+017F (Latin Extended-A) in runs: `(last code point, weight)`,
/// a weight of 0 meaning "the uppercase letter itself".
const LATIN_EXT_A: &[(u32, u32)] = &[
    (0x105, 'A' as u32),
    (0x10D, 'C' as u32),
    (0x10F, 'D' as u32),
    (0x111, 0x110),
    (0x11B, 'E' as u32),
    (0x123, 'G' as u32),
    (0x125, 'H' as u32),
    (0x127, 0x126),
    (0x130, 'I' as u32),
    (0x131, 'I' as u32),
    (0x133, 0x132),
    (0x135, 'J' as u32),
    (0x137, 'K' as u32),
    (0x138, 0x138),
    (0x13E, 'L' as u32),
    (0x140, 0x13F),
    (0x142, 0x141),
    (0x148, 'N' as u32),
    (0x149, 0x149),
    (0x14B, 0x14A),
    (0x151, 'O' as u32),
    (0x153, 0x152),
    (0x159, 'R' as u32),
    (0x161, 'S' as u32),
    (0x165, 'T' as u32),
    (0x167, 0x166),
    (0x173, 'U' as u32),
    (0x175, 'W' as u32),
    (0x178, 'Y' as u32),
    (0x17E, 'Z' as u32),
    (0x17F, 'S' as u32),
];

/// The general_ci weight of `c`.
fn general_ci(c: char) -> u32 {
    let code = u32::from(c);
    match code {
        0..=0x7F => u32::from(c.to_ascii_uppercase()),
        0xB5 => 0x39C,
        0x80..=0xBF => code,
        0xC0..=0xFF => LATIN1
            .get((code - 0xC0) as usize)
            .map_or(code, |&w| u32::from(w)),
        0x100..=0x17F => LATIN_EXT_A
            .iter()
            .find(|(last, _)| code <= *last)
            .map_or(code, |&(_, w)| w),
        0x1_0000.. => 0xFFFD,
        _ => {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) if u32::from(u) <= 0xFFFF => u32::from(u),
                _ => code,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(a: &str, b: &str) -> Ordering {
        Collation::GeneralCi.compare(a.as_bytes(), b.as_bytes())
    }

    #[test]
    fn general_ci_folds_case_and_latin_accents_as_mariadb() {
        // Each pair as MariaDB 10.11 compares it under utf8mb4_general_ci.
        for (a, b) in [
            ("a", "A "),
            ("a", "á"),
            ("ß", "s"),
            ("Ä", "a"),
            ("ñ", "N"),
            ("Ω", "ω"),
            ("😀", "😁"),
            ("ǅ", "ǆ"),
            ("ı", "i"),
            ("ſ", "s"),
            ("Zürich", "ZURICH"),
        ] {
            assert_eq!(ci(a, b), Ordering::Equal, "{a} = {b}");
        }
        for (a, b) in [("ß", "ss"), ("æ", "ae"), ("ø", "o"), ("ł", "l")] {
            assert_ne!(ci(a, b), Ordering::Equal, "{a} <> {b}");
        }
        assert_eq!(ci("apple", "Banana"), Ordering::Less);
        assert_eq!(
            ci("a\t", "a"),
            Ordering::Less,
            "tab weighs less than a pad space"
        );
        assert_eq!(ci("ab", "a"), Ordering::Greater);
    }

    #[test]
    fn sort_keys_agree_with_equality() {
        let key = |s: &str| {
            let mut out = Vec::new();
            Collation::GeneralCi.sort_key(s.as_bytes(), &mut out);
            out
        };
        assert_eq!(key("Straße  "), key("STRASE"));
        assert_eq!(key("Émile"), key("emile"));
        assert_ne!(key("emile"), key("emilé x"));
        let mut bin = Vec::new();
        Collation::BinPad.sort_key(b"ab  ", &mut bin);
        assert_eq!(bin, b"ab");
    }

    #[test]
    fn general_ci_order_stays_total_with_invalid_utf8() {
        // Found by the merge_compare fuzz target: valid pairs compared by weights and
        // mixed pairs by bytes made `an` < `Sn` < `S\xA9va`, yet `an` > `S\xA9va`.
        let c = Collation::GeneralCi;
        let (a, b, d): (&[u8], &[u8], &[u8]) = (b"an", b"Sn", b"S\xa9va\xff\xfe ");
        assert_eq!(c.compare(a, b), Ordering::Less);
        assert_eq!(c.compare(b, d), Ordering::Less);
        assert_eq!(c.compare(a, d), Ordering::Less);
        assert_eq!(c.compare(d, a), Ordering::Greater);
        assert_eq!(
            c.compare(b"\xff", b"\xfe"),
            Ordering::Greater,
            "bytes among invalid"
        );
    }

    #[test]
    fn binary_collations_pad_with_spaces() {
        let c = Collation::BinPad;
        assert_eq!(c.compare(b"a", b"a  "), Ordering::Equal);
        assert_eq!(c.compare(b"a", b"A"), Ordering::Greater);
        assert_eq!(c.compare(b"a\t", b"a"), Ordering::Less);
        assert_eq!(Collation::of(45), Some(Collation::GeneralCi));
        assert_eq!(Collation::of(224), None);
        assert_eq!(collation_name(46), "utf8mb4_bin");
    }
}
