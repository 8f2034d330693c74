//! The building blocks on their own: credentials from the configuration, salts, RSA
//! keys from PEM, and `Debug` output without secrets.

use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use shardwire_conf::User;

use super::*;
use crate::auth::Credentials;

#[test]
fn credentials_from_config_users_and_pg_credentials() {
    let user = |password: Option<&str>, scram: Option<String>| User {
        name: "app".to_owned(),
        password: password.map(str::to_owned),
        scram_sha256: scram,
        admin: false,
        read_consistency: None,
        mysql_auth: shardwire_conf::MysqlAuth::NativePassword,
        require_tls: false,
        max_connections: None,
    };
    let plain = mysql_credentials_for(&user(Some("pw"), None)).expect("password user");
    assert_eq!(plain, MysqlCredentials::from_password("pw"));
    let scram = mysql_credentials_for(&user(None, Some(verifier("pw").encode()))).expect("scram");
    assert_eq!(scram, MysqlCredentials::from_verifier(verifier("pw")));
    for bad in [
        user(None, None),
        user(Some("pw"), Some(verifier("pw").encode())),
        user(None, Some("SCRAM-SHA-256$nonsense".to_owned())),
    ] {
        assert!(matches!(
            mysql_credentials_for(&bad),
            Err(AuthError::InvalidCredentials { .. })
        ));
    }

    assert_eq!(
        MysqlCredentials::from_credentials(&Credentials::from_password("pw")),
        plain
    );
    assert_eq!(
        MysqlCredentials::from_credentials(&Credentials::from_verifier(verifier("pw"))),
        scram
    );
    assert_eq!(
        MysqlPlugin::from(shardwire_conf::MysqlAuth::CachingSha2Password),
        Sha2
    );
}

#[test]
fn salts_are_random_printable_ascii_without_dollar() {
    let a = Salt::random();
    assert_ne!(a, Salt::random());
    for _ in 0..200 {
        let salt = Salt::random();
        assert!(salt
            .as_bytes()
            .iter()
            .all(|&b| (1..=127).contains(&b) && b != b'$'));
        assert_eq!(Salt::from_bytes(*salt.as_bytes()), Some(salt));
    }
    for bad in [0u8, b'$', 128, 255] {
        let mut bytes = [b'a'; SALT_LEN];
        bytes[7] = bad;
        assert_eq!(Salt::from_bytes(bytes), None);
    }
    assert_eq!(a.with_nul().len(), SALT_LEN + 1);
}

#[test]
fn rsa_keys_load_from_pem() {
    let keys = keys();
    let pkcs8 = keys
        .private_key()
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 export");
    let pkcs1 = keys
        .private_key()
        .to_pkcs1_pem(LineEnding::LF)
        .expect("PKCS#1 export");
    for pem in [pkcs8.as_str(), pkcs1.as_str()] {
        let loaded = RsaKeys::from_private_key_pem(pem).expect("loads");
        assert_eq!(loaded.public_key_pem(), keys.public_key_pem());
        assert_eq!(loaded.ciphertext_len(), RSA_BITS / 8);
    }
    assert!(matches!(
        RsaKeys::from_private_key_pem("-----BEGIN PRIVATE KEY-----\ngarbage\n"),
        Err(RsaKeyError::Parse(_))
    ));
    assert!(RsaKeys::set_global(keys.clone()).is_err());
    assert!(RsaKeys::try_global().is_some());
}

#[test]
fn debug_output_hides_secrets() {
    let creds = MysqlCredentials::from_password("hunter2");
    let server = MysqlAuthExchange::new(creds.clone(), Sha2, Salt::random()).with_rsa_keys(keys());
    let shown = format!("{creds:?} {server:?} {:?}", keys());
    assert!(!shown.contains("hunter2"));
    assert!(!shown.contains("BEGIN"));
    let native = hash::sha1(&[&hash::sha1(&[b"hunter2"])]);
    let sha2 = hash::sha256(&[&hash::sha256(&[b"hunter2"])]);
    for bytes in [&native[..], &sha2[..]] {
        let list = format!("{bytes:?}");
        assert!(!shown.contains(list.trim_matches(|c| c == '[' || c == ']')));
    }
    assert!(shown.contains("bits: 2048"));
}
