//! The last line of defence against leaked servers: a tiny shell process per topology that
//! waits for our end of a pipe to close — which the kernel does however this process dies,
//! even by SIGKILL or abort — then kills every process whose command line names the
//! topology directory and removes the directory.
//!
//! It runs in its own process group so that Ctrl-C on the test run does not kill it before
//! it has cleaned up. The directory is passed in the environment, not the command line, so
//! that `pkill -f` does not match the sentinel itself.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::error::{Context, Result};

const SCRIPT: &str = r#"read _ignored
pkill -KILL -f -- "$SHARDWIRE_TESTBED_DIR/" 2>/dev/null
sleep 0.2
rm -rf -- "$SHARDWIRE_TESTBED_DIR"
"#;

/// A running sentinel; dropping it (or dying) triggers the cleanup.
#[derive(Debug)]
pub struct Sentinel {
    child: Child,
    pipe: Option<ChildStdin>,
}

impl Sentinel {
    /// Starts a sentinel guarding `dir`.
    pub fn guard(dir: &Path) -> Result<Sentinel> {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .env("SHARDWIRE_TESTBED_DIR", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("start the test bed sentinel")?;
        let pipe = child.stdin.take();
        Ok(Sentinel { child, pipe })
    }

    /// Runs the cleanup now and waits for it.
    pub fn finish(mut self) {
        self.pipe.take();
        let _ = self.child.wait();
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        self.pipe.take();
    }
}
