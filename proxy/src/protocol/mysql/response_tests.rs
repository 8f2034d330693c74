//! Tests of the response state machine over hand-built answers.

use super::*;
use crate::protocol::mysql::build;
use crate::protocol::mysql::lenenc::write_str;
use crate::protocol::mysql::packet::split_all;
use crate::protocol::mysql::read::{session_summary, OkPacket};
use crate::protocol::mysql::resultset::{column_def, text_row, ColumnDef};
use bytes::BytesMut;

const CLASSIC: u32 = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::MULTI_RESULTS;
const MODERN: u32 = CLASSIC | cap::DEPRECATE_EOF | cap::SESSION_TRACK;

/// Appends packets to an answer with running sequence ids.
struct Answer {
    out: BytesMut,
    seq: u8,
    caps: u32,
}

impl Answer {
    fn new(caps: u32) -> Self {
        Answer {
            out: BytesMut::new(),
            seq: 1,
            caps,
        }
    }
    fn raw(&mut self, payload: &[u8]) -> &mut Self {
        crate::protocol::mysql::packet::write_packet(&mut self.out, &mut self.seq, payload);
        self
    }
    fn ok(&mut self, status: u16) -> &mut Self {
        let ok = OkPacket {
            status,
            ..OkPacket::default()
        };
        build::ok(&mut self.out, &mut self.seq, self.caps, &ok);
        self
    }
    fn err(&mut self, code: u16) -> &mut Self {
        build::err(
            &mut self.out,
            &mut self.seq,
            self.caps,
            code,
            "HY000",
            "boom",
        );
        self
    }
    fn eof(&mut self, status: u16) -> &mut Self {
        build::eof(&mut self.out, &mut self.seq, self.caps, 0, status);
        self
    }
    /// Column count, definitions, and the EOF after them unless DEPRECATE_EOF.
    fn header(&mut self, columns: usize, status: u16) -> &mut Self {
        self.raw(&[columns as u8]);
        for _ in 0..columns {
            column_def(&mut self.out, &mut self.seq, &ColumnDef::text("c"));
        }
        if self.caps & cap::DEPRECATE_EOF == 0 {
            self.eof(status);
        }
        self
    }
    fn row(&mut self, values: &[Option<&str>]) -> &mut Self {
        text_row(&mut self.out, &mut self.seq, values);
        self
    }
    fn end(&mut self, status: u16) -> &mut Self {
        build::end_of_rows(&mut self.out, &mut self.seq, self.caps, 0, status);
        self
    }
    /// Feeds every packet; returns the indexes of packets that ended the answer.
    fn run(&self, command: Command) -> (Response, Vec<usize>) {
        let mut r = Response::new(command, self.caps);
        let mut ends = Vec::new();
        for (i, (_, payload)) in split_all(&self.out).iter().enumerate() {
            let step = r
                .feed(payload)
                .unwrap_or_else(|e| panic!("packet {i}: {e}"));
            if step.end {
                ends.push(i);
            }
        }
        (r, ends)
    }
    fn count(&self) -> usize {
        split_all(&self.out).len()
    }
}

const AC: u16 = status::AUTOCOMMIT;
const MORE: u16 = status::MORE_RESULTS_EXISTS;

#[test]
fn classic_text_result_set_ends_at_the_second_eof() {
    let mut a = Answer::new(CLASSIC);
    a.header(2, AC)
        .row(&[Some("a"), None])
        .row(&[Some("b"), Some("c")])
        .end(AC | status::IN_TRANS);
    let (r, ends) = a.run(Command::Query);
    assert_eq!(ends, [a.count() - 1]);
    assert_eq!(r.status(), Some(AC | status::IN_TRANS));
    assert_eq!(r.error(), None);
    assert!(r.is_done());
}

#[test]
fn a_text_row_starting_with_fe_is_a_row() {
    // First column announces an 8-byte length: 0xFE + 8 bytes + data, 9+ bytes.
    let mut row = vec![0xFE];
    row.extend_from_slice(&3u64.to_le_bytes());
    row.extend_from_slice(b"abc");
    let mut a = Answer::new(CLASSIC);
    a.header(1, AC).raw(&row).end(AC);
    let (_, ends) = a.run(Command::Query);
    assert_eq!(ends, [a.count() - 1]);
    let mut r = Response::new(Command::Query, CLASSIC);
    r.feed(&[1]).unwrap();
    r.feed(&split_all(&a.out)[1].1).unwrap();
    r.feed(&[0xFE, 0, 0, 2, 0]).unwrap();
    assert_eq!(r.feed(&row).unwrap().kind, Kind::Row);
}

#[test]
fn deprecate_eof_result_set_ends_with_ok_fe() {
    let mut a = Answer::new(MODERN);
    a.header(1, AC).row(&[Some("x")]).end(AC);
    assert_eq!(a.count(), 4);
    let (r, ends) = a.run(Command::Query);
    assert_eq!(ends, [3]);
    assert_eq!(r.status(), Some(AC));
}

#[test]
fn multi_results_continue_until_a_status_without_more_results() {
    for caps in [CLASSIC, MODERN] {
        let mut a = Answer::new(caps);
        a.ok(AC | MORE)
            .header(1, AC | MORE)
            .row(&[Some("1")])
            .end(AC | MORE)
            .header(1, AC)
            .end(AC | MORE)
            .ok(AC);
        let (r, ends) = a.run(Command::Query);
        assert_eq!(ends, [a.count() - 1], "caps {caps:#x}");
        assert_eq!(r.status(), Some(AC));
    }
}

#[test]
fn an_error_ends_a_multi_result_answer() {
    let mut a = Answer::new(MODERN);
    a.ok(AC | MORE).header(1, AC).row(&[Some("1")]).err(1213);
    let (r, ends) = a.run(Command::Query);
    assert_eq!(ends, [a.count() - 1]);
    assert_eq!(r.error(), Some(1213));
    assert_eq!(r.status(), Some(AC | MORE), "status of the last OK seen");
}

#[test]
fn binary_rows_start_with_zero_and_are_rows() {
    for caps in [CLASSIC, MODERN] {
        let mut a = Answer::new(caps);
        a.header(1, AC)
            .raw(&[0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8])
            .raw(&[0x00, 0x01])
            .end(AC);
        let (_, ends) = a.run(Command::Execute);
        assert_eq!(ends, [a.count() - 1]);
    }
}

#[test]
fn execute_with_cursor_ends_after_the_definitions() {
    let cursor = AC | status::CURSOR_EXISTS;
    let mut classic = Answer::new(CLASSIC);
    classic.header(2, cursor);
    let (r, ends) = classic.run(Command::Execute);
    assert_eq!(ends, [3]);
    assert_eq!(r.status(), Some(cursor));
    let mut modern = Answer::new(MODERN);
    modern.header(2, cursor).end(cursor);
    let (r, ends) = modern.run(Command::Execute);
    assert_eq!(ends, [3]);
    assert_eq!(r.status(), Some(cursor));
    // Then COM_STMT_FETCH: rows and an end packet.
    let mut fetch = Answer::new(CLASSIC);
    fetch
        .raw(&[0, 0, 1])
        .raw(&[0, 0, 2])
        .eof(cursor | status::LAST_ROW_SENT);
    let (r, ends) = fetch.run(Command::Fetch);
    assert_eq!(ends, [2]);
    assert_eq!(r.status(), Some(cursor | status::LAST_ROW_SENT));
}

fn prepare_answer(caps: u32, params: u16, columns: u16) -> Answer {
    let mut a = Answer::new(caps);
    let p = PrepareOk {
        statement_id: 1,
        num_columns: columns,
        num_params: params,
        warnings: 0,
    };
    build::prepare_ok(&mut a.out, &mut a.seq, &p);
    for (n, _) in [(params, 0), (columns, 1)] {
        for _ in 0..n {
            column_def(&mut a.out, &mut a.seq, &ColumnDef::text("?"));
        }
        if n > 0 && caps & cap::DEPRECATE_EOF == 0 {
            a.eof(AC);
        }
    }
    a
}

#[test]
fn prepare_answers_end_after_params_and_columns() {
    for caps in [CLASSIC, MODERN] {
        for (params, columns) in [(0, 0), (2, 0), (0, 3), (2, 3), (1, 1)] {
            let a = prepare_answer(caps, params, columns);
            let (_, ends) = a.run(Command::Prepare);
            assert_eq!(ends, [a.count() - 1], "caps {caps:#x} {params}/{columns}");
        }
    }
    let mut e = Answer::new(CLASSIC);
    e.err(1064);
    let (r, ends) = e.run(Command::Prepare);
    assert_eq!((ends, r.error()), (vec![0], Some(1064)));
}

#[test]
fn simple_commands_end_with_their_first_packet() {
    let mut ok = Answer::new(MODERN);
    ok.ok(AC);
    assert_eq!(ok.run(Command::Simple).1, [0]);
    let mut err = Answer::new(MODERN);
    err.err(1049);
    assert_eq!(err.run(Command::Simple).0.error(), Some(1049));
    let mut set_option = Answer::new(CLASSIC);
    set_option.eof(AC);
    assert_eq!(set_option.run(Command::Simple).1, [0]);
    let mut stats = Answer::new(CLASSIC);
    stats.raw(b"Uptime: 5  Threads: 1");
    assert_eq!(stats.run(Command::Statistics).1, [0]);
}

#[test]
fn local_infile_request_then_ok() {
    let mut r = Response::new(Command::Query, MODERN);
    let step = r.feed(b"\xfb/tmp/data.csv").unwrap();
    assert_eq!(
        step,
        Step {
            kind: Kind::LocalInfile(b"/tmp/data.csv"),
            end: false
        }
    );
    let mut ok = Answer::new(MODERN);
    ok.ok(AC);
    let payload = &split_all(&ok.out)[0].1;
    assert!(r.feed(payload).unwrap().end);
}

#[test]
fn progress_reports_do_not_end_the_answer() {
    let mut r = Response::new(Command::Query, MODERN);
    let progress = [0xFF, 0xFF, 0xFF, 1, 1, 2, 0x10, 0, 0, 0];
    assert_eq!(
        r.feed(&progress).unwrap(),
        Step {
            kind: Kind::Progress,
            end: false
        }
    );
    assert!(r.feed(&[0, 0, 0, 2, 0, 0, 0]).unwrap().end);
}

#[test]
fn continuation_packets_do_not_change_state() {
    // Under DEPRECATE_EOF a 0xFFFFFF-byte row starting with 0xFE is a row.
    let mut big = vec![0u8; crate::protocol::mysql::packet::MAX_PAYLOAD];
    big[0] = 0xFE;
    let mut r = Response::new(Command::Query, MODERN);
    r.feed(&[1]).unwrap();
    let mut def = BytesMut::new();
    column_def(&mut def, &mut 0, &ColumnDef::text("c"));
    r.feed(&split_all(&def)[0].1).unwrap();
    assert_eq!(r.feed(&big).unwrap().kind, Kind::Row);
    // The continuation starts with 0xFE and is short: still part of the row.
    assert_eq!(
        r.feed(&[0xFE, 0, 0, 2, 0, 0, 0]).unwrap().kind,
        Kind::Continuation
    );
    let end = r.feed(&[0xFE, 0, 0, 2, 0, 0, 0]).unwrap();
    assert!(end.end && matches!(end.kind, Kind::Ok(_)));
}

#[test]
fn ok_steps_carry_session_state() {
    let mut state = vec![0u8];
    let mut var = Vec::new();
    write_str(&mut var, b"last_gtid");
    write_str(&mut var, b"0-1-9");
    write_str(&mut state, &var);
    let ok = OkPacket {
        affected_rows: 1,
        status: AC | status::SESSION_STATE_CHANGED,
        session_state: &state,
        ..OkPacket::default()
    };
    let mut out = BytesMut::new();
    build::ok(&mut out, &mut 1, MODERN, &ok);
    let payload = &split_all(&out)[0].1;
    let mut r = Response::new(Command::Query, MODERN);
    let step = r.feed(payload).unwrap();
    let Kind::Ok(got) = step.kind else {
        panic!("not an OK: {step:?}")
    };
    assert_eq!(
        session_summary(got.session_state).unwrap().last_gtid,
        Some("0-1-9")
    );
}

#[test]
fn unexpected_packets_are_errors_not_panics() {
    let mut r = Response::new(Command::Simple, MODERN);
    assert!(r.feed(&[]).is_err());
    assert!(Response::new(Command::Simple, MODERN).feed(&[1]).is_err());
    assert!(
        Response::new(Command::Query, MODERN).feed(&[0]).is_err(),
        "short OK"
    );
    assert!(
        Response::new(Command::Query, MODERN)
            .feed(&[0xFC, 1])
            .is_err(),
        "short count"
    );
    let mut done = Response::new(Command::Simple, MODERN);
    done.feed(&[0, 0, 0, 2, 0, 0, 0]).unwrap();
    assert!(done.feed(&[0, 0, 0, 2, 0, 0, 0]).is_err());
    let mut classic = Response::new(Command::Query, CLASSIC);
    classic.feed(&[1]).unwrap();
    classic.feed(&[3, b'd', b'e', b'f']).unwrap();
    assert!(
        classic.feed(&[1, b'x']).is_err(),
        "no EOF after the definitions"
    );

    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..2_000 {
        for command in [
            Command::Query,
            Command::Execute,
            Command::Prepare,
            Command::Fetch,
            Command::Simple,
        ] {
            for caps in [CLASSIC, MODERN] {
                let mut r = Response::new(command, caps);
                for _ in 0..8 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let len = (x % 14) as usize;
                    let p: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8).collect();
                    if r.feed(&p).is_err() {
                        break;
                    }
                }
            }
        }
    }
}
