//! Tests of the builders: round trips through our readers and `mysql_common`'s.

use super::*;
use crate::protocol::mysql::packet::split_all;
use crate::protocol::mysql::read::{end_of_rows as read_end, EofPacket, ErrPacket};
use crate::protocol::mysql::{build, errcode, read};
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthSwitchRequest, CommonOkPacket, ErrPacket as TheirErr, OkPacketDeserializer, OldEofPacket,
    ResultSetTerminator, StmtPacket,
};

const CAPS: u32 = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::SECURE_CONNECTION;
const TRACK: u32 = CAPS | cap::SESSION_TRACK;

fn one(out: &BytesMut) -> Vec<u8> {
    let mut p = split_all(out);
    assert_eq!(p.len(), 1);
    p.remove(0).1
}

#[test]
fn ok_round_trips_and_mysql_common_agrees() {
    let state = [
        0u8, 16, 9, b'l', b'a', b's', b't', b'_', b'g', b't', b'i', b'd', 5, b'0', b'-', b'1',
        b'-', b'7',
    ];
    let cases = [
        (
            CAPS,
            OkPacket {
                affected_rows: 3,
                last_insert_id: 70000,
                status: status::AUTOCOMMIT,
                warnings: 2,
                info: b"",
                session_state: b"",
            },
        ),
        (
            CAPS,
            OkPacket {
                affected_rows: 1,
                last_insert_id: 0,
                status: status::IN_TRANS,
                warnings: 0,
                info: b"Rows matched: 1  Changed: 1  Warnings: 0",
                session_state: b"",
            },
        ),
        (
            TRACK,
            OkPacket {
                affected_rows: 0,
                last_insert_id: 0,
                status: status::AUTOCOMMIT,
                warnings: 0,
                info: b"",
                session_state: b"",
            },
        ),
        (
            TRACK,
            OkPacket {
                affected_rows: 1,
                last_insert_id: 5,
                status: status::AUTOCOMMIT | status::SESSION_STATE_CHANGED,
                warnings: 0,
                info: b"",
                session_state: &state,
            },
        ),
    ];
    for (caps, ok) in cases {
        let mut out = BytesMut::new();
        let mut seq = 1;
        build::ok(&mut out, &mut seq, caps, &ok);
        assert_eq!(seq, 2);
        let payload = one(&out);
        assert_eq!(read::OkPacket::parse(&payload, caps), Ok(ok));
        let theirs: mysql_common::packets::OkPacket<'_> = ParseBuf(&payload)
            .parse::<OkPacketDeserializer<'_, CommonOkPacket>>(CapabilityFlags::from_bits_truncate(
                caps,
            ))
            .unwrap()
            .into();
        assert_eq!(theirs.affected_rows(), ok.affected_rows);
        assert_eq!(theirs.last_insert_id().unwrap_or(0), ok.last_insert_id);
        assert_eq!(theirs.status_flags().bits(), ok.status);
        assert_eq!(theirs.warnings(), ok.warnings);
        assert_eq!(theirs.info_ref().unwrap_or_default(), ok.info);
        assert_eq!(
            theirs.session_state_info_ref().unwrap_or_default(),
            ok.session_state
        );
        if !ok.session_state.is_empty() {
            let entries = theirs.session_state_info().unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(
                read::session_summary(ok.session_state).unwrap().last_gtid,
                Some("0-1-7")
            );
        }
    }
}

#[test]
fn end_of_rows_is_eof_or_ok_with_fe_header() {
    let mut out = BytesMut::new();
    let mut seq = 4;
    build::end_of_rows(&mut out, &mut seq, CAPS, 1, status::AUTOCOMMIT);
    build::end_of_rows(
        &mut out,
        &mut seq,
        CAPS | cap::DEPRECATE_EOF,
        0,
        status::MORE_RESULTS_EXISTS,
    );
    let p = split_all(&out);
    assert_eq!(p[0], (4, vec![0xFE, 1, 0, 2, 0]));
    assert_eq!(p[1].0, 5);
    assert_eq!(p[1].1, vec![0xFE, 0, 0, 8, 0, 0, 0]);
    let flags = CapabilityFlags::from_bits_truncate(CAPS | cap::DEPRECATE_EOF);
    let classic: mysql_common::packets::OkPacket<'_> = ParseBuf(&p[0].1)
        .parse::<OkPacketDeserializer<'_, OldEofPacket>>(flags)
        .unwrap()
        .into();
    assert_eq!(
        (classic.warnings(), classic.status_flags().bits()),
        (1, status::AUTOCOMMIT)
    );
    let ok: mysql_common::packets::OkPacket<'_> = ParseBuf(&p[1].1)
        .parse::<OkPacketDeserializer<'_, ResultSetTerminator>>(flags)
        .unwrap()
        .into();
    assert_eq!(ok.status_flags().bits(), status::MORE_RESULTS_EXISTS);
    assert_eq!(
        read_end(&p[0].1, CAPS).unwrap().0,
        EofPacket {
            warnings: 1,
            status: status::AUTOCOMMIT
        }
    );
    let (eof, ok) = read_end(&p[1].1, CAPS | cap::DEPRECATE_EOF).unwrap();
    assert_eq!(eof.status, status::MORE_RESULTS_EXISTS);
    assert!(ok.is_some());
}

#[test]
fn err_round_trips_both_ways() {
    let mut out = BytesMut::new();
    let mut seq = 0;
    build::error(
        &mut out,
        &mut seq,
        CAPS,
        errcode::ER_NOT_SUPPORTED_YET,
        "shardwire: no",
    );
    build::err(&mut out, &mut seq, CAPS, 1105, "bad", "x");
    build::err(&mut out, &mut seq, 0, 1045, "28000", "denied");
    let p = split_all(&out);
    let e = ErrPacket::parse(&p[0].1).unwrap();
    assert_eq!(
        (e.code, e.sqlstate, e.message),
        (1235, Some("42000"), &b"shardwire: no"[..])
    );
    assert_eq!(ErrPacket::parse(&p[1].1).unwrap().sqlstate, Some("HY000"));
    let old = ErrPacket::parse(&p[2].1).unwrap();
    assert_eq!(
        (old.code, old.sqlstate, old.message),
        (1045, None, &b"denied"[..])
    );

    let theirs: TheirErr<'_> = ParseBuf(&p[0].1)
        .parse(CapabilityFlags::from_bits_truncate(CAPS))
        .unwrap();
    let se = theirs.server_error();
    assert_eq!(se.error_code(), 1235);
    assert_eq!(&se.sql_state_ref().unwrap().as_bytes(), b"42000");
    assert_eq!(se.message_ref(), b"shardwire: no");

    use mysql_common::proto::MySerialize;
    let mut bytes = Vec::new();
    let server_error = mysql_common::packets::ServerError::new(
        1213,
        Some(mysql_common::packets::SqlState::new(*b"40001")),
        &b"Deadlock found"[..],
    );
    TheirErr::Error(server_error).serialize(&mut bytes);
    let ours = ErrPacket::parse(&bytes).unwrap();
    assert_eq!(
        (ours.code, ours.sqlstate, ours.message_lossy().as_ref()),
        (1213, Some("40001"), "Deadlock found")
    );
}

#[test]
fn prepare_ok_matches_mysql_common_and_id_can_be_rewritten() {
    let p = PrepareOk {
        statement_id: 0x01020304,
        num_columns: 3,
        num_params: 2,
        warnings: 1,
    };
    let mut out = BytesMut::new();
    let mut seq = 1;
    build::prepare_ok(&mut out, &mut seq, &p);
    let mut payload = one(&out);
    assert_eq!(payload.len(), 12);
    let theirs: StmtPacket = ParseBuf(&payload).parse(()).unwrap();
    assert_eq!(theirs.statement_id(), p.statement_id);
    assert_eq!(theirs.num_columns(), 3);
    assert_eq!(theirs.num_params(), 2);
    assert_eq!(read::PrepareOk::parse(&payload), Ok(p));
    assert!(build::set_prepare_ok_statement_id(&mut payload, 77));
    assert_eq!(read::PrepareOk::parse(&payload).unwrap().statement_id, 77);
    assert!(!build::set_prepare_ok_statement_id(&mut [0xFF, 0, 0], 1));
}

#[test]
fn auth_switch_and_more_data() {
    let salt = [7u8; 20];
    let mut out = BytesMut::new();
    let mut seq = 2;
    build::auth_switch(&mut out, &mut seq, "mysql_native_password", &salt);
    build::auth_more_data(&mut out, &mut seq, &[3]);
    let p = split_all(&out);
    let theirs: AuthSwitchRequest<'_> = ParseBuf(&p[0].1).parse(()).unwrap();
    assert_eq!(theirs.plugin_data(), &salt[..]);
    assert_eq!(theirs.auth_plugin().as_bytes(), b"mysql_native_password");
    assert_eq!(p[1], (3, vec![1, 3]));
}
