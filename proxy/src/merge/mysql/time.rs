//! MySQL temporal values in text form, read for comparison and binary encoding.
//!
//! `DATE`, `DATETIME` and `TIMESTAMP` text has a fixed width per column, so it orders
//! by bytes and needs no decoding for the merge; `TIME` (`[-]HHH:MM:SS[.ffffff]`, from
//! -838:59:59 to 838:59:59) does not, and is read as microseconds.

/// A `TIME` text as signed microseconds; `None` if it does not read as one.
pub fn parse_time(text: &str) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (clock, fraction) = match body.split_once('.') {
        Some((c, f)) => (c, f),
        None => (body, ""),
    };
    let mut parts = clock.split(':');
    let hours: i64 = digits(parts.next()?)?;
    let minutes: i64 = digits(parts.next()?)?;
    let seconds: i64 = digits(parts.next()?)?;
    if parts.next().is_some() || minutes > 59 || seconds > 59 || fraction.len() > 6 {
        return None;
    }
    let micros = if fraction.is_empty() {
        0
    } else {
        digits::<i64>(fraction)? * 10i64.pow(6 - fraction.len() as u32)
    };
    let total = hours
        .checked_mul(3600)?
        .checked_add(minutes * 60 + seconds)?
        .checked_mul(1_000_000)?
        .checked_add(micros)?;
    Some(if negative { -total } else { total })
}

/// A date/time text split into its numbers: `(year, month, day, hour, minute, second,
/// microsecond)`; `DATE` text gives zeros for the time.
pub fn parse_datetime(text: &str) -> Option<(u16, u8, u8, u8, u8, u8, u32)> {
    let (date, time) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut d = date.split('-');
    let year = digits(d.next()?)?;
    let month = digits(d.next()?)?;
    let day = digits(d.next()?)?;
    if d.next().is_some() {
        return None;
    }
    let (mut hour, mut minute, mut second, mut micro) = (0, 0, 0, 0);
    if let Some(time) = time {
        let micros = parse_time(time)?;
        if micros < 0 {
            return None;
        }
        micro = u32::try_from(micros % 1_000_000).ok()?;
        let seconds = micros / 1_000_000;
        hour = u8::try_from(seconds / 3600).ok()?;
        minute = u8::try_from(seconds / 60 % 60).ok()?;
        second = u8::try_from(seconds % 60).ok()?;
    }
    Some((year, month, day, hour, minute, second, micro))
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_signed_microseconds() {
        assert_eq!(parse_time("01:02:03"), Some(3_723_000_000));
        assert_eq!(parse_time("-838:00:00"), Some(-838 * 3_600_000_000));
        assert_eq!(parse_time("00:00:00.5"), Some(500_000));
        assert_eq!(parse_time("1:60:00"), None);
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("99999999999999999:00:00"), None);
    }

    #[test]
    fn datetimes_split_into_fields() {
        assert_eq!(
            parse_datetime("2020-01-02 03:04:05.000006"),
            Some((2020, 1, 2, 3, 4, 5, 6))
        );
        assert_eq!(parse_datetime("2020-01-02"), Some((2020, 1, 2, 0, 0, 0, 0)));
        assert_eq!(parse_datetime("0000-00-00"), Some((0, 0, 0, 0, 0, 0, 0)));
        assert_eq!(parse_datetime("2020-01"), None);
    }
}
