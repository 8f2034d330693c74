//! The MySQL packet decoder and the connection-phase and command readers, on arbitrary
//! bytes.
//!
//! The input is read as a client's stream by the frontend's `PacketReader` (with the
//! login limit, then the command limit): the first packet as the login reads it
//! (SSLRequest check, HandshakeResponse41, connection attributes), the others as
//! commands (COM_STMT_EXECUTE under several parameter contexts, and its rebuild). Every
//! payload also goes through the readers of server packets (greeting, OK with session
//! state, ERR, EOF, PREPARE_OK, auth switch) and a response tracker, and the whole input
//! through the `Splitter`'s payload joining. Each must return an error, never panic.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use shardwire::frontend::mysql::startup::MAX_CLIENT_PACKET;
use shardwire::protocol::mysql::consts::{cap, com};
use shardwire::protocol::mysql::execute::{parse_execute, rebuild_execute, ParamContext};
use shardwire::protocol::mysql::handshake::{
    auth_more_data, is_ssl_request, AuthSwitch, ConnectAttrs, Greeting, HandshakeResponse,
};
use shardwire::protocol::mysql::packet::Splitter;
use shardwire::protocol::mysql::read::{
    end_of_rows, session_summary, EofPacket, ErrPacket, OkPacket, PrepareOk,
};
use shardwire::protocol::mysql::response::{Command, Response};
use shardwire::protocol::mysql_stream::{PacketReader, ReadError};
use shardwire_fuzz::block_on;

/// The frontend's limit on login packets.
const MAX_LOGIN_PACKET: usize = 16 * 1024;

const CAPS: [u32; 3] = [
    0,
    cap::PROTOCOL_41 | cap::TRANSACTIONS,
    cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::SESSION_TRACK | cap::DEPRECATE_EOF,
];

fuzz_target!(|data: &[u8]| {
    block_on(client_stream(data));
    let mut buf = BytesMut::from(data);
    let mut splitter = Splitter::new(MAX_LOGIN_PACKET);
    while let Ok(Some((_seq, payload))) = splitter.next_payload(&mut buf) {
        server_readers(&payload);
    }
});

async fn client_stream(data: &[u8]) {
    let mut reader = PacketReader::new(data, MAX_CLIENT_PACKET);
    reader.set_limit(MAX_LOGIN_PACKET);
    let Some(first) = next(&mut reader).await else {
        return;
    };
    let payload = first.payload();
    if !is_ssl_request(payload) {
        if let Ok(response) = HandshakeResponse::parse(payload) {
            if let Some(attrs) = response.connect_attrs {
                for kv in ConnectAttrs(attrs) {
                    assert!(kv.is_ok(), "attributes were validated by parse");
                }
            }
            // What the proxy writes back to a backend from what it read.
            let mut out = BytesMut::new();
            response.write(&mut out, &mut 1);
        }
    }
    reader.set_limit(MAX_CLIENT_PACKET);
    let mut remembered: Option<Vec<u8>> = None;
    let mut responses: Vec<Response> = CAPS
        .iter()
        .map(|&caps| Response::new(Command::Query, caps))
        .collect();
    while let Some(packet) = next(&mut reader).await {
        let payload = packet.payload();
        if payload.first() == Some(&com::STMT_EXECUTE) {
            execute(payload, &mut remembered);
        }
        server_readers(payload);
        for response in &mut responses {
            if !response.is_done() && response.feed(payload).is_err() {
                *response = Response::new(Command::Execute, cap::DEPRECATE_EOF);
            }
        }
    }
}

async fn next(
    reader: &mut PacketReader<&[u8]>,
) -> Option<shardwire::protocol::mysql_stream::Packet> {
    match reader.next().await {
        Ok(p) => Some(p),
        Err(ReadError::Io(e)) => panic!("in-memory read failed: {e}"),
        Err(_) => None,
    }
}

/// COM_STMT_EXECUTE under parameter counts 0..=9 and with the types a previous execute
/// bound, as the session reads it, then rebuilt for another connection.
fn execute(payload: &[u8], remembered: &mut Option<Vec<u8>>) {
    let long_data = [false, true, false];
    for count in 0..=9 {
        let ctx = ParamContext {
            count,
            types: remembered.as_deref(),
            long_data: &long_data[..count.min(3)],
        };
        let Ok(exec) = parse_execute(payload, ctx) else {
            continue;
        };
        assert_eq!(exec.values.len(), count);
        for i in 0..=count {
            let _ = exec.key(i);
        }
        let types = exec.types.unwrap_or_default().to_vec();
        let mut out = BytesMut::new();
        rebuild_execute(&mut out, &mut 0, &exec, 7, &types);
        if exec.new_params_bound {
            *remembered = Some(types);
        }
    }
}

fn server_readers(payload: &[u8]) {
    if let Ok(greeting) = Greeting::parse(payload) {
        let mut out = BytesMut::new();
        greeting.write(&mut out, &mut 0);
    }
    for caps in CAPS {
        if let Ok(ok) = OkPacket::parse(payload, caps) {
            let _ = session_summary(ok.session_state);
            for change in ok.session_changes().flatten() {
                for pair in change.system_variables() {
                    let _ = pair;
                }
            }
        }
        let _ = end_of_rows(payload, caps);
    }
    if let Ok(err) = ErrPacket::parse(payload) {
        let _ = (err.is_progress(), err.message_lossy());
    }
    let _ = EofPacket::parse(payload);
    let _ = PrepareOk::parse(payload);
    let _ = AuthSwitch::parse(payload);
    let _ = auth_more_data(payload);
}
