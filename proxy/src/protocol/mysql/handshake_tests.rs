//! Tests of the connection-phase packets against `mysql_common`'s serializers and
//! deserializers, and over every truncation.

use super::*;
use crate::protocol::mysql::consts::{charset, plugin, status};
use crate::protocol::mysql::packet::split_all;
use mysql_common::constants::{CapabilityFlags, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{AuthPlugin, HandshakePacket, SslRequest};
use mysql_common::proto::MySerialize;
use std::collections::HashMap;

const SERVER_CAPS: u32 = cap::LONG_PASSWORD
    | cap::FOUND_ROWS
    | cap::LONG_FLAG
    | cap::CONNECT_WITH_DB
    | cap::PROTOCOL_41
    | cap::TRANSACTIONS
    | cap::SECURE_CONNECTION
    | cap::MULTI_STATEMENTS
    | cap::MULTI_RESULTS
    | cap::PS_MULTI_RESULTS
    | cap::PLUGIN_AUTH
    | cap::CONNECT_ATTRS
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | cap::SESSION_TRACK
    | cap::DEPRECATE_EOF;

fn salt() -> [u8; SALT_LEN] {
    std::array::from_fn(|i| i as u8 + 1)
}

fn greeting() -> Greeting<'static> {
    Greeting {
        server_version: b"10.11.99-shardwire",
        connection_id: 0xABCD,
        salt: salt(),
        capabilities: SERVER_CAPS,
        charset: charset::UTF8MB4_GENERAL_CI,
        status: status::AUTOCOMMIT,
        mariadb_capabilities: 0,
        auth_plugin: plugin::MYSQL_NATIVE_PASSWORD.as_bytes(),
    }
}

#[test]
fn greeting_round_trips_and_mysql_common_reads_it() {
    let g = greeting();
    let mut out = BytesMut::new();
    let mut seq = 0;
    g.write(&mut out, &mut seq);
    assert_eq!(seq, 1);
    let p = split_all(&out);
    let payload = &p[0].1;
    assert_eq!(Greeting::parse(payload), Ok(g));
    let theirs: HandshakePacket<'_> = ParseBuf(payload).parse(()).unwrap();
    assert_eq!(theirs.protocol_version(), 10);
    assert_eq!(theirs.server_version_ref(), g.server_version);
    assert_eq!(theirs.connection_id(), g.connection_id);
    assert_eq!(theirs.nonce(), g.salt.to_vec());
    assert_eq!(theirs.capabilities().bits(), SERVER_CAPS);
    assert_eq!(theirs.default_collation(), 45);
    assert_eq!(theirs.status_flags().bits(), status::AUTOCOMMIT);
    assert_eq!(theirs.auth_plugin_name_ref(), Some(g.auth_plugin));
    for cut in 0..payload.len() - 23 {
        assert!(Greeting::parse(&payload[..cut]).is_err(), "cut {cut}");
    }
    for cut in 0..payload.len() {
        let _ = Greeting::parse(&payload[..cut]);
    }
}

#[test]
fn mysql_common_greeting_with_mariadb_capabilities_parses() {
    let caps = SERVER_CAPS & !cap::MYSQL;
    let s = salt();
    // Real servers end the second salt part with a NUL.
    let part2 = [&s[8..], &[0][..]].concat();
    let theirs = HandshakePacket::new(
        10,
        &b"5.5.5-10.11.6-MariaDB"[..],
        77,
        s[..8].try_into().unwrap(),
        Some(&part2[..]),
        CapabilityFlags::from_bits_truncate(caps),
        33,
        StatusFlags::SERVER_STATUS_AUTOCOMMIT,
        Some(&b"mysql_native_password"[..]),
    )
    .with_mariadb_ext_capabilities(
        mysql_common::constants::MariadbCapabilities::MARIADB_CLIENT_PROGRESS,
    );
    let mut bytes = Vec::new();
    theirs.serialize(&mut bytes);
    let g = Greeting::parse(&bytes).unwrap();
    assert_eq!(g.connection_id, 77);
    assert_eq!(g.salt, s);
    assert_eq!(g.capabilities, caps);
    assert_eq!(g.charset, 33);
    assert_eq!(
        g.mariadb_capabilities,
        crate::protocol::mysql::consts::mariadb_cap::PROGRESS
    );
    assert_eq!(g.auth_plugin, b"mysql_native_password");
}

fn their_response(caps: u32, db: Option<&str>, attrs: bool) -> Vec<u8> {
    let attrs =
        attrs.then(|| HashMap::from([("_client_name".to_string(), "libmariadb".to_string())]));
    let r = mysql_common::packets::HandshakeResponse::new(
        Some(&[9u8; 20][..]),
        (10, 11, 6),
        Some(&b"app"[..]),
        db.map(str::as_bytes),
        Some(AuthPlugin::MysqlNativePassword),
        CapabilityFlags::from_bits_truncate(caps),
        attrs,
        16 << 20,
    );
    let mut bytes = Vec::new();
    r.serialize(&mut bytes);
    bytes
}

#[test]
fn handshake_responses_from_mysql_common_parse_in_every_auth_encoding() {
    let base = cap::PROTOCOL_41 | cap::TRANSACTIONS;
    for auth in [
        cap::PLUGIN_AUTH_LENENC_CLIENT_DATA | cap::SECURE_CONNECTION,
        cap::SECURE_CONNECTION,
    ] {
        for db in [None, Some("app")] {
            for attrs in [false, true] {
                let bytes = their_response(base | auth, db, attrs);
                let r = HandshakeResponse::parse(&bytes).unwrap();
                assert_eq!(r.user, "app");
                assert_eq!(r.auth_response, &[9u8; 20][..]);
                assert_eq!(r.database, db);
                assert_eq!(r.auth_plugin, Some("mysql_native_password"));
                assert_eq!(r.max_packet_size, 16 << 20);
                let pairs: Vec<_> = ConnectAttrs(r.connect_attrs.unwrap_or_default())
                    .map(|kv| kv.unwrap())
                    .collect();
                assert_eq!(pairs.len(), usize::from(attrs));
                assert!(!is_ssl_request(&bytes));
                for cut in 0..bytes.len() {
                    let _ = HandshakeResponse::parse(&bytes[..cut]);
                }
                for cut in 0..32 + 4 {
                    assert!(HandshakeResponse::parse(&bytes[..cut]).is_err());
                }
            }
        }
    }
}

#[test]
fn our_handshake_response_is_read_by_mysql_common() {
    let attrs = encode_attrs(&[("_client_name", "shardwire")]);
    let ours = HandshakeResponse {
        capabilities: SERVER_CAPS & !cap::SESSION_TRACK,
        max_packet_size: 1 << 24,
        charset: charset::UTF8MB4_GENERAL_CI,
        user: "root",
        auth_response: &[5; 20],
        database: Some("app"),
        auth_plugin: Some(plugin::MYSQL_NATIVE_PASSWORD),
        connect_attrs: Some(&attrs),
    };
    let mut out = BytesMut::new();
    let mut seq = 1;
    ours.write(&mut out, &mut seq);
    let p = split_all(&out);
    assert_eq!(p[0].0, 1);
    assert_eq!(HandshakeResponse::parse(&p[0].1), Ok(ours));
    let theirs: mysql_common::packets::HandshakeResponse<'_> = ParseBuf(&p[0].1).parse(()).unwrap();
    assert_eq!(theirs.user(), b"root");
    assert_eq!(theirs.scramble_buf(), &[5; 20]);
    assert_eq!(theirs.db_name(), Some(&b"app"[..]));
    assert_eq!(
        theirs
            .connect_attributes()
            .unwrap()
            .get("_client_name")
            .map(String::as_str),
        Some("shardwire")
    );
}

#[test]
fn ssl_request_is_recognized() {
    let mut bytes = Vec::new();
    SslRequest::new(
        CapabilityFlags::from_bits_truncate(SERVER_CAPS | cap::SSL),
        1 << 24,
        45,
    )
    .serialize(&mut bytes);
    assert_eq!(bytes.len(), SSL_REQUEST_LEN);
    assert!(is_ssl_request(&bytes));
    let ours = HandshakeResponse {
        capabilities: SERVER_CAPS | cap::SSL,
        max_packet_size: 0,
        charset: 45,
        user: "",
        auth_response: b"",
        database: None,
        auth_plugin: None,
        connect_attrs: None,
    };
    let mut out = BytesMut::new();
    let mut seq = 1;
    ours.write_ssl_request(&mut out, &mut seq);
    assert!(is_ssl_request(&split_all(&out)[0].1));
    bytes[1] &= !0x08;
    assert!(!is_ssl_request(&bytes));
}

#[test]
fn malformed_connect_attrs_and_pre41_clients_are_refused() {
    let mut bytes = their_response(cap::PROTOCOL_41 | cap::SECURE_CONNECTION, None, true);
    // Announce one more attribute byte than present: the lenenc total no longer fits.
    let n = bytes.len();
    bytes.truncate(n - 1);
    assert!(HandshakeResponse::parse(&bytes).is_err());
    let mut old = their_response(cap::PROTOCOL_41 | cap::SECURE_CONNECTION, None, false);
    old[1] &= !0x02;
    assert!(HandshakeResponse::parse(&old).is_err());
    assert!(ConnectAttrs(b"\x03ab").next().unwrap().is_err());
}

#[test]
fn auth_switch_and_more_data_parse() {
    let a = AuthSwitch::parse(b"\xfemysql_native_password\0abc\0").unwrap();
    assert_eq!(
        (a.plugin, a.data),
        (&b"mysql_native_password"[..], &b"abc"[..])
    );
    assert!(AuthSwitch::parse(b"").is_err());
    assert_eq!(auth_more_data(b"\x01\x03"), Ok(&b"\x03"[..]));
    assert!(auth_more_data(b"\x00").is_err());
}
