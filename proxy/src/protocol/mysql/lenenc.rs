//! Length-encoded integers and strings, and the bounds-checked [`Cursor`] the readers use.
//!
//! A length-encoded integer is one byte below 0xFB, or 0xFC + 2 bytes, 0xFD + 3 bytes,
//! 0xFE + 8 bytes (little-endian). In text rows 0xFB stands for NULL; 0xFF never starts
//! one (it is the ERR header). A length-encoded string is such a length and that many
//! bytes.

use bytes::BufMut;

/// The NULL marker of a text-row column.
pub const NULL: u8 = 0xFB;

/// A packet that is too short or not shaped as its kind requires; names the packet kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed MySQL {0} packet")]
pub struct Malformed(pub &'static str);

/// Reads a length-encoded integer at the front of `buf`: the value and the bytes used.
/// `None` on truncation, on the NULL marker 0xFB and on 0xFF.
pub fn read_int(buf: &[u8]) -> Option<(u64, usize)> {
    let (&first, rest) = buf.split_first()?;
    let width = match first {
        0..=0xFA => return Some((u64::from(first), 1)),
        0xFC => 2,
        0xFD => 3,
        0xFE => 8,
        _ => return None,
    };
    let bytes = rest.get(..width)?;
    let mut le = [0u8; 8];
    le[..width].copy_from_slice(bytes);
    Some((u64::from_le_bytes(le), 1 + width))
}

/// Reads a length-encoded string: the bytes and the total bytes used. `None` on
/// truncation or a NULL marker.
pub fn read_str(buf: &[u8]) -> Option<(&[u8], usize)> {
    let (len, used) = read_int(buf)?;
    let len = usize::try_from(len).ok()?;
    let end = used.checked_add(len)?;
    Some((buf.get(used..end)?, end))
}

/// Reads a text-row column: `Some(None)` for NULL (0xFB), the bytes otherwise, with the
/// bytes used. `None` on truncation.
pub fn read_nullable_str(buf: &[u8]) -> Option<(Option<&[u8]>, usize)> {
    if buf.first() == Some(&NULL) {
        return Some((None, 1));
    }
    read_str(buf).map(|(s, used)| (Some(s), used))
}

/// Bytes [`write_int`] uses for `v`.
pub fn int_len(v: u64) -> usize {
    match v {
        0..=0xFA => 1,
        0xFB..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 9,
    }
}

/// Appends `v` as a length-encoded integer.
pub fn write_int(out: &mut impl BufMut, v: u64) {
    let le = v.to_le_bytes();
    match int_len(v) {
        1 => out.put_u8(le[0]),
        3 => {
            out.put_u8(0xFC);
            out.put_slice(&le[..2]);
        }
        4 => {
            out.put_u8(0xFD);
            out.put_slice(&le[..3]);
        }
        _ => {
            out.put_u8(0xFE);
            out.put_slice(&le);
        }
    }
}

/// Appends `s` as a length-encoded string.
pub fn write_str(out: &mut impl BufMut, s: &[u8]) {
    write_int(out, s.len() as u64);
    out.put_slice(s);
}

/// Appends a text-row column: 0xFB for NULL, a length-encoded string otherwise.
pub fn write_nullable_str(out: &mut impl BufMut, s: Option<&[u8]>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.put_u8(NULL),
    }
}

/// A bounds-checked little-endian cursor over a payload; every read fails with
/// [`Malformed`] naming the packet instead of panicking.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, naming the packet kind in errors.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Cursor { data, what }
    }

    /// The error this cursor reports.
    pub fn err(&self) -> Malformed {
        Malformed(self.what)
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.data.len() < n {
            return Err(self.err());
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    /// Exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let b = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16, Malformed> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian 3-byte integer.
    pub fn u24(&mut self) -> Result<u32, Malformed> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        self.array().map(u64::from_le_bytes)
    }

    /// Bytes up to a NUL (consumed, not returned).
    pub fn cstr(&mut self) -> Result<&'a [u8], Malformed> {
        let end = self.data.iter().position(|&b| b == 0).ok_or(self.err())?;
        let s = self.bytes(end)?;
        self.bytes(1)?;
        Ok(s)
    }

    /// Bytes up to a NUL or the end of the payload (the NUL consumed if present).
    pub fn cstr_or_rest(&mut self) -> &'a [u8] {
        match self.cstr() {
            Ok(s) => s,
            Err(_) => self.bytes(self.data.len()).unwrap_or_default(),
        }
    }

    /// A NUL-terminated UTF-8 string.
    pub fn cstr_utf8(&mut self) -> Result<&'a str, Malformed> {
        let s = self.cstr()?;
        std::str::from_utf8(s).map_err(|_| self.err())
    }

    /// A length-encoded integer (NULL and 0xFF are errors).
    pub fn lenenc_int(&mut self) -> Result<u64, Malformed> {
        let (v, used) = read_int(self.data).ok_or(self.err())?;
        self.data = self.data.get(used..).unwrap_or_default();
        Ok(v)
    }

    /// A length-encoded string.
    pub fn lenenc_str(&mut self) -> Result<&'a [u8], Malformed> {
        let (s, used) = read_str(self.data).ok_or(self.err())?;
        self.data = self.data.get(used..).unwrap_or_default();
        Ok(s)
    }

    /// A text-row column: `None` for NULL.
    pub fn lenenc_nullable(&mut self) -> Result<Option<&'a [u8]>, Malformed> {
        let (s, used) = read_nullable_str(self.data).ok_or(self.err())?;
        self.data = self.data.get(used..).unwrap_or_default();
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::io::{ParseBuf, WriteMysqlExt};

    const SAMPLES: [u64; 12] = [
        0,
        1,
        0xFA,
        0xFB,
        0xFC,
        0xFFFF,
        0x1_0000,
        0xFF_FFFF,
        0x100_0000,
        u32::MAX as u64,
        1 << 40,
        u64::MAX,
    ];

    #[test]
    fn ints_round_trip_and_match_mysql_common() {
        for v in SAMPLES {
            let mut ours = Vec::new();
            write_int(&mut ours, v);
            assert_eq!(ours.len(), int_len(v));
            let mut theirs = Vec::new();
            theirs.write_lenenc_int(v).unwrap();
            assert_eq!(ours, theirs, "value {v:#x}");
            assert_eq!(read_int(&ours), Some((v, ours.len())));
            for cut in 0..ours.len() {
                assert_eq!(read_int(&ours[..cut]), None);
            }
            assert_eq!(ParseBuf(&ours).eat_lenenc_int(), v);
        }
    }

    #[test]
    fn strings_and_null_markers() {
        let mut out = Vec::new();
        write_str(&mut out, b"abc");
        write_nullable_str(&mut out, None);
        write_str(&mut out, &[7; 300]);
        let mut c = Cursor::new(&out, "row");
        assert_eq!(c.lenenc_nullable(), Ok(Some(&b"abc"[..])));
        assert_eq!(c.lenenc_nullable(), Ok(None));
        assert_eq!(c.lenenc_str().map(<[u8]>::len), Ok(300));
        assert!(c.is_empty());
        assert_eq!(read_str(&[NULL]), None);
        assert_eq!(read_int(&[0xFF]), None);
        for cut in 0..out.len() {
            let mut c = Cursor::new(&out[..cut], "row");
            let all = (0..3).try_for_each(|_| c.lenenc_nullable().map(drop));
            assert_eq!(all, Err(Malformed("row")), "cut {cut}");
        }
    }

    #[test]
    fn huge_announced_length_is_an_error_not_a_panic() {
        let buf = [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'x'];
        assert_eq!(read_str(&buf), None);
        assert!(Cursor::new(&buf, "x").lenenc_str().is_err());
    }

    #[test]
    fn cursor_reads_fixed_widths_and_strings() {
        let data = [1, 2, 0, 3, 0, 0, 4, 0, 0, 0, b'h', b'i', 0, b'z'];
        let mut c = Cursor::new(&data, "t");
        assert_eq!(c.u8(), Ok(1));
        assert_eq!(c.u16(), Ok(2));
        assert_eq!(c.u24(), Ok(3));
        assert_eq!(c.u32(), Ok(4));
        assert_eq!(c.cstr_utf8(), Ok("hi"));
        assert_eq!(c.cstr(), Err(Malformed("t")));
        assert_eq!(c.cstr_or_rest(), b"z");
        assert_eq!(c.u8(), Err(Malformed("t")));
    }
}
