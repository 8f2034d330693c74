//! Tests of session positions and the session token's text form.

use super::*;

const DB: &str = "shop";

fn token(entries: &[(u32, u64)]) -> SessionToken {
    let mut t = SessionToken::default();
    for &(shard, lsn) in entries {
        t.observe(shard, Lsn(lsn));
    }
    t
}

#[test]
fn observe_keeps_the_latest_position_per_shard() {
    let mut t = SessionToken::default();
    assert!(t.is_empty());
    assert_eq!(t.required(0), None);
    t.observe(0, Lsn(200));
    t.observe(0, Lsn(100));
    t.observe(3, Lsn(50));
    t.observe(3, Lsn(70));
    assert_eq!(t.required(0), Some(Lsn(200)));
    assert_eq!(t.required(3), Some(Lsn(70)));
    assert_eq!(t.required(1), None);
}

#[test]
fn merge_keeps_the_max_per_shard() {
    let mut mine = token(&[(0, 500), (1, 100)]);
    mine.merge(&token(&[(0, 300), (1, 400), (2, 7)]));
    assert_eq!(mine, token(&[(0, 500), (1, 400), (2, 7)]));
    let before = mine.clone();
    mine.merge(&SessionToken::default());
    assert_eq!(mine, before);
}

#[test]
fn round_trips() {
    let cases = [
        token(&[]),
        token(&[(0, 0x16_B374_D848)]),
        token(&[(0, 1), (1, u64::MAX), (7, 42), (u32::MAX, 0x1_0000_0000)]),
        token(
            &(0..256)
                .map(|s| (s, u64::from(s) * 1_000_003))
                .collect::<Vec<_>>(),
        ),
    ];
    for t in cases {
        let text = t.encode(DB);
        assert!(text.starts_with("sw1."), "{text}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{text}"
        );
        assert_eq!(SessionToken::decode(&text, DB), Ok(t.clone()), "{text}");
        assert_eq!(SessionToken::decode(&format!("  {text}\n"), DB), Ok(t));
    }
}

#[test]
fn encoding_is_compact_and_deterministic() {
    let t = token(&[(0, 1), (1, 2)]);
    // 9 header + 2 × 12 entries + 4 checksum = 37 bytes → 50 base64 characters.
    assert_eq!(t.encode(DB).len(), "sw1.".len() + 50);
    assert_eq!(t.encode(DB), t.clone().encode(DB));
}

#[test]
fn refuses_what_is_not_a_token() {
    let cases = [
        "",
        "   ",
        "hello",
        "sw",
        "sw1",
        "swx.AAAA",
        "sw.AAAA",
        "SW1.AAAA",
        "16/B374D848",
        "sw99999999999.AAAA",
    ];
    for text in cases {
        assert_eq!(
            SessionToken::decode(text, DB),
            Err(TokenError::NotAToken),
            "{text:?}"
        );
    }
    let err = SessionToken::decode("garbage", DB).expect_err("garbage");
    assert!(
        err.to_string().starts_with("not a shardwire session token"),
        "{err}"
    );
}

#[test]
fn refuses_unknown_versions() {
    let v2 = token(&[(0, 1)]).encode(DB).replacen("sw1.", "sw2.", 1);
    let err = SessionToken::decode(&v2, DB).expect_err("v2");
    assert_eq!(err, TokenError::UnsupportedVersion(2));
    assert_eq!(err.to_string(), "unsupported session token version 2");
    assert_eq!(
        SessionToken::decode("sw0.", DB),
        Err(TokenError::UnsupportedVersion(0))
    );
}

#[test]
fn refuses_a_token_from_another_database() {
    let text = token(&[(0, 1)]).encode("shop");
    let err = SessionToken::decode(&text, "billing").expect_err("other db");
    assert_eq!(err, TokenError::OtherDatabase);
    assert_eq!(
        err.to_string(),
        "session token was made for another database"
    );
    assert_eq!(
        SessionToken::decode(&text, "Shop"),
        Err(TokenError::OtherDatabase)
    );
}

#[test]
fn refuses_every_single_mistyped_character() {
    let text = token(&[(0, 0x16_B374_D848), (1, 99)]).encode(DB);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for pos in "sw1.".len()..text.len() {
        for &c in alphabet {
            let mut bytes = text.clone().into_bytes();
            if bytes[pos] == c {
                continue;
            }
            bytes[pos] = c;
            let typo = String::from_utf8(bytes).expect("ascii");
            let result = SessionToken::decode(&typo, DB);
            assert!(
                matches!(result, Err(TokenError::Corrupted(_))),
                "{typo}: {result:?}"
            );
        }
    }
}

#[test]
fn refuses_corrupted_tokens() {
    let good = token(&[(0, 1), (1, 2)]).encode(DB);
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 5;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    let err = SessionToken::decode(&flipped, DB).expect_err("flipped");
    assert_eq!(err, TokenError::Corrupted("checksum mismatch"));
    assert_eq!(
        err.to_string(),
        "session token is corrupted (checksum mismatch)"
    );

    let cases = [
        ("sw1.", "truncated"),
        ("sw1.AAA", "truncated"),
        ("sw1.!!!!", "not base64url"),
        ("sw1.AAAA=", "not base64url"),
        (&good[..good.len() - 6], "checksum mismatch"),
        (&format!("sw1.{}", "A".repeat(MAX_TOKEN_LEN)), "too long"),
    ];
    for (text, detail) in cases {
        assert_eq!(
            SessionToken::decode(text, DB),
            Err(TokenError::Corrupted(detail)),
            "{text}"
        );
    }
}

/// Builds a version-1 token from raw body bytes with a valid checksum, to reach the
/// checks behind the checksum.
fn forge(body: &[u8]) -> String {
    let mut bytes = body.to_vec();
    bytes.extend_from_slice(&crc32(body).to_be_bytes());
    format!("sw1.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[test]
fn refuses_inconsistent_content_with_a_valid_checksum() {
    let db = crc32(DB.as_bytes()).to_be_bytes();
    let entry =
        |shard: u32, lsn: u64| [shard.to_be_bytes().to_vec(), lsn.to_be_bytes().to_vec()].concat();
    let body = |version: u8, count: u32, entries: &[Vec<u8>]| {
        [
            vec![version],
            db.to_vec(),
            count.to_be_bytes().to_vec(),
            entries.concat(),
        ]
        .concat()
    };
    let cases = [
        (forge(&body(2, 0, &[])), "version mismatch"),
        (forge(&body(1, 2, &[entry(0, 1)])), "wrong length"),
        (forge(&body(1, 0, &[entry(0, 1)])), "wrong length"),
        (forge(&body(1, u32::MAX, &[])), "wrong length"),
        (
            forge(&body(1, 2, &[entry(1, 1), entry(0, 1)])),
            "shards out of order",
        ),
        (
            forge(&body(1, 2, &[entry(1, 1), entry(1, 2)])),
            "shards out of order",
        ),
        (forge(&[1, 0, 0]), "truncated"),
    ];
    for (text, detail) in cases {
        assert_eq!(
            SessionToken::decode(&text, DB),
            Err(TokenError::Corrupted(detail)),
            "{detail}"
        );
    }
    assert_eq!(
        SessionToken::decode(&forge(&body(1, 1, &[entry(4, 9)])), DB),
        Ok(token(&[(4, 9)]))
    );
}

#[test]
fn crc32_matches_the_standard() {
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}
