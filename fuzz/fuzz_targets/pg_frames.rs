//! The PostgreSQL frame decoder and the readers over frame bodies, on arbitrary bytes.
//!
//! The input is read twice: as a client's stream (startup packets as the frontend's
//! handshake reads them — SSLRequest/GSSENCRequest answered and read again,
//! CancelRequest, StartupMessage parameters into session settings — then tagged frames)
//! and as a server's stream (tagged frames from the first byte). Every frame body goes
//! through every reader, client and server messages alike: each must return an error on
//! bytes it does not expect, never panic.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use shardwire::auth::sasl;
use shardwire::frontend::pg::params::SessionParams;
use shardwire::frontend::pg::settings::ShardwireSettings;
use shardwire::protocol::pg::frame::{FrameError, FrameReader};
use shardwire::protocol::pg::read::{self, Bind, Cursor, Parse, Target};
use shardwire::protocol::pg::tag::startup;
use shardwire_conf::ReadConsistency;
use shardwire_fuzz::block_on;

/// The frontend's limit on a startup packet.
const MAX_STARTUP: usize = 10_000;
/// The frame limit here: the checks are the same as with the proxy's 64 MiB default,
/// without reserving 64 MiB for an announced length in every run.
const MAX_FRAME: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    block_on(async {
        let mut client = FrameReader::new(data, MAX_FRAME);
        if startup_phase(&mut client).await {
            frames(&mut client).await;
        }
        frames(&mut FrameReader::new(data, MAX_FRAME)).await;
    });
});

/// The startup loop of `frontend::pg::startup::handshake`; true when a StartupMessage was
/// accepted and frames follow.
async fn startup_phase(reader: &mut FrameReader<&[u8]>) -> bool {
    loop {
        let packet = match reader.next_startup(MAX_STARTUP).await {
            Ok(Some(p)) => p,
            Ok(None) => return false,
            Err(FrameError::Io(e)) => panic!("in-memory read failed: {e}"),
            Err(_) => return false,
        };
        let mut c = Cursor::new(&packet, "startup");
        let Ok(code) = c.i32() else { return false };
        match code {
            startup::SSL_REQUEST | startup::GSSENC_REQUEST => continue,
            startup::CANCEL_REQUEST => {
                let _ = (c.i32(), c.i32());
                return false;
            }
            code if code >> 16 == 3 => {
                let Ok(params) = read::startup_params(c.rest()) else {
                    return false;
                };
                let (session, own) = SessionParams::from_startup(&params);
                let _ = session.sync_sql(&[]);
                let mut settings =
                    ShardwireSettings::new(ReadConsistency::Strong, Duration::from_secs(1));
                for (name, value) in own {
                    let name = name.trim_start_matches("shardwire.");
                    if settings.set(name, &value).is_ok() {
                        let _ = settings.show(name);
                    }
                }
                return true;
            }
            _ => return false,
        }
    }
}

/// Every frame of the stream, through every reader.
async fn frames(reader: &mut FrameReader<&[u8]>) {
    loop {
        let frame = match reader.next_frame().await {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(FrameError::Io(e)) => panic!("in-memory read failed: {e}"),
            Err(_) => return,
        };
        let body = frame.body();
        assert_eq!(frame.raw().len(), body.len() + 5);
        // Client messages.
        let _ = read::query_text(body);
        let _ = Parse::read(body);
        if let Ok(bind) = Bind::read(body) {
            for i in 0..=bind.param_count() {
                let _ = (bind.value(i), bind.is_binary(i));
            }
            let _ = bind.tail();
        }
        let _ = Target::read(body, "Describe");
        if let Ok((mechanism, data)) = sasl::parse_initial_response(body) {
            let _ = (sasl::check_mechanism(mechanism), data);
        }
        // Server messages.
        let _ = read::error_fields(body);
        let _ = read::is_fatal(body);
        let _ = read::command_tag(body);
        let _ = read::parameter_status(body);
        let _ = read::first_column(body);
    }
}
