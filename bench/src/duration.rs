//! Durations on the command line: `30s`, `2m`, `500ms`, `1h`, `1m30s`.
//!
//! A few lines of our own rather than a dependency: the bench needs only whole numbers
//! with a unit, and messages that name the bad input.

use std::time::Duration;

/// Units accepted after a number, longest first so `ms` wins over `m`.
const UNITS: &[(&str, u64)] = &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Parses `30s`, `2m`, `500ms`, `1h` or a sum of them (`1m30s`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration (expected e.g. 30s, 2m, 500ms)".into());
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "bad duration {text:?}: expected a number before {rest:?}"
            ));
        }
        let (number, after) = rest.split_at(digits);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("bad duration {text:?}: number too large"))?;
        let (unit, factor) = UNITS
            .iter()
            .find(|(unit, _)| after.starts_with(unit))
            .ok_or_else(|| format!("bad duration {text:?}: unit must be ms, s, m or h"))?;
        total_ms = number
            .checked_mul(*factor)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| format!("bad duration {text:?}: too long"))?;
        rest = &after[unit.len()..];
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration the way [`parse_duration`] reads it, in its largest exact unit.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".into(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn units_and_sums_parse() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration(" 0s ").unwrap(), Duration::ZERO);
    }

    #[test]
    fn bad_input_is_named() {
        for bad in [
            "",
            "s",
            "30",
            "30x",
            "-1s",
            "1.5s",
            "3 s",
            "99999999999999999999s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("duration"), "{bad:?}: {err}");
        }
        assert!(parse_duration("30x").unwrap_err().contains("unit"));
        assert!(parse_duration("18446744073709551615h")
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["0s", "500ms", "30s", "2m", "1h", "1500ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    }
}
