//! Parsing uuid literals the way PostgreSQL's `uuid_in` does.
//!
//! The proxy sees uuid shard keys as text (SQL literals, text-format parameters) and must
//! hash the same 16 bytes PostgreSQL would store, so it must accept exactly the spellings
//! PostgreSQL accepts: an optional `{`…`}` pair around 32 hex digits (either case), with an
//! optional single `-` after any group of four hex digits except the last. That covers the
//! standard `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`, the plain 32-digit form, the braced form
//! and `a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11`. No surrounding whitespace is allowed.

/// Number of bytes in a uuid.
const UUID_LEN: usize = 16;

/// Parses a uuid in any text form PostgreSQL 15's `uuid_in` accepts; `None` where
/// PostgreSQL would raise `invalid input syntax for type uuid`.
///
/// ```
/// use shardwire_router::hash::parse_uuid;
/// let bytes = parse_uuid("{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}").expect("valid uuid");
/// assert_eq!(parse_uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11"), Some(bytes));
/// assert_eq!(parse_uuid(" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), None);
/// ```
pub fn parse_uuid(text: &str) -> Option<[u8; UUID_LEN]> {
    let mut rest = text.as_bytes();
    let braces = rest.first() == Some(&b'{');
    if braces {
        rest = &rest[1..];
    }
    let mut uuid = [0u8; UUID_LEN];
    for (i, byte) in uuid.iter_mut().enumerate() {
        let [hi, lo, tail @ ..] = rest else {
            return None;
        };
        *byte = (hex_digit(*hi)? << 4) | hex_digit(*lo)?;
        rest = tail;
        // A hyphen may follow every second byte (four hex digits), but not the last one.
        if i % 2 == 1 && i < UUID_LEN - 1 {
            if let [b'-', tail @ ..] = rest {
                rest = tail;
            }
        }
    }
    if braces {
        rest = rest.strip_prefix(b"}")?;
    }
    rest.is_empty().then_some(uuid)
}

/// The value of one ASCII hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES: [u8; 16] = [
        0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a,
        0x11,
    ];

    /// Spellings checked against PostgreSQL 15: `SELECT '<text>'::uuid` succeeds.
    #[test]
    fn accepts_what_postgres_accepts() {
        for text in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
            "a0eEbC99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ] {
            assert_eq!(parse_uuid(text), Some(BYTES), "{text}");
        }
    }

    /// Spellings checked against PostgreSQL 15: `SELECT '<text>'::uuid` raises an error.
    #[test]
    fn rejects_what_postgres_rejects() {
        for text in [
            "",
            "{}",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "{{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}}",
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99_9c0b-4ef8-bb6d-6bb9bd380a11",
            "+0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1é",
        ] {
            assert_eq!(parse_uuid(text), None, "{text:?}");
        }
    }
}
