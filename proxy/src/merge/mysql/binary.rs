//! Values in MySQL's binary protocol (the rows of a `COM_STMT_EXECUTE` answer), made
//! from their text form by column type.
//!
//! Integers are little-endian in the type's width (`TINY` 1, `SHORT`/`YEAR` 2,
//! `LONG`/`INT24` 4, `LONGLONG` 8), `FLOAT` 4 and `DOUBLE` 8 bytes of IEEE 754; `DATE`,
//! `DATETIME` and `TIMESTAMP` a length byte (0, 4, 7 or 11) then year (2 bytes), month,
//! day, hour, minute, second, microseconds (4 bytes), trailing zero parts left out;
//! `TIME` a length byte (0, 8 or 12) then sign, days (4 bytes), hours, minutes,
//! seconds, microseconds; everything else (`DECIMAL`, strings, `BIT` …) a
//! length-encoded string of the text bytes.

use bytes::{BufMut, BytesMut};

use super::time::{parse_datetime, parse_time};
use crate::merge::error::{code, MergeError};
use crate::protocol::mysql::consts::{column_flag, column_type as ty};
use crate::protocol::mysql::lenenc;

/// Appends the binary form of the non-NULL value `text` of a column of `column_type`
/// with `flags`.
pub(crate) fn write_value(
    column_type: u8,
    flags: u16,
    text: &[u8],
    out: &mut BytesMut,
) -> Result<(), MergeError> {
    let invalid = || {
        MergeError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format_args!(
                "cannot encode \"{}\" as a binary value of MySQL type {column_type}",
                String::from_utf8_lossy(text)
            ),
        )
    };
    let s = || {
        std::str::from_utf8(text)
            .map(str::trim)
            .map_err(|_| invalid())
    };
    let unsigned = flags & column_flag::UNSIGNED != 0;
    let int = |width: usize| -> Result<Vec<u8>, MergeError> {
        let v: i128 = s()?.parse().map_err(|_| invalid())?;
        let bits = 8 * width as u32;
        let (min, max) = if unsigned {
            (0, (1i128 << bits) - 1)
        } else {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        };
        if v < min || v > max {
            return Err(invalid());
        }
        Ok(v.to_le_bytes()[..width].to_vec())
    };
    match column_type {
        ty::TINY => out.put_slice(&int(1)?),
        ty::SHORT | ty::YEAR => out.put_slice(&int(2)?),
        ty::LONG | ty::INT24 => out.put_slice(&int(4)?),
        ty::LONGLONG => out.put_slice(&int(8)?),
        ty::FLOAT => out.put_f32_le(s()?.parse().map_err(|_| invalid())?),
        ty::DOUBLE => out.put_f64_le(s()?.parse().map_err(|_| invalid())?),
        ty::DATE | ty::NEWDATE | ty::DATETIME | ty::DATETIME2 | ty::TIMESTAMP | ty::TIMESTAMP2 => {
            let (y, mo, d, h, mi, se, us) = parse_datetime(s()?).ok_or_else(invalid)?;
            let len: u8 = if us != 0 {
                11
            } else if h != 0 || mi != 0 || se != 0 {
                7
            } else if y != 0 || mo != 0 || d != 0 {
                4
            } else {
                0
            };
            out.put_u8(len);
            if len >= 4 {
                out.put_u16_le(y);
                out.put_slice(&[mo, d]);
            }
            if len >= 7 {
                out.put_slice(&[h, mi, se]);
            }
            if len == 11 {
                out.put_u32_le(us);
            }
        }
        ty::TIME | ty::TIME2 => {
            let micros = parse_time(s()?).ok_or_else(invalid)?;
            let magnitude = micros.unsigned_abs();
            let us = (magnitude % 1_000_000) as u32;
            let seconds = magnitude / 1_000_000;
            let days = u32::try_from(seconds / 86_400).map_err(|_| invalid())?;
            let (h, mi, se) = (
                (seconds / 3600 % 24) as u8,
                (seconds / 60 % 60) as u8,
                (seconds % 60) as u8,
            );
            let len: u8 = if us != 0 {
                12
            } else if magnitude != 0 {
                8
            } else {
                0
            };
            out.put_u8(len);
            if len >= 8 {
                out.put_u8(u8::from(micros < 0));
                out.put_u32_le(days);
                out.put_slice(&[h, mi, se]);
            }
            if len == 12 {
                out.put_u32_le(us);
            }
        }
        _ => lenenc::write_str(out, text),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(column_type: u8, flags: u16, text: &str) -> Result<Vec<u8>, MergeError> {
        let mut out = BytesMut::new();
        write_value(column_type, flags, text.as_bytes(), &mut out)?;
        Ok(out.to_vec())
    }

    #[test]
    fn integers_and_floats_in_their_widths() {
        assert_eq!(enc(ty::TINY, 0, "-3").unwrap(), [0xFD]);
        assert_eq!(enc(ty::LONG, 0, "258").unwrap(), [2, 1, 0, 0]);
        let max = enc(ty::LONGLONG, column_flag::UNSIGNED, "18446744073709551615");
        assert_eq!(max.unwrap(), [0xFF; 8]);
        assert!(enc(ty::TINY, 0, "300").is_err());
        assert!(enc(ty::LONG, 0, "x").is_err());
        assert_eq!(enc(ty::DOUBLE, 0, "1e20").unwrap(), 1e20f64.to_le_bytes());
        assert_eq!(enc(ty::FLOAT, 0, "1.25").unwrap(), 1.25f32.to_le_bytes());
        assert_eq!(enc(ty::NEWDECIMAL, 0, "-1.50").unwrap(), b"\x05-1.50");
    }

    #[test]
    fn dates_and_times_leave_out_zero_parts() {
        assert_eq!(enc(ty::DATE, 0, "2020-01-02").unwrap(), [4, 0xE4, 7, 1, 2]);
        assert_eq!(enc(ty::DATE, 0, "0000-00-00").unwrap(), [0]);
        assert_eq!(
            enc(ty::DATETIME, 0, "2020-01-02 03:04:05.000006").unwrap(),
            [11, 0xE4, 7, 1, 2, 3, 4, 5, 6, 0, 0, 0]
        );
        assert_eq!(
            enc(ty::TIME, 0, "-25:00:01").unwrap(),
            [8, 1, 1, 0, 0, 0, 1, 0, 1]
        );
        assert_eq!(enc(ty::TIME, 0, "00:00:00").unwrap(), [0]);
        assert!(enc(ty::DATETIME, 0, "soon").is_err());
    }
}
