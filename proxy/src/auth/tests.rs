//! The server side against a reference client: full exchanges with the SCRAM and md5
//! client code of `postgres-protocol` (what tokio-postgres uses), plus credential loading.

use bytes::BytesMut;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use postgres_protocol::message::frontend;
use shardwire_conf::User;

use super::md5::{md5_response, md5_salt};
use super::sasl::{check_mechanism, parse_initial_response, SCRAM_SHA_256, SCRAM_SHA_256_PLUS};
use super::*;

/// `SCRAM-SHA-256` verifier of the password "app", as stored by PostgreSQL 15
/// (`CREATE ROLE … PASSWORD 'app'` with `password_encryption = 'scram-sha-256'`).
const POSTGRES_VERIFIER_OF_APP: &str = "SCRAM-SHA-256$4096:dc2p6k2y4nLutbFTLdWllg==\
$zkECMWC0AQmReMyaPVfGreaJAna6aY+7hqLkP6Fyyxo=:gRMqPUj2IKMKsmHQQCZe1umN29n4u0c5CA0Bf0IASiI=";

/// Runs a whole exchange: the postgres-protocol client with `password` against a
/// `ScramServer` holding `verifier`. The client's first message travels inside a real
/// `SASLInitialResponse` so the framing helpers are exercised too.
fn scram_login(
    verifier: &ScramVerifier,
    password: &str,
    binding: ChannelBinding,
) -> Result<(), AuthError> {
    scram_exchange(verifier, password, SCRAM_SHA_256, binding, None)
}

/// [`scram_login`] with the mechanism the client selects, and the server's channel
/// binding data when the connection is TLS (PLUS offered).
fn scram_exchange(
    verifier: &ScramVerifier,
    password: &str,
    mechanism: &str,
    binding: ChannelBinding,
    server_binding: Option<&[u8]>,
) -> Result<(), AuthError> {
    let mut client = ScramSha256::new(password.as_bytes(), binding);
    let mut server = ScramServer::new(verifier.clone(), &mut rand::rng());

    let mut buf = BytesMut::new();
    frontend::sasl_initial_response(mechanism, client.message(), &mut buf).unwrap();
    let payload = &buf[5..]; // tag 'p' and int32 length
    let (mechanism, data) = parse_initial_response(payload)?;
    let plus = check_mechanism(mechanism, server_binding.is_some())?;
    if let Some(data) = server_binding {
        server = server.with_channel_binding(data.to_vec(), plus);
    }
    let server_first = server.client_first(data.unwrap_or_default())?;

    client
        .update(&server_first)
        .expect("client accepts server-first");
    let server_final = server.client_final(client.message())?;
    client
        .finish(&server_final)
        .expect("client verifies the server signature");
    assert!(server.is_authenticated());
    Ok(())
}

fn user(name: &str, password: Option<&str>, scram: Option<&str>) -> User {
    User {
        name: name.to_owned(),
        password: password.map(str::to_owned),
        scram_sha256: scram.map(str::to_owned),
        admin: false,
        read_consistency: None,
        mysql_auth: shardwire_conf::MysqlAuth::NativePassword,
        require_tls: false,
        max_connections: None,
    }
}

#[test]
fn scram_login_succeeds_with_verifier_derived_from_password() {
    let verifier = ScramVerifier::with_random_salt("s3cr3t pass");
    scram_login(&verifier, "s3cr3t pass", ChannelBinding::unrequested()).unwrap();
    scram_login(&verifier, "s3cr3t pass", ChannelBinding::unsupported()).unwrap();
    assert_eq!(
        scram_login(&verifier, "s3cr3t pasS", ChannelBinding::unrequested()),
        Err(AuthError::WrongPassword)
    );
    assert_eq!(
        scram_login(&verifier, "", ChannelBinding::unsupported()),
        Err(AuthError::WrongPassword)
    );
}

#[test]
fn scram_login_succeeds_with_verifier_stored_by_postgres() {
    let verifier = ScramVerifier::parse(POSTGRES_VERIFIER_OF_APP).unwrap();
    assert_eq!(verifier.iterations(), 4096);
    assert_eq!(verifier.encode(), POSTGRES_VERIFIER_OF_APP);
    scram_login(&verifier, "app", ChannelBinding::unrequested()).unwrap();
    assert_eq!(
        scram_login(&verifier, "ap", ChannelBinding::unrequested()),
        Err(AuthError::WrongPassword)
    );
}

#[test]
fn verifier_from_postgres_protocol_parses_and_authenticates() {
    let stored = postgres_protocol::password::scram_sha_256(b"secret");
    let verifier = ScramVerifier::parse(&stored).unwrap();
    scram_login(&verifier, "secret", ChannelBinding::unsupported()).unwrap();
    assert_eq!(
        scram_login(&verifier, "Secret", ChannelBinding::unsupported()),
        Err(AuthError::WrongPassword)
    );
}

#[test]
fn derived_verifier_equals_the_one_postgres_protocol_computes_for_the_same_salt() {
    let stored = postgres_protocol::password::scram_sha_256(b"pencil");
    let theirs = ScramVerifier::parse(&stored).unwrap();
    let ours = ScramVerifier::from_password("pencil", theirs.salt(), theirs.iterations());
    assert_eq!(ours, theirs);
}

#[test]
fn client_requesting_channel_binding_is_refused() {
    let verifier = ScramVerifier::from_password("pw", b"salt", 16);
    let result = scram_login(
        &verifier,
        "pw",
        ChannelBinding::tls_server_end_point(vec![1, 2, 3]),
    );
    assert!(
        matches!(result, Err(AuthError::ChannelBindingUnsupported(_))),
        "{result:?}"
    );
}

#[test]
fn scram_sha_256_plus_binds_to_the_certificate_hash() {
    let verifier = ScramVerifier::from_password("pw", b"salt", 16);
    let cert_hash = vec![7u8; 32];
    let bound = |client_data: Vec<u8>| {
        scram_exchange(
            &verifier,
            "pw",
            SCRAM_SHA_256_PLUS,
            ChannelBinding::tls_server_end_point(client_data),
            Some(&cert_hash),
        )
    };
    bound(cert_hash.clone()).unwrap();
    // A client that saw another certificate (a man in the middle) fails.
    assert!(
        matches!(bound(vec![8u8; 32]), Err(AuthError::Protocol(_))),
        "binding mismatch"
    );
    // Without PLUS over TLS: "n" (`unsupported`) is fine, "y" (`unrequested`: the client
    // could bind but saw no offer) means someone stripped PLUS from the offer.
    let plain = |binding| scram_exchange(&verifier, "pw", SCRAM_SHA_256, binding, Some(&cert_hash));
    plain(ChannelBinding::unsupported()).unwrap();
    assert!(
        matches!(
            plain(ChannelBinding::unrequested()),
            Err(AuthError::Protocol(_))
        ),
        "downgrade refused"
    );
    // Binding data under plain SCRAM-SHA-256, and PLUS without binding, are refused.
    assert!(plain(ChannelBinding::tls_server_end_point(cert_hash.clone())).is_err());
    assert!(scram_exchange(
        &verifier,
        "pw",
        SCRAM_SHA_256_PLUS,
        ChannelBinding::unsupported(),
        Some(&cert_hash)
    )
    .is_err());
}

#[test]
fn mock_verifier_rejects_every_password() {
    let verifier = ScramVerifier::mock("nobody", b"process secret");
    for password in ["", "nobody", "process secret"] {
        assert_eq!(
            scram_login(&verifier, password, ChannelBinding::unrequested()),
            Err(AuthError::WrongPassword)
        );
    }
}

#[test]
fn md5_matches_postgres_protocol_client() {
    let salt = md5_salt(&mut rand::rng());
    for (name, password) in [("app", "app"), ("md5_user", "password"), ("ü", "päss")] {
        let theirs = md5_hash(name.as_bytes(), password.as_bytes(), salt);
        assert_eq!(md5_response(name, password, salt), theirs);
        let creds = credentials_for(&user(name, Some(password), None)).unwrap();
        assert_eq!(creds.verify_md5(name, salt, theirs.as_bytes()), Ok(()));
        assert_eq!(
            creds.verify_md5(
                name,
                salt,
                md5_hash(b"x", password.as_bytes(), salt).as_bytes()
            ),
            Err(AuthError::WrongPassword)
        );
    }
}

#[test]
fn password_user_can_use_scram_and_md5() {
    let creds = credentials_for(&user("app", Some("app"), None)).unwrap();
    assert!(creds.supports(AuthMethod::ScramSha256));
    assert!(creds.supports(AuthMethod::Md5));
    scram_login(creds.scram_verifier(), "app", ChannelBinding::unrequested()).unwrap();
    assert!(!format!("{creds:?}").contains("app"));
}

#[test]
fn scram_only_user_cannot_use_md5() {
    let creds = credentials_for(&user("app", None, Some(POSTGRES_VERIFIER_OF_APP))).unwrap();
    assert!(creds.supports(AuthMethod::ScramSha256));
    assert!(!creds.supports(AuthMethod::Md5));
    let answer = md5_response("app", "app", [0; 4]);
    assert_eq!(
        creds.verify_md5("app", [0; 4], answer.as_bytes()),
        Err(AuthError::MethodUnavailable(AuthMethod::Md5))
    );
    scram_login(creds.scram_verifier(), "app", ChannelBinding::unrequested()).unwrap();
}

#[test]
fn unusable_user_entries_are_reported_with_the_user_name() {
    let cases = [
        user("a", None, None),
        user("a", Some("pw"), Some(POSTGRES_VERIFIER_OF_APP)),
        user("a", None, Some("SCRAM-SHA-256$4096:c2FsdA==$short:short")),
        user("a", None, Some("app")),
    ];
    for case in cases {
        match credentials_for(&case) {
            Err(e @ AuthError::InvalidCredentials { .. }) => {
                assert!(e.to_string().starts_with("user \"a\": "), "{e}")
            }
            other => panic!("{case:?} gave {other:?}"),
        }
    }
}
