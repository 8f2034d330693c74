//! The SASL framing around SCRAM in the PostgreSQL protocol: the mechanism list the
//! frontend puts in `AuthenticationSASL` and the parsing of the client's
//! `SASLInitialResponse`. Only payloads live here (after the message tag, length and, for
//! server messages, the authentication code); the frontend owns the message framing.

use crate::auth::AuthError;

/// SCRAM without channel binding, offered on every connection.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// SCRAM with `tls-server-end-point` channel binding, offered over TLS.
pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// The mechanism lists of `AuthenticationSASL`: each name NUL-terminated, then an empty
/// name. The PLUS variant comes first, as PostgreSQL lists it.
const MECHANISMS: &[u8] = b"SCRAM-SHA-256\0\0";
const MECHANISMS_WITH_PLUS: &[u8] = b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0";

/// The payload of `AuthenticationSASL` after its int32 code 10; `channel_binding`: the
/// connection runs over TLS with a certificate that has binding data.
pub fn mechanisms_payload(channel_binding: bool) -> &'static [u8] {
    if channel_binding {
        MECHANISMS_WITH_PLUS
    } else {
        MECHANISMS
    }
}

/// Splits a `SASLInitialResponse` payload — `mechanism\0`, int32 length (-1 = no data),
/// data — into the mechanism name and the optional initial client response.
pub fn parse_initial_response(payload: &[u8]) -> Result<(&str, Option<&[u8]>), AuthError> {
    let bad = |what: &str| AuthError::Protocol(format!("SASLInitialResponse: {what}"));
    let nul = payload
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| bad("mechanism name is not NUL-terminated"))?;
    let mechanism = std::str::from_utf8(&payload[..nul])
        .map_err(|_| bad("mechanism name is not valid UTF-8"))?;
    let rest = &payload[nul + 1..];
    let (len, data) = match rest.split_first_chunk::<4>() {
        Some((len, data)) => (i32::from_be_bytes(*len), data),
        None => return Err(bad("missing the int32 length of the initial response")),
    };
    match len {
        -1 if data.is_empty() => Ok((mechanism, None)),
        n if usize::try_from(n).is_ok_and(|n| n == data.len()) => Ok((mechanism, Some(data))),
        n => Err(bad(&format!(
            "length {n} does not match the {} bytes of data",
            data.len()
        ))),
    }
}

/// Checks the mechanism the client selected against what was offered; `Ok(true)` for
/// `SCRAM-SHA-256-PLUS`. PLUS when it was not offered (no TLS) is refused as unsupported
/// channel binding; anything else is a protocol error (we never offered it).
pub fn check_mechanism(mechanism: &str, channel_binding: bool) -> Result<bool, AuthError> {
    match mechanism {
        SCRAM_SHA_256 => Ok(false),
        SCRAM_SHA_256_PLUS if channel_binding => Ok(true),
        SCRAM_SHA_256_PLUS => Err(AuthError::ChannelBindingUnsupported(
            SCRAM_SHA_256_PLUS.to_owned(),
        )),
        other => Err(AuthError::Protocol(format!(
            "client selected SASL mechanism {other:?}, which was not offered"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initial_response(mechanism: &str, len: i32, data: &[u8]) -> Vec<u8> {
        [mechanism.as_bytes(), b"\0", &len.to_be_bytes(), data].concat()
    }

    #[test]
    fn mechanism_list_offers_plus_only_with_channel_binding() {
        assert_eq!(mechanisms_payload(false), b"SCRAM-SHA-256\0\0");
        assert_eq!(
            mechanisms_payload(true),
            b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"
        );
    }

    #[test]
    fn initial_response_with_and_without_data_parses() {
        let payload = initial_response(SCRAM_SHA_256, 9, b"n,,n=,r=x");
        assert_eq!(
            parse_initial_response(&payload).unwrap(),
            (SCRAM_SHA_256, Some(&b"n,,n=,r=x"[..]))
        );
        let payload = initial_response(SCRAM_SHA_256, -1, b"");
        assert_eq!(
            parse_initial_response(&payload).unwrap(),
            (SCRAM_SHA_256, None)
        );
        let payload = initial_response(SCRAM_SHA_256, 0, b"");
        assert_eq!(
            parse_initial_response(&payload).unwrap(),
            (SCRAM_SHA_256, Some(&b""[..]))
        );
    }

    #[test]
    fn malformed_initial_responses_are_protocol_errors() {
        let cases = [
            Vec::new(),
            b"SCRAM-SHA-256".to_vec(),
            b"SCRAM-SHA-256\0\0\0".to_vec(),
            initial_response(SCRAM_SHA_256, 10, b"short"),
            initial_response(SCRAM_SHA_256, 2, b"long"),
            initial_response(SCRAM_SHA_256, -1, b"x"),
            initial_response(SCRAM_SHA_256, -2, b""),
            initial_response(SCRAM_SHA_256, i32::MIN, b""),
            [&b"\xff\0"[..], &(-1i32).to_be_bytes()].concat(),
        ];
        for case in cases {
            assert!(
                matches!(parse_initial_response(&case), Err(AuthError::Protocol(_))),
                "{case:?}"
            );
        }
    }

    #[test]
    fn plus_is_acceptable_only_when_offered() {
        assert_eq!(check_mechanism(SCRAM_SHA_256, false), Ok(false));
        assert_eq!(check_mechanism(SCRAM_SHA_256, true), Ok(false));
        assert_eq!(check_mechanism(SCRAM_SHA_256_PLUS, true), Ok(true));
        assert!(matches!(
            check_mechanism(SCRAM_SHA_256_PLUS, false),
            Err(AuthError::ChannelBindingUnsupported(_))
        ));
        assert!(matches!(
            check_mechanism("PLAIN", true),
            Err(AuthError::Protocol(_))
        ));
    }
}
