//! ISO date/time text read into days and microseconds since 2000-01-01.

use super::*;

const DAY: i64 = 86_400 * USECS_PER_SEC;

#[test]
fn dates_count_days_from_2000() {
    assert_eq!(parse_date(b"2000-01-01"), Some(0));
    assert_eq!(parse_date(b"2000-01-02"), Some(1));
    assert_eq!(parse_date(b"1999-12-31"), Some(-1));
    assert_eq!(parse_date(b"2024-03-01"), Some(8826));
    assert_eq!(parse_date(b"1970-01-01"), Some(-10957));
    // Year 1 BC is year 0, a leap year.
    assert_eq!(
        parse_date(b"0001-12-31 BC"),
        Some(parse_date(b"0001-01-01").unwrap() - 1)
    );
    assert_eq!(parse_date(b"0001-02-29 BC").map(|d| d < 0), Some(true));
    assert_eq!(parse_date(b"infinity"), Some(i64::MAX));
    assert_eq!(parse_date(b"-infinity"), Some(i64::MIN));
    assert_eq!(parse_date(b"12000-01-01").map(|d| d > 0), Some(true));
    for bad in [
        &b"2023-02-29"[..],
        b"2024-13-01",
        b"01/02/2024",
        b"2024-1",
        b"",
    ] {
        assert_eq!(parse_date(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn timestamps_count_microseconds_and_honor_offsets() {
    assert_eq!(parse_timestamp(b"2000-01-01 00:00:00", false), Some(0));
    assert_eq!(
        parse_timestamp(b"2000-01-02 00:00:01.5", false),
        Some(DAY + 1_500_000)
    );
    assert_eq!(
        parse_timestamp(b"2000-01-01 00:00:00.000001", false),
        Some(1)
    );
    assert_eq!(parse_timestamp(b"2000-01-01 01:00:00+01", true), Some(0));
    assert_eq!(parse_timestamp(b"1999-12-31 19:00:00-05", true), Some(0));
    assert_eq!(parse_timestamp(b"2000-01-01 05:30:00+05:30", true), Some(0));
    assert_eq!(
        parse_timestamp(b"2000-01-01 00:00:00+00:00:10", true),
        Some(-10 * USECS_PER_SEC)
    );
    assert_eq!(parse_timestamp(b"infinity", true), Some(i64::MAX));
    assert_eq!(parse_timestamp(b"-infinity", false), Some(i64::MIN));
    assert_eq!(
        parse_timestamp(b"0044-03-15 12:00:00 BC", false).map(|t| t < 0),
        Some(true)
    );
    // timestamptz needs its offset.
    assert_eq!(parse_timestamp(b"2000-01-01 00:00:00", true), None);
    assert_eq!(parse_timestamp(b"2000-01-01 25:00:00", false), None);
}

#[test]
fn times_count_microseconds_from_midnight() {
    assert_eq!(parse_time(b"00:00:00"), Some(0));
    assert_eq!(
        parse_time(b"12:34:56.789"),
        Some(((12 * 60 + 34) * 60 + 56) * USECS_PER_SEC + 789_000)
    );
    assert_eq!(parse_time(b"24:00:00"), Some(DAY));
    assert_eq!(parse_time(b"12:60:00"), None);
    assert_eq!(parse_time(b"1:2:3:4"), None);
}
