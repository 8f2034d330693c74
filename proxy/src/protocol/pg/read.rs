//! Borrowed readers over message bodies: a bounds-checked cursor and the handful of
//! messages the proxy must look inside. Every read returns an error on short or malformed
//! input instead of panicking — these bytes come from clients and servers.

use std::fmt;

/// A malformed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed {} message", self.0)
    }
}

impl std::error::Error for Malformed {}

/// A bounds-checked cursor over a message body.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, naming the message in errors.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Cursor { data, what }
    }

    fn err(&self) -> Malformed {
        Malformed(self.what)
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        let (&b, rest) = self.data.split_first().ok_or(self.err())?;
        self.data = rest;
        Ok(b)
    }

    /// A big-endian int16.
    pub fn i16(&mut self) -> Result<i16, Malformed> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian int32.
    pub fn i32(&mut self) -> Result<i32, Malformed> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
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

    /// A NUL-terminated string (without the NUL), as UTF-8.
    pub fn cstr(&mut self) -> Result<&'a str, Malformed> {
        let end = self.data.iter().position(|&b| b == 0).ok_or(self.err())?;
        let s = std::str::from_utf8(&self.data[..end]).map_err(|_| self.err())?;
        self.data = &self.data[end + 1..];
        Ok(s)
    }

    /// An int32 length followed by that many bytes; -1 means NULL.
    pub fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, Malformed> {
        let len = self.i32()?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| self.err())?;
        self.bytes(len).map(Some)
    }
}

/// The name/value pairs of a StartupMessage (after the protocol version).
pub fn startup_params(body: &[u8]) -> Result<Vec<(String, String)>, Malformed> {
    let mut c = Cursor::new(body, "startup");
    let mut params = Vec::new();
    loop {
        let name = c.cstr()?;
        if name.is_empty() {
            return Ok(params);
        }
        let value = c.cstr()?;
        params.push((name.to_string(), value.to_string()));
    }
}

/// The SQL of a Query message.
pub fn query_text(body: &[u8]) -> Result<&str, Malformed> {
    Cursor::new(body, "Query").cstr()
}

/// A Parse message.
#[derive(Debug)]
pub struct Parse<'a> {
    /// Statement name ("" = unnamed).
    pub name: &'a str,
    /// SQL text.
    pub sql: &'a str,
    /// Declared parameter type OIDs (0 = unspecified).
    pub param_types: Vec<u32>,
}

impl<'a> Parse<'a> {
    /// Reads a Parse body.
    pub fn read(body: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(body, "Parse");
        let name = c.cstr()?;
        let sql = c.cstr()?;
        let n = c.i16()?;
        let n = usize::try_from(n).map_err(|_| Malformed("Parse"))?;
        let mut param_types = Vec::with_capacity(n);
        for _ in 0..n {
            param_types.push(c.i32()? as u32);
        }
        Ok(Parse {
            name,
            sql,
            param_types,
        })
    }
}

/// A Bind message, with lazy access to its parameter values.
#[derive(Debug)]
pub struct Bind<'a> {
    /// Portal name.
    pub portal: &'a str,
    /// Statement name.
    pub statement: &'a str,
    formats: &'a [u8],
    format_count: usize,
    values: &'a [u8],
    value_count: usize,
    /// Bytes from the parameter values on (formats and values of results), verbatim.
    after_statement: &'a [u8],
}

impl<'a> Bind<'a> {
    /// Reads a Bind body, validating its structure.
    pub fn read(body: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(body, "Bind");
        let portal = c.cstr()?;
        let statement = c.cstr()?;
        let after_statement = c.rest();
        let format_count = usize::try_from(c.i16()?).map_err(|_| Malformed("Bind"))?;
        let formats = c.bytes(format_count * 2)?;
        let value_count = usize::try_from(c.i16()?).map_err(|_| Malformed("Bind"))?;
        let values = c.rest();
        for _ in 0..value_count {
            c.nullable_bytes()?;
        }
        // Result column formats.
        let result_formats = usize::try_from(c.i16()?).map_err(|_| Malformed("Bind"))?;
        c.bytes(result_formats * 2)?;
        if format_count > 1 && format_count != value_count {
            return Err(Malformed("Bind"));
        }
        Ok(Bind {
            portal,
            statement,
            formats,
            format_count,
            values,
            value_count,
            after_statement,
        })
    }

    /// Number of parameter values.
    pub fn param_count(&self) -> usize {
        self.value_count
    }

    /// Whether parameter `i` (0-based) is in binary format.
    pub fn is_binary(&self, i: usize) -> bool {
        let idx = match self.format_count {
            0 => return false,
            1 => 0,
            _ => i,
        };
        self.formats.get(idx * 2..idx * 2 + 2) == Some(&[0, 1])
    }

    /// Value of parameter `i` (0-based); `Some(None)` is SQL NULL.
    pub fn value(&self, i: usize) -> Option<Option<&'a [u8]>> {
        if i >= self.value_count {
            return None;
        }
        let mut c = Cursor::new(self.values, "Bind");
        for _ in 0..i {
            c.nullable_bytes().ok()?;
        }
        c.nullable_bytes().ok()
    }

    /// Everything after the statement name, for rebuilding the message under another
    /// statement name.
    pub fn tail(&self) -> &'a [u8] {
        self.after_statement
    }
}

/// Close or Describe: a kind byte (`S`tatement or `P`ortal) and a name.
#[derive(Debug)]
pub struct Target<'a> {
    /// `b'S'` or `b'P'`.
    pub kind: u8,
    /// The statement or portal name.
    pub name: &'a str,
}

impl<'a> Target<'a> {
    /// Reads a Close or Describe body.
    pub fn read(body: &'a [u8], what: &'static str) -> Result<Self, Malformed> {
        let mut c = Cursor::new(body, what);
        let kind = c.u8()?;
        if kind != b'S' && kind != b'P' {
            return Err(Malformed(what));
        }
        let name = c.cstr()?;
        Ok(Target { kind, name })
    }
}

/// The SQLSTATE and message of an ErrorResponse or NoticeResponse.
pub fn error_fields(body: &[u8]) -> (String, String) {
    let mut code = String::new();
    let mut message = String::new();
    let mut c = Cursor::new(body, "ErrorResponse");
    while let Ok(field) = c.u8() {
        if field == 0 {
            break;
        }
        let Ok(value) = c.cstr() else { break };
        match field {
            b'C' => code = value.to_string(),
            b'M' => message = value.to_string(),
            _ => {}
        }
    }
    (code, message)
}

/// True when an ErrorResponse ends the connection (severity FATAL or PANIC).
pub fn is_fatal(body: &[u8]) -> bool {
    let mut c = Cursor::new(body, "ErrorResponse");
    while let Ok(field) = c.u8() {
        if field == 0 {
            break;
        }
        let Ok(value) = c.cstr() else { break };
        if field == b'V' || field == b'S' {
            return value == "FATAL" || value == "PANIC";
        }
    }
    false
}

/// The command tag of a CommandComplete.
pub fn command_tag(body: &[u8]) -> &str {
    Cursor::new(body, "CommandComplete").cstr().unwrap_or("")
}

/// Name and value of a ParameterStatus.
pub fn parameter_status(body: &[u8]) -> Result<(&str, &str), Malformed> {
    let mut c = Cursor::new(body, "ParameterStatus");
    Ok((c.cstr()?, c.cstr()?))
}

/// The first column of a DataRow body, as text (`None` for NULL, no column, or not UTF-8).
pub fn first_column(body: &[u8]) -> Option<String> {
    let mut c = Cursor::new(body, "DataRow");
    if c.i16().ok()? < 1 {
        return None;
    }
    let value = c.nullable_bytes().ok()??;
    String::from_utf8(value.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_and_formats() {
        let mut b = Vec::new();
        b.extend_from_slice(b"portal\0stmt\0");
        b.extend_from_slice(&1i16.to_be_bytes());
        b.extend_from_slice(&1i16.to_be_bytes()); // all binary
        b.extend_from_slice(&2i16.to_be_bytes());
        b.extend_from_slice(&8i32.to_be_bytes());
        b.extend_from_slice(&42i64.to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
        let bind = Bind::read(&b).unwrap();
        assert_eq!(bind.statement, "stmt");
        assert_eq!(bind.param_count(), 2);
        assert!(bind.is_binary(1));
        assert_eq!(bind.value(0), Some(Some(&42i64.to_be_bytes()[..])));
        assert_eq!(bind.value(1), Some(None));
        assert_eq!(bind.value(2), None);
    }

    #[test]
    fn truncated_messages_are_errors_not_panics() {
        let mut b = Vec::new();
        b.extend_from_slice(b"\0\0");
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&3i16.to_be_bytes());
        b.extend_from_slice(&100i32.to_be_bytes());
        for cut in 0..b.len() {
            assert!(Bind::read(&b[..cut]).is_err());
        }
        assert!(Parse::read(b"name\0sql").is_err());
        assert!(Target::read(b"Xname\0", "Close").is_err());
        assert!(startup_params(b"user\0bob").is_err());
    }
}
