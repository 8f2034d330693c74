//! Tests of the server-packet readers: hand-built packets as MariaDB sends them, every
//! truncation of them, and malformed session state.

use super::*;
use crate::protocol::mysql::lenenc::{write_int, write_str};

const CAPS: u32 = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::SESSION_TRACK;

/// An OK packet as MariaDB sends it after an INSERT with `session_track_system_variables`
/// including `last_gtid` and a `USE` in the same multi-statement.
fn mariadb_ok() -> Vec<u8> {
    let mut state = Vec::new();
    let mut var = Vec::new();
    write_str(&mut var, b"last_gtid");
    write_str(&mut var, b"0-1-42");
    state.push(session_track::SYSTEM_VARIABLES);
    write_str(&mut state, &var);
    let mut schema = Vec::new();
    write_str(&mut schema, b"app");
    state.push(session_track::SCHEMA);
    write_str(&mut state, &schema);
    let mut p = vec![0x00];
    write_int(&mut p, 1);
    write_int(&mut p, 300);
    p.extend_from_slice(&(status::AUTOCOMMIT | status::SESSION_STATE_CHANGED).to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes());
    write_str(&mut p, b"");
    write_str(&mut p, &state);
    p
}

#[test]
fn ok_with_session_state_yields_last_gtid_and_schema() {
    let payload = mariadb_ok();
    let ok = OkPacket::parse(&payload, CAPS).unwrap();
    assert_eq!((ok.affected_rows, ok.last_insert_id), (1, 300));
    assert_ne!(ok.status & status::SESSION_STATE_CHANGED, 0);
    let s = session_summary(ok.session_state).unwrap();
    assert_eq!(s.last_gtid, Some("0-1-42"));
    assert_eq!(s.schema, Some(&b"app"[..]));
    assert!(!s.other_variables && !s.other && s.gtids.is_none());
    let kinds: Vec<u8> = ok.session_changes().map(|e| e.unwrap().kind).collect();
    assert_eq!(
        kinds,
        [session_track::SYSTEM_VARIABLES, session_track::SCHEMA]
    );
}

#[test]
fn gtids_and_other_entries_are_reported() {
    let mut state = vec![session_track::GTIDS];
    write_str(&mut state, b"\x00\x0e3E11FA47-71CA:5");
    state.push(session_track::TRANSACTION_STATE);
    write_str(&mut state, b"\x08T_______");
    let mut var = Vec::new();
    write_str(&mut var, b"autocommit");
    write_str(&mut var, b"OFF");
    state.push(session_track::SYSTEM_VARIABLES);
    write_str(&mut state, &var);
    let s = session_summary(&state).unwrap();
    assert!(s.gtids.is_some() && s.other && s.other_variables);
    assert_eq!(s.last_gtid, None);
}

#[test]
fn malformed_session_state_is_an_error() {
    let payload = mariadb_ok();
    let ok = OkPacket::parse(&payload, CAPS).unwrap();
    let state = ok.session_state;
    // The first entry is 19 bytes: only a cut between the entries is valid.
    for cut in (1..state.len()).filter(|c| *c != 19) {
        assert!(session_summary(&state[..cut]).is_err(), "cut {cut}");
    }
    assert!(session_summary(&[0, 2, 0xFC, 0]).is_err());
}

#[test]
fn every_truncation_is_an_error_or_a_shorter_valid_packet() {
    let ok = mariadb_ok();
    // Any prefix must parse or fail, never panic; one cut inside the fixed part fails.
    for cut in 0..ok.len() {
        let _ = OkPacket::parse(&ok[..cut], CAPS);
        let _ = OkPacket::parse(&ok[..cut], 0);
        let _ = end_of_rows(&ok[..cut], CAPS);
    }
    assert!(OkPacket::parse(&ok[..5], CAPS).is_err());
    let err = b"\xff\x15\x04#28000Access denied";
    for cut in 0..3 {
        assert!(ErrPacket::parse(&err[..cut]).is_err());
    }
    for cut in 3..err.len() {
        let e = ErrPacket::parse(&err[..cut]).unwrap();
        assert_eq!(e.code, 1045);
    }
    let prep = [0u8, 1, 0, 0, 0, 2, 0, 3, 0, 0, 4, 0];
    for cut in 0..9 {
        assert!(PrepareOk::parse(&prep[..cut]).is_err());
    }
    assert_eq!(
        PrepareOk::parse(&prep),
        Ok(PrepareOk {
            statement_id: 1,
            num_columns: 2,
            num_params: 3,
            warnings: 4
        })
    );
    let eof = [0xFE, 1, 0, 2, 0];
    assert!(EofPacket::parse(&eof[..2]).is_err());
    assert_eq!(EofPacket::parse(&eof[..1]), Ok(EofPacket::default()));
    assert_eq!(
        EofPacket::parse(&eof),
        Ok(EofPacket {
            warnings: 1,
            status: 2
        })
    );
    assert!(EofPacket::parse(&[0xFE, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
}

#[test]
fn random_bytes_never_panic() {
    // A small deterministic generator: xorshift.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 24) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|i| (x >> ((i % 8) * 8)) as u8 ^ i as u8)
            .collect();
        let _ = OkPacket::parse(&bytes, CAPS);
        let _ = ErrPacket::parse(&bytes);
        let _ = EofPacket::parse(&bytes);
        let _ = PrepareOk::parse(&bytes);
        let _ = session_summary(&bytes);
        let _ = end_of_rows(&bytes, CAPS);
    }
}

#[test]
fn info_without_session_track_is_lenenc_or_raw() {
    let mut p = vec![0, 0, 0, 2, 0, 0, 0];
    write_str(&mut p, b"Records: 2");
    assert_eq!(
        OkPacket::parse(&p, cap::PROTOCOL_41).unwrap().info,
        b"Records: 2"
    );
    let raw = [0, 0, 0, 2, 0, 0, 0, b'h', b'i'];
    assert_eq!(OkPacket::parse(&raw, cap::PROTOCOL_41).unwrap().info, b"hi");
}
