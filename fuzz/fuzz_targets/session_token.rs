//! `SET shardwire.session_token = '…'`: decoding arbitrary text never panics, and a token
//! that decodes survives an encode/decode round trip unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shardwire::consistency::{Lsn, SessionToken};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for database in ["app", ""] {
        if let Ok(token) = SessionToken::decode(text, database) {
            let again = SessionToken::decode(&token.encode(database), database);
            assert_eq!(again.as_ref(), Ok(&token), "round trip");
            let mut merged = SessionToken::default();
            merged.observe(0, Lsn(1));
            merged.merge(&token);
            assert!(token
                .positions
                .keys()
                .all(|s| merged.required(*s).is_some()));
        }
    }
    // Tokens built from the bytes always decode to themselves.
    let mut token = SessionToken::default();
    for chunk in data.chunks_exact(12) {
        let shard = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut lsn = [0u8; 8];
        lsn.copy_from_slice(&chunk[4..]);
        token.observe(shard, Lsn(u64::from_be_bytes(lsn)));
    }
    let text = token.encode("app");
    assert_eq!(SessionToken::decode(&text, "app"), Ok(token));
});
