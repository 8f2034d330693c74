//! Arrays of shard-key values: `key = ANY($1)` with `$1` in text (`{1,2,3}`) or binary
//! format, and `key = ANY('{1,2,3}')` literals.
//!
//! The decoders walk the array and hand each element to a callback, allocating at most
//! one buffer (for text elements with escapes). Text follows `array_in`: an optional
//! dimension decoration (`[1:3]=`), nested braces, elements that are double-quoted (with
//! backslash escapes) or bare (trimmed; a bare `NULL` is null). Binary follows
//! `array_recv`: dimensions, a null flag, the element type OID, lower bounds, then
//! length-prefixed elements (-1 = null). Malformed input is an error, never a panic.

use crate::value::ValueError;

/// PostgreSQL's limit on array dimensions (`MAXDIM`).
const MAX_DIMENSIONS: i32 = 6;

/// Calls `element` for each element of the text-format array `text`, `None` for nulls.
pub(crate) fn for_each_text_element(
    text: &[u8],
    mut element: impl FnMut(Option<&[u8]>) -> Result<(), ValueError>,
) -> Result<(), ValueError> {
    let malformed = || {
        ValueError::Invalid(format!(
            "malformed array literal: {}",
            crate::value::shorten(text)
        ))
    };
    let mut i = skip_space(text, 0);
    if text.get(i) == Some(&b'[') {
        // Dimension decoration `[1:3][1:2]=`: skip it.
        let equals = text[i..]
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(malformed)?;
        i = skip_space(text, i + equals + 1);
    }
    if text.get(i) != Some(&b'{') {
        return Err(malformed());
    }
    let mut depth = 0usize;
    let mut buffer = Vec::new();
    loop {
        i = skip_space(text, i);
        let Some(&b) = text.get(i) else {
            return Err(malformed());
        };
        match b {
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.checked_sub(1).ok_or_else(malformed)?;
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            b',' => i += 1,
            b'"' => {
                buffer.clear();
                i += 1;
                loop {
                    match text.get(i) {
                        None => return Err(malformed()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            buffer.push(*text.get(i + 1).ok_or_else(malformed)?);
                            i += 2;
                        }
                        Some(&c) => {
                            buffer.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                element(Some(&buffer))?;
            }
            _ => {
                buffer.clear();
                let mut escaped = false;
                let mut kept = 0;
                while let Some(&c) = text.get(i) {
                    match c {
                        b',' | b'}' | b'{' | b'"' => break,
                        b'\\' => {
                            buffer.push(*text.get(i + 1).ok_or_else(malformed)?);
                            escaped = true;
                            kept = buffer.len();
                            i += 2;
                        }
                        _ => {
                            buffer.push(c);
                            if !c.is_ascii_whitespace() {
                                kept = buffer.len();
                            }
                            i += 1;
                        }
                    }
                }
                buffer.truncate(kept);
                if !escaped && buffer.eq_ignore_ascii_case(b"null") {
                    element(None)?;
                } else {
                    element(Some(&buffer))?;
                }
            }
        }
    }
    if skip_space(text, i) != text.len() {
        return Err(malformed());
    }
    Ok(())
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Calls `element` with the element type OID and each element of the binary-format
/// array `bytes`, `None` for nulls.
pub(crate) fn for_each_binary_element(
    bytes: &[u8],
    mut element: impl FnMut(u32, Option<&[u8]>) -> Result<(), ValueError>,
) -> Result<(), ValueError> {
    let malformed = |what: &str| ValueError::Binary(format!("malformed binary array: {what}"));
    let mut reader = Reader { bytes, at: 0 };
    let dimensions = reader.i32().ok_or_else(|| malformed("no header"))?;
    let _has_nulls = reader.i32().ok_or_else(|| malformed("no header"))?;
    let element_oid = reader.i32().ok_or_else(|| malformed("no header"))? as u32;
    if !(0..=MAX_DIMENSIONS).contains(&dimensions) {
        return Err(malformed("bad number of dimensions"));
    }
    let mut count: usize = if dimensions == 0 { 0 } else { 1 };
    for _ in 0..dimensions {
        let size = reader
            .i32()
            .ok_or_else(|| malformed("truncated dimensions"))?;
        let _lower_bound = reader
            .i32()
            .ok_or_else(|| malformed("truncated dimensions"))?;
        let size = usize::try_from(size).map_err(|_| malformed("negative dimension"))?;
        count = count
            .checked_mul(size)
            .ok_or_else(|| malformed("too many elements"))?;
    }
    // Every element takes at least its 4-byte length: a cheap bound before looping.
    if count > bytes.len() / 4 {
        return Err(malformed("more elements than bytes"));
    }
    for _ in 0..count {
        let length = reader.i32().ok_or_else(|| malformed("truncated element"))?;
        if length == -1 {
            element(element_oid, None)?;
            continue;
        }
        let length = usize::try_from(length).map_err(|_| malformed("negative length"))?;
        let value = reader
            .take(length)
            .ok_or_else(|| malformed("truncated element"))?;
        element(element_oid, Some(value))?;
    }
    if reader.at != bytes.len() {
        return Err(malformed("trailing bytes"));
    }
    Ok(())
}

/// A cursor over big-endian binary data.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Encodes a one-dimensional binary array, as a client would send it (tests and benches).
#[cfg(test)]
pub(crate) fn encode_binary_array(element_oid: u32, elements: &[Option<&[u8]>]) -> Vec<u8> {
    let mut out = Vec::new();
    let has_nulls = elements.iter().any(Option::is_none);
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&i32::from(has_nulls).to_be_bytes());
    out.extend_from_slice(&element_oid.to_be_bytes());
    out.extend_from_slice(&(elements.len() as i32).to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    for element in elements {
        match element {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_elements(text: &str) -> Result<Vec<Option<String>>, ValueError> {
        let mut out = Vec::new();
        for_each_text_element(text.as_bytes(), |e| {
            out.push(e.map(|b| String::from_utf8_lossy(b).into_owned()));
            Ok(())
        })?;
        Ok(out)
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some((*v).to_owned())).collect()
    }

    #[test]
    fn text_arrays_follow_array_in() {
        assert_eq!(text_elements("{1,2,3}"), Ok(some(&["1", "2", "3"])));
        assert_eq!(text_elements(" { 1 , 2 } "), Ok(some(&["1", "2"])));
        assert_eq!(text_elements("{}"), Ok(vec![]));
        assert_eq!(
            text_elements(r#"{"a,b","c\"d",e\,f, "NULL"}"#),
            Ok(some(&["a,b", "c\"d", "e,f", "NULL"]))
        );
        assert_eq!(
            text_elements("{NULL,null,x}"),
            Ok(vec![None, None, Some("x".into())])
        );
        assert_eq!(
            text_elements("{{1,2},{3,4}}"),
            Ok(some(&["1", "2", "3", "4"]))
        );
        assert_eq!(text_elements("[0:1]={5,6}"), Ok(some(&["5", "6"])));
    }

    #[test]
    fn malformed_text_arrays_are_invalid() {
        for text in ["", "1,2", "{1,2", "{\"a}", "{1}}", "{1} x", "[1:2]", "{\\"] {
            assert!(
                matches!(text_elements(text), Err(ValueError::Invalid(_))),
                "{text:?}"
            );
        }
    }

    /// Element type OID and value of each element.
    type Elements = Vec<(u32, Option<Vec<u8>>)>;

    fn binary_elements(bytes: &[u8]) -> Result<Elements, ValueError> {
        let mut out = Vec::new();
        for_each_binary_element(bytes, |oid, e| {
            out.push((oid, e.map(<[u8]>::to_vec)));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn binary_arrays_follow_array_recv() {
        let one = 1i64.to_be_bytes();
        let bytes = encode_binary_array(20, &[Some(&one), None]);
        assert_eq!(
            binary_elements(&bytes),
            Ok(vec![(20, Some(one.to_vec())), (20, None)])
        );
        let empty = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20];
        assert_eq!(binary_elements(&empty), Ok(vec![]));
    }

    #[test]
    fn malformed_binary_arrays_are_refused_without_panicking() {
        let one = 1i64.to_be_bytes();
        let good = encode_binary_array(20, &[Some(&one)]);
        for cut in 0..good.len() {
            assert!(binary_elements(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(binary_elements(&trailing).is_err());
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(binary_elements(&huge).is_err());
        let mut dims = good;
        dims[0..4].copy_from_slice(&7i32.to_be_bytes());
        assert!(binary_elements(&dims).is_err());
    }
}
