//! Date and time values in PostgreSQL's ISO text output (`DateStyle = ISO`, the default),
//! read into the numbers their binary forms carry, so both formats order alike.
//!
//! - `date`: days since 2000-01-01 (`YYYY-MM-DD`, ` BC` suffix, `±infinity`);
//! - `timestamp` / `timestamptz`: microseconds since 2000-01-01 00:00 (UTC for
//!   `timestamptz`, whose text carries the session's offset: `+HH[:MM[:SS]]`);
//! - `time`: microseconds since midnight.
//!
//! Infinities map to the extremes of `i64`, as binary timestamps do (binary dates' `i32`
//! extremes are mapped there too by the decoder).

/// Microseconds per second.
const USECS_PER_SEC: i64 = 1_000_000;
/// Days between 1970-01-01 and 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;

/// A `date` as days since 2000-01-01.
pub(crate) fn parse_date(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.trim();
    if let Some(inf) = infinity(text) {
        return Some(inf);
    }
    let (text, bc) = strip_bc(text);
    let (date, _) = split_date_time(text);
    days(date, bc)
}

/// A `timestamp` (or, `with_zone`, a `timestamptz` moved to UTC by its offset) as
/// microseconds since 2000-01-01. A `timestamptz` without an offset is refused: the
/// session's time zone is unknown here.
pub(crate) fn parse_timestamp(text: &[u8], with_zone: bool) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.trim();
    if let Some(inf) = infinity(text) {
        return Some(inf);
    }
    let (text, bc) = strip_bc(text);
    let (date, time) = split_date_time(text);
    let days = days(date, bc)?;
    let (time, offset) = match time {
        Some(t) => split_offset(t)?,
        None => ("00:00:00", None),
    };
    let offset = match (with_zone, offset) {
        (true, None) => return None,
        (true, Some(o)) => o,
        (false, _) => 0,
    };
    let usecs = time_of_day(time)?;
    days.checked_mul(86_400 * USECS_PER_SEC)?
        .checked_add(usecs)?
        .checked_sub(offset.checked_mul(USECS_PER_SEC)?)
}

/// A `time` as microseconds since midnight.
pub(crate) fn parse_time(text: &[u8]) -> Option<i64> {
    time_of_day(std::str::from_utf8(text).ok()?.trim())
}

fn infinity(text: &str) -> Option<i64> {
    if text.eq_ignore_ascii_case("infinity") || text.eq_ignore_ascii_case("+infinity") {
        Some(i64::MAX)
    } else if text.eq_ignore_ascii_case("-infinity") {
        Some(i64::MIN)
    } else {
        None
    }
}

fn strip_bc(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

fn split_date_time(text: &str) -> (&str, Option<&str>) {
    match text.find([' ', 'T']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None => (text, None),
    }
}

/// Splits `HH:MM:SS[.ffffff]` from a trailing `±HH[:MM[:SS]]` offset (in seconds east).
fn split_offset(time: &str) -> Option<(&str, Option<i64>)> {
    let Some(at) = time.find(['+', '-']) else {
        return Some((time, None));
    };
    let (clock, zone) = time.split_at(at);
    let negative = zone.starts_with('-');
    let mut seconds = 0i64;
    for (i, part) in zone[1..].split(':').enumerate() {
        if i > 2 || part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i64 = part.parse().ok()?;
        seconds += n * [3600, 60, 1][i];
    }
    Some((
        clock.trim_end(),
        Some(if negative { -seconds } else { seconds }),
    ))
}

/// `[-]YYYY-MM-DD` (year of any width) as days since 2000-01-01.
fn days(date: &str, bc: bool) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(y) || !all_digits(m) || !all_digits(d) || y.len() > 9 {
        return None;
    }
    let (mut year, month, day): (i64, u32, u32) =
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if bc {
        year = 1 - year;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) - UNIX_TO_PG_DAYS)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `HH:MM[:SS[.ffffff]]` as microseconds.
fn time_of_day(text: &str) -> Option<i64> {
    let (clock, frac) = match text.split_once('.') {
        Some((c, f)) => (c, f),
        None => (text, ""),
    };
    let mut parts = clock.split(':');
    let field = |s: Option<&str>| -> Option<i64> {
        let s = s?;
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let h = field(parts.next())?;
    let m = field(parts.next())?;
    let s = match parts.next() {
        Some(s) => field(Some(s))?,
        None => 0,
    };
    if parts.next().is_some() || h > 24 || m > 59 || s > 60 {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + s) * USECS_PER_SEC + micros)
}

#[cfg(test)]
#[path = "datetime_tests.rs"]
mod tests;
