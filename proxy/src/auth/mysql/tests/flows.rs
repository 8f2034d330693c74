//! Whole logins: each plugin's proof, the plugin switch, full authentication over TLS
//! and over RSA, for clear-text and SCRAM-verifier users.

use super::*;

#[test]
fn native_password_accepts_mysql_common_scramble() {
    for password in PASSWORDS {
        let creds = MysqlCredentials::from_password(password);
        let (end, sent) = login(&creds, Native, &Client::new(password, Native));
        assert_eq!(end, success(), "{password:?}");
        assert!(sent.is_empty());
    }
}

#[test]
fn caching_sha2_fast_path_accepts_mysql_common_scramble() {
    for password in PASSWORDS {
        let creds = MysqlCredentials::from_password(password);
        let (end, sent) = login(&creds, Sha2, &Client::new(password, Sha2));
        assert_eq!(end, fast_success(), "{password:?}");
        assert!(sent.is_empty());
    }
}

#[test]
fn wrong_password_fails_on_both_plugins() {
    for plugin in MysqlPlugin::ALL {
        let creds = MysqlCredentials::from_password("right");
        for guess in ["wrong", "Right", "right ", ""] {
            let salt = Salt::random();
            let mut server = MysqlAuthExchange::new(creds.clone(), plugin, salt);
            let (end, _) = Client::new(guess, plugin).login(&mut server, &salt);
            assert_eq!(end, wrong_password(), "{plugin} {guess:?}");
            assert_eq!(server.password_used(), !guess.is_empty());
        }
    }
}

#[test]
fn empty_password_needs_an_empty_response() {
    let creds = MysqlCredentials::from_password("");
    for plugin in MysqlPlugin::ALL {
        // Clients send nothing for an empty password; no 0x03 byte before the OK.
        let (end, _) = login(&creds, plugin, &Client::new("", plugin));
        assert_eq!(end, success(), "{plugin}");
        let (end, _) = login(&creds, plugin, &Client::new("x", plugin));
        assert_eq!(end, wrong_password(), "{plugin}");
        let salt = Salt::random();
        let mut server = MysqlAuthExchange::new(creds.clone(), plugin, salt);
        assert_eq!(
            server.on_handshake_response(plugin.name(), b"\0", false),
            success()
        );
        assert!(!server.password_used());
    }
}

#[test]
fn scram_only_user_logs_in_with_rsa_full_authentication() {
    let creds = MysqlCredentials::from_verifier(verifier("pässwörd"));
    let (end, sent) = login(&creds, Sha2, &Client::new("pässwörd", Sha2));
    assert_eq!(end, success());
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0],
        AuthStep::MoreData(vec![PERFORM_FULL_AUTHENTICATION])
    );
    assert_eq!(
        sent[1],
        AuthStep::MoreData(keys().public_key_pem().as_bytes().to_vec())
    );
    assert!(keys()
        .public_key_pem()
        .starts_with("-----BEGIN PUBLIC KEY-----\n"));

    let (end, _) = login(&creds, Sha2, &Client::new("password", Sha2));
    assert_eq!(end, wrong_password());
}

#[test]
fn client_that_knows_the_key_sends_the_ciphertext_at_once() {
    let creds = MysqlCredentials::from_verifier(verifier("pw"));
    let mut client = Client::new("pw", Sha2);
    client.known_key = Some(keys().public_key_pem().to_owned());
    let (end, sent) = login(&creds, Sha2, &client);
    assert_eq!(end, success());
    assert_eq!(
        sent,
        [AuthStep::MoreData(vec![PERFORM_FULL_AUTHENTICATION])]
    );
}

#[test]
fn full_authentication_checks_plaintext_users_too() {
    for password in PASSWORDS {
        let creds = MysqlCredentials::from_password(password);
        assert_eq!(creds.verify_plaintext(password.as_bytes()), Ok(()));
        assert_eq!(
            creds.verify_plaintext(b"nope"),
            Err(AuthError::WrongPassword)
        );
    }
    let empty = MysqlCredentials::from_password("");
    assert_eq!(empty.verify_plaintext(b""), Ok(()));
    assert_eq!(empty.verify_plaintext(b"x"), Err(AuthError::WrongPassword));
    let scram = MysqlCredentials::from_verifier(verifier("pw"));
    assert_eq!(
        scram.verify_plaintext(b"\xff\xfe"),
        Err(AuthError::WrongPassword)
    );
}

#[test]
fn clear_text_password_only_over_tls() {
    let creds = MysqlCredentials::from_verifier(verifier("pw"));
    let mut client = Client::new("pw", Sha2);
    client.secure = true;
    let (end, sent) = login(&creds, Sha2, &client);
    assert_eq!(end, success());
    assert_eq!(
        sent,
        [AuthStep::MoreData(vec![PERFORM_FULL_AUTHENTICATION])]
    );

    // The same bytes without TLS are refused, not read as a password.
    for secure in [true, false] {
        let salt = Salt::random();
        let mut server = MysqlAuthExchange::new(creds.clone(), Sha2, salt).with_rsa_keys(keys());
        let first = scramble_sha256(salt.as_bytes(), b"pw").map(Vec::from);
        let step = server.on_handshake_response(Sha2.name(), &first.unwrap_or_default(), secure);
        assert_eq!(step, AuthStep::MoreData(vec![PERFORM_FULL_AUTHENTICATION]));
        let end = server.on_response(b"pw\0", secure);
        if secure {
            assert_eq!(end, success());
        } else {
            assert!(is_protocol_failure(&end), "{end:?}");
        }
    }
}

#[test]
fn full_authentication_without_tls_or_key_fails_cleanly() {
    let creds = MysqlCredentials::from_verifier(verifier("pw"));
    let salt = Salt::random();
    let mut server = MysqlAuthExchange::new(creds, Sha2, salt);
    let (end, _) = Client::new("pw", Sha2).login(&mut server, &salt);
    assert!(is_protocol_failure(&end), "{end:?}");
}

#[test]
fn other_plugin_is_switched_with_the_same_salt() {
    let creds = MysqlCredentials::from_password("pw");
    for (configured, client_plugin) in [(Native, Sha2), (Sha2, Native)] {
        let (end, sent) = login(&creds, configured, &Client::new("pw", client_plugin));
        assert_eq!(sent.len(), 1);
        assert!(matches!(
            &sent[0],
            AuthStep::SwitchPlugin { plugin, data } if *plugin == configured && data.len() == 21
        ));
        let expected = if configured == Sha2 {
            fast_success()
        } else {
            success()
        };
        assert_eq!(end, expected);
    }
}

#[test]
fn switch_request_carries_the_handshake_salt() {
    let salt = Salt::random();
    let mut server = MysqlAuthExchange::new(MysqlCredentials::from_password("pw"), Native, salt);
    let step = server.on_handshake_response("auth_gssapi_client", b"\x01\x02", false);
    let mut expected = salt.as_bytes().to_vec();
    expected.push(0);
    assert_eq!(
        step,
        AuthStep::SwitchPlugin {
            plugin: Native,
            data: expected
        }
    );
    let response = scramble_native(salt.as_bytes(), b"pw").map(Vec::from);
    assert_eq!(
        server.on_response(&response.unwrap_or_default(), false),
        success()
    );
}

#[test]
fn unknown_and_missing_client_plugins() {
    let creds = MysqlCredentials::from_password("pw");
    let mut client = Client::new("pw", Native);
    client.plugin = "client_ed25519";
    let (end, sent) = login(&creds, Sha2, &client);
    assert_eq!((end, sent.len()), (fast_success(), 1));

    // No plugin name: the client predates CLIENT_PLUGIN_AUTH and speaks native.
    client.plugin = "";
    let salt = Salt::random();
    let mut server = MysqlAuthExchange::new(creds, Native, salt);
    let response = scramble_native(salt.as_bytes(), b"pw").map(Vec::from);
    assert_eq!(
        server.on_handshake_response("", &response.unwrap_or_default(), false),
        success()
    );
}

#[test]
fn scram_only_user_configured_native_is_served_caching_sha2() {
    let creds = MysqlCredentials::from_verifier(verifier("pw"));
    assert!(!creds.supports(Native) && creds.supports(Sha2));
    let server = MysqlAuthExchange::new(creds.clone(), Native, Salt::random());
    assert_eq!(server.plugin(), Sha2);

    let (end, sent) = login(&creds, Native, &Client::new("pw", Native));
    assert_eq!(end, success());
    assert!(matches!(
        sent[0],
        AuthStep::SwitchPlugin { plugin: Sha2, .. }
    ));
    assert_eq!(sent.len(), 3); // switch, 0x04, public key
}

#[test]
fn mock_credentials_fail_like_a_wrong_password() {
    for plugin in MysqlPlugin::ALL {
        for password in ["", "pw"] {
            let (end, _) = login(
                &MysqlCredentials::mock(),
                plugin,
                &Client::new(password, plugin),
            );
            assert_eq!(end, wrong_password());
        }
    }
}
