//! Human-readable durations: `"250ms"`, `"1.5s"`, `"2m"`, `"1m30s"`.
//!
//! Used for the config keys that take a duration and, by the proxy, for session settings
//! such as `SET shardwire.max_staleness = '250ms'` (DESIGN §6), so both places accept the
//! same words. [`format_duration`] is the inverse of [`parse_duration`].

use std::time::Duration;

/// Units accepted after a number, with their length in nanoseconds.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse duration \"{input}\": {reason}")]
pub struct DurationError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses one or more `<number><unit>` terms, e.g. `"250ms"`, `"1.5s"`, `"1m30s"`, `"0s"`.
///
/// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. A number without a unit is an error,
/// because `"250"` could mean seconds or milliseconds.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let fail = |reason: String| DurationError {
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(fail("empty (write e.g. \"250ms\")".into()));
    }
    let mut rest = text;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (nanos, after) = parse_term(rest).map_err(&fail)?;
        total = total
            .checked_add(nanos)
            .ok_or_else(|| fail("too large".into()))?;
        rest = after.trim_start();
    }
    let secs = u64::try_from(total / NANOS_PER_SEC).map_err(|_| fail("too large".into()))?;
    let nanos = u32::try_from(total % NANOS_PER_SEC).map_err(|_| fail("too large".into()))?;
    Ok(Duration::new(secs, nanos))
}

/// Parses one `<number><unit>` term at the start of `text`; returns nanoseconds and the rest.
fn parse_term(text: &str) -> Result<(u128, &str), String> {
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, rest) = text.split_at(number_len);
    if number.is_empty() {
        return Err(format!(
            "expected a number at \"{text}\" (write e.g. \"250ms\")"
        ));
    }
    let rest = rest.trim_start();
    let unit_len = rest
        .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
        .unwrap_or(rest.len());
    let (unit, rest) = rest.split_at(unit_len);
    if unit.is_empty() {
        return Err(format!(
            "missing unit after {number} (write e.g. \"{number}ms\" or \"{number}s\")"
        ));
    }
    let scale = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, scale)| *scale)
        .ok_or_else(|| format!("unknown unit \"{unit}\" (expected ns, us, ms, s, m or h)"))?;
    Ok((scale_number(number, scale)?, rest))
}

/// `number` (digits with at most one `.`) times `scale` nanoseconds, truncated to whole
/// nanoseconds. Exact: no floating point.
fn scale_number(number: &str, scale: u128) -> Result<u128, String> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!("bad number \"{number}\""));
    }
    let too_large = || "too large".to_owned();
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut nanos = whole.checked_mul(scale).ok_or_else(too_large)?;
    let mut place = scale;
    for digit in fraction.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        nanos = nanos
            .checked_add(u128::from(digit - b'0') * place)
            .ok_or_else(too_large)?;
    }
    Ok(nanos)
}

/// Formats a duration with the largest unit that represents it exactly: `"250ms"`,
/// `"1500ms"`, `"2m"`, `"0s"`. The result parses back to the same duration.
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let (name, scale) = UNITS
        .iter()
        .rev()
        .filter(|(name, _)| *name != "µs")
        .find(|(_, scale)| nanos % scale == 0)
        .copied()
        .unwrap_or(("ns", 1));
    format!("{}{name}", nanos / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_the_documented_forms() {
        let cases = [
            ("250ms", ms(250)),
            ("1s", ms(1000)),
            ("1.5s", ms(1500)),
            ("2m", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            ("100us", Duration::from_micros(100)),
            ("100µs", Duration::from_micros(100)),
            ("7ns", Duration::from_nanos(7)),
            ("0s", Duration::ZERO),
            ("0.25s", ms(250)),
            (".5s", ms(500)),
            ("1m30s", Duration::from_secs(90)),
            ("1m 30s", Duration::from_secs(90)),
            (" 50 ms ", ms(50)),
            ("1.0000000009s", Duration::from_secs(1)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        let cases = [
            ("fast", "expected a number"),
            ("", "empty"),
            ("250", "missing unit"),
            ("5sec", "unknown unit \"sec\""),
            ("-1s", "expected a number"),
            ("1..5s", "bad number"),
            ("1.2.3s", "bad number"),
            (".s", "bad number"),
            ("99999999999999999999999h", "too large"),
        ];
        for (text, reason) in cases {
            let err = parse_duration(text).expect_err(text);
            assert!(err.reason.contains(reason), "{text}: {err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("cannot parse duration \"{text}\"")),
                "{err}"
            );
        }
    }

    #[test]
    fn format_round_trips() {
        let cases = [
            (Duration::ZERO, "0s"),
            (ms(250), "250ms"),
            (ms(1000), "1s"),
            (ms(1500), "1500ms"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_micros(100), "100us"),
            (Duration::from_nanos(1_000_000_001), "1000000001ns"),
        ];
        for (duration, text) in cases {
            assert_eq!(format_duration(duration), text);
            assert_eq!(parse_duration(text), Ok(duration));
        }
    }
}
