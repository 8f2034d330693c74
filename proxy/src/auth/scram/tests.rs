//! Unit tests of the SCRAM server state machine: the RFC 7677 example exchange byte for
//! byte, and every way a client message can be wrong.

use std::sync::OnceLock;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

const RFC_SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
const RFC_SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const RFC_CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const RFC_SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC_CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC_SERVER_FINAL: &[u8] = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/// The RFC's verifier for `password`, derived once per password (4096 HMACs each).
fn rfc_verifier(password: &str) -> ScramVerifier {
    static PENCIL: OnceLock<ScramVerifier> = OnceLock::new();
    let derive = || {
        let salt = STANDARD.decode(RFC_SALT).unwrap();
        ScramVerifier::from_password(password, &salt, 4096)
    };
    match password {
        "pencil" => PENCIL.get_or_init(derive).clone(),
        _ => derive(),
    }
}

fn rfc_server(password: &str) -> ScramServer {
    ScramServer::with_server_nonce(rfc_verifier(password), RFC_SERVER_NONCE.to_owned())
}

/// A server that has accepted the RFC client-first-message, awaiting the final one.
fn rfc_server_after_first() -> ScramServer {
    let mut server = rfc_server("pencil");
    server.client_first(RFC_CLIENT_FIRST).unwrap();
    server
}

fn assert_protocol_error(result: Result<Vec<u8>, AuthError>, input: &[u8]) {
    match result {
        Err(AuthError::Protocol(what)) => assert!(what.starts_with("SCRAM: "), "{what}"),
        other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn rfc7677_example_exchange_is_reproduced_byte_for_byte() {
    let mut server = rfc_server("pencil");
    assert_eq!(
        server.client_first(RFC_CLIENT_FIRST).unwrap(),
        RFC_SERVER_FIRST
    );
    assert!(!server.is_authenticated());
    assert_eq!(
        server.client_final(RFC_CLIENT_FINAL).unwrap(),
        RFC_SERVER_FINAL
    );
    assert!(server.is_authenticated());
}

#[test]
fn rfc7677_proof_for_another_password_is_wrong_password() {
    let mut server = rfc_server("pencils");
    server.client_first(RFC_CLIENT_FIRST).unwrap();
    assert_eq!(
        server.client_final(RFC_CLIENT_FINAL),
        Err(AuthError::WrongPassword)
    );
    assert!(!server.is_authenticated());
}

#[test]
fn client_first_with_y_flag_and_extensions_is_accepted() {
    let mut server = rfc_server("pencil");
    let reply = server.client_first(b"y,,n=,r=abc,x=ext").unwrap();
    assert!(reply.starts_with(b"r=abc%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s="));
}

#[test]
fn channel_binding_request_is_rejected_clearly() {
    let mut server = rfc_server("pencil");
    let err = server
        .client_first(b"p=tls-server-end-point,,n=,r=abc")
        .unwrap_err();
    assert!(
        matches!(err, AuthError::ChannelBindingUnsupported(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("tls-server-end-point"), "{err}");
}

#[test]
fn new_draws_a_fresh_base64_server_nonce() {
    let verifier = ScramVerifier::from_password("pw", b"salt", 1);
    let mut rng = StdRng::seed_from_u64(7);
    let a = ScramServer::new(verifier.clone(), &mut rng);
    let b = ScramServer::new(verifier, &mut rng);
    assert_eq!(a.server_nonce.len(), 24);
    assert_ne!(a.server_nonce, b.server_nonce);
    assert!(printable(a.server_nonce.as_bytes()).is_some());
}

#[test]
fn malformed_client_first_messages_are_protocol_errors() {
    let cases: &[&[u8]] = &[
        b"",
        b"n",
        b"n,",
        b"n,,",
        b"x,,n=,r=abc",
        b"n,a=admin,n=,r=abc",
        b"n,,m=ext,n=,r=abc",
        b"n,,r=abc",
        b"n,,n=user",
        b"n,,n=user,",
        b"n,,n=user,r=",
        b"n,,n=user,s=abc",
        b"n,,n=user,r=ab c",
        b"n,,n=user,r=\xc3\xa9",
        b"n,,n=user,r=abc,",
        b"n,,n=user,r=abc,=x",
        b"n,,n=user\0,r=abc",
        b"\xff\xfe\xfd",
    ];
    for &case in cases {
        assert_protocol_error(rfc_server("pencil").client_first(case), case);
    }
}

#[test]
fn malformed_client_final_messages_are_protocol_errors() {
    let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    let cases = [
        String::new(),
        "c=biws".to_owned(),
        format!("c=biws,r={nonce}"),
        format!("r={nonce},c=biws,p={proof}"),
        format!("c=eSws,r={nonce},p={proof}"),
        format!("c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r={nonce},p={proof}"),
        format!("c=b!ws,r={nonce},p={proof}"),
        format!("c=biws,r={nonce}x,p={proof}"),
        format!("c=biws,r=rOprNGfwEbeRWgbNEkqO,p={proof}"),
        format!("c=biws,r={nonce},p=dHzbZapWIk4jUhN+Ute9"),
        format!("c=biws,r={nonce},p=not base64!"),
        format!("c=biws,r={nonce},p={proof},x=after"),
        format!("c=biws,r={nonce},,p={proof}"),
        format!("c=biws,r={nonce},p={proof}\0"),
    ];
    for case in cases {
        let result = rfc_server_after_first().client_final(case.as_bytes());
        assert_protocol_error(result, case.as_bytes());
    }
}

#[test]
fn extensions_before_the_proof_are_skipped_but_signed() {
    // An extension changes AuthMessage, so the RFC proof no longer verifies.
    let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    let msg = format!("c=biws,r={nonce},x=ext,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    let result = rfc_server_after_first().client_final(msg.as_bytes());
    assert_eq!(result, Err(AuthError::WrongPassword));
}

#[test]
fn messages_out_of_order_are_protocol_errors() {
    let mut server = rfc_server("pencil");
    assert_protocol_error(server.client_final(RFC_CLIENT_FINAL), RFC_CLIENT_FINAL);

    let mut server = rfc_server_after_first();
    assert_protocol_error(server.client_first(RFC_CLIENT_FIRST), RFC_CLIENT_FIRST);
    assert_protocol_error(server.client_final(RFC_CLIENT_FINAL), RFC_CLIENT_FINAL);

    let mut server = rfc_server_after_first();
    server.client_final(RFC_CLIENT_FINAL).unwrap();
    assert_protocol_error(server.client_final(RFC_CLIENT_FINAL), RFC_CLIENT_FINAL);
    assert!(!server.is_authenticated());
}

#[test]
fn a_failed_exchange_cannot_be_resumed() {
    let mut server = rfc_server("pencil");
    assert!(server.client_first(b"garbage").is_err());
    assert_protocol_error(server.client_first(RFC_CLIENT_FIRST), RFC_CLIENT_FIRST);
}

#[test]
fn truncated_and_random_messages_never_panic() {
    for end in 0..RFC_CLIENT_FIRST.len() {
        let _ = rfc_server("pencil").client_first(&RFC_CLIENT_FIRST[..end]);
    }
    for end in 0..RFC_CLIENT_FINAL.len() {
        let result = rfc_server_after_first().client_final(&RFC_CLIENT_FINAL[..end]);
        assert!(result.is_err(), "prefix of {end} bytes was accepted");
    }
    let mut rng = StdRng::seed_from_u64(42);
    let alphabet = b"nypcrsmax=,,,\0\xff0aZ+/";
    for _ in 0..2000 {
        let len = (rng.next_u32() % 40) as usize;
        let noise: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.next_u32() as usize % alphabet.len()])
            .collect();
        let mut server = rfc_server_after_first();
        assert!(server.client_final(&noise).is_err());
        let mut server = rfc_server("pencil");
        if server.client_first(&noise).is_ok() {
            assert!(server.client_final(&noise).is_err());
        }
    }
}
