//! Free TCP ports for servers, without races between tests running at the same time.
//!
//! Binding port 0 and closing it leaves a window in which another test can take the same
//! number. Instead every test bed (in any process) claims a port by holding an exclusive
//! `flock` on `<lock dir>/<port>.lock` for as long as it uses the port, and only then checks
//! that nothing else is listening there. Ports come from 15000–32767, below Linux's ephemeral
//! range, so outgoing connections never occupy them.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};

const FIRST_PORT: u16 = 15000;
const LAST_PORT: u16 = 32767;

/// A TCP port reserved for the lifetime of this value.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    _lock: File,
}

impl PortLease {
    /// The reserved port number.
    pub fn port(&self) -> u16 {
        self.port
    }
}

fn lock_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join("shardwire-testbed-ports");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::new(format!("create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// Pseudo-random start so concurrent processes rarely contend for the same locks.
fn start_offset() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = nanos
        ^ std::process::id().wrapping_mul(2_654_435_761)
        ^ COUNTER.fetch_add(7919, Ordering::Relaxed);
    mixed % u32::from(LAST_PORT - FIRST_PORT)
}

/// Reserves a free port on 127.0.0.1.
pub fn lease_port() -> Result<PortLease> {
    let dir = lock_dir()?;
    let span = u32::from(LAST_PORT - FIRST_PORT);
    let offset = start_offset();
    for i in 0..span {
        let port = FIRST_PORT + ((offset + i) % span) as u16;
        let path = dir.join(format!("{port}.lock"));
        let Ok(file) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        else {
            continue;
        };
        // SAFETY: the fd is valid for the lifetime of `file`; flock has no other preconditions.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            continue;
        }
        // Someone outside the test bed may be using it; only then skip it.
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(PortLease { port, _lock: file });
        }
    }
    Err(Error::new("no free TCP port in 15000-32767"))
}
