//! PostgreSQL WAL positions (LSNs). The monitor reads them as text from
//! `pg_current_wal_lsn()` / `pg_last_wal_replay_lsn()` and the session token carries them,
//! so one small type owns the `16/B374D848` notation and the ordering every consistency
//! decision relies on.

use std::fmt;
use std::str::FromStr;

/// A position in a PostgreSQL write-ahead log: a byte offset, ordered like the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    /// How many WAL bytes `self` is behind `ahead` (0 if it is not behind); the
    /// `replica_lag_bytes` metric.
    pub fn bytes_behind(self, ahead: Lsn) -> u64 {
        ahead.0.saturating_sub(self.0)
    }
}

/// Text that is not an LSN in PostgreSQL's `XXXXXXXX/XXXXXXXX` notation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid LSN \"{input}\" (expected two hexadecimal numbers of up to 8 digits separated by '/', e.g. 16/B374D848)")]
pub struct LsnParseError {
    /// The text that was given.
    pub input: String,
}

impl FromStr for Lsn {
    type Err = LsnParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = || LsnParseError {
            input: input.to_owned(),
        };
        let (high, low) = input.split_once('/').ok_or_else(err)?;
        let high = parse_half(high).ok_or_else(err)?;
        let low = parse_half(low).ok_or_else(err)?;
        Ok(Lsn((u64::from(high) << 32) | u64::from(low)))
    }
}

/// One half of an LSN: 1 to 8 hex digits (no sign, no spaces), as PostgreSQL accepts.
fn parse_half(text: &str) -> Option<u32> {
    let valid = (1..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        u32::from_str_radix(text, 16).ok()
    } else {
        None
    }
}

impl fmt::Display for Lsn {
    /// PostgreSQL's own notation: upper-case hex halves without padding, `16/B374D848`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_notation() {
        let cases = [
            ("0/0", 0),
            ("16/B374D848", 0x16_B374_D848),
            ("0/1", 1),
            ("1/0", 1 << 32),
            ("b/a", 0xB_0000_000A),
            ("FFFFFFFF/FFFFFFFF", u64::MAX),
            ("00000016/0000B374", 0x16_0000_B374),
        ];
        for (text, value) in cases {
            assert_eq!(text.parse::<Lsn>(), Ok(Lsn(value)), "{text}");
        }
    }

    #[test]
    fn formats_like_postgres_and_round_trips() {
        assert_eq!(Lsn(0x16_B374_D848).to_string(), "16/B374D848");
        assert_eq!(Lsn(0).to_string(), "0/0");
        assert_eq!(Lsn(u64::MAX).to_string(), "FFFFFFFF/FFFFFFFF");
        for value in [0, 1, 0xFFFF_FFFF, 1 << 32, 0x16_B374_D848, u64::MAX] {
            let lsn = Lsn(value);
            assert_eq!(lsn.to_string().parse::<Lsn>(), Ok(lsn));
        }
    }

    #[test]
    fn refuses_malformed_text() {
        let bad = [
            "",
            "/",
            "16",
            "16/",
            "/B374D848",
            "16/B374D848/0",
            "1G/0",
            "0x16/0",
            "+1/0",
            "-1/0",
            " 16/B374D848",
            "16 /B374D848",
            "123456789/0",
            "0/123456789",
            "16/B374D848\n",
        ];
        for text in bad {
            let err = text.parse::<Lsn>().expect_err(text);
            assert_eq!(err.input, text);
            assert!(err.to_string().contains("invalid LSN"), "{err}");
        }
    }

    #[test]
    fn orders_like_the_log_and_measures_lag() {
        let a: Lsn = "0/FFFFFFFF".parse().expect("lsn");
        let b: Lsn = "1/0".parse().expect("lsn");
        assert!(a < b);
        assert_eq!(a.bytes_behind(b), 1);
        assert_eq!(b.bytes_behind(a), 0);
        assert_eq!(Lsn::default(), Lsn(0));
    }
}
