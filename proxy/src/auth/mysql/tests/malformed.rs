//! Hostile or broken clients: wrong lengths, garbage RSA blobs, packets out of order and
//! random bytes end in a failure, never a panic.

use super::*;

#[test]
fn malformed_responses_fail_without_panicking() {
    let plain = MysqlCredentials::from_password("pw");
    for (plugin, len) in [
        (Native, 19),
        (Native, 21),
        (Native, 32),
        (Sha2, 20),
        (Sha2, 33),
    ] {
        let mut server = MysqlAuthExchange::new(plain.clone(), plugin, Salt::random());
        let step = server.on_handshake_response(plugin.name(), &vec![7; len], false);
        assert!(is_protocol_failure(&step), "{plugin} {len}: {step:?}");
    }

    // Bad RSA blobs after the public key: wrong length, garbage of the right length,
    // a password without its NUL, a password XORed with another salt.
    let creds = MysqlCredentials::from_verifier(verifier("pw"));
    let salt = Salt::random();
    let other_salt = Salt::random();
    let pem = keys().public_key_pem().to_owned();
    let no_nul: Vec<u8> = b"pw"
        .iter()
        .zip(salt.as_bytes())
        .map(|(a, b)| a ^ b)
        .collect();
    let blobs = [
        Vec::new(),
        vec![1; 255],
        vec![1; 257],
        vec![0xAB; 256],
        vec![0; 256],
        vec![0xFF; 256],
        encrypt(&no_nul, pem.as_bytes()),
        Client::new("pw", Sha2).encrypted_password(&other_salt, &pem),
    ];
    for blob in blobs {
        let mut server = MysqlAuthExchange::new(creds.clone(), Sha2, salt).with_rsa_keys(keys());
        let first = scramble_sha256(salt.as_bytes(), b"pw").map(Vec::from);
        server.on_handshake_response(Sha2.name(), &first.unwrap_or_default(), false);
        assert_eq!(
            server.on_response(&[REQUEST_PUBLIC_KEY], false),
            AuthStep::MoreData(pem.as_bytes().to_vec())
        );
        let end = server.on_response(&blob, false);
        assert!(matches!(end, AuthStep::Failure(_)), "{end:?}");
    }
}

#[test]
fn packets_out_of_order_fail() {
    let mut server =
        MysqlAuthExchange::new(MysqlCredentials::from_password(""), Native, Salt::random());
    assert!(is_protocol_failure(&server.on_response(b"", false)));

    let mut server =
        MysqlAuthExchange::new(MysqlCredentials::from_password(""), Native, Salt::random());
    assert_eq!(
        server.on_handshake_response(Native.name(), b"", false),
        success()
    );
    assert!(is_protocol_failure(&server.on_response(b"", false)));
    assert!(is_protocol_failure(&server.on_handshake_response(
        Native.name(),
        b"",
        false
    )));
}

#[test]
fn random_client_bytes_never_panic() {
    let creds = [
        MysqlCredentials::from_password("pw"),
        MysqlCredentials::from_password(""),
        MysqlCredentials::from_verifier(verifier("pw")),
    ];
    let mut rng = rand::rng();
    for round in 0..300usize {
        let plugin = MysqlPlugin::ALL[round % 2];
        let secure = round % 3 == 0;
        let mut server = MysqlAuthExchange::new(creds[round % 3].clone(), plugin, Salt::random())
            .with_rsa_keys(keys());
        let client_plugin = ["", "mysql_native_password", "caching_sha2_password", "x"][round % 4];
        let mut data = vec![0u8; round % 300];
        rand::Rng::fill_bytes(&mut rng, &mut data);
        server.on_handshake_response(client_plugin, &data, secure);
        for len in [0, 1, 20, 32, 256] {
            let mut data = vec![0u8; len];
            rand::Rng::fill_bytes(&mut rng, &mut data);
            server.on_response(&data, secure);
        }
    }
}
