//! One long-running server process (a postmaster or a mariadbd): how to start it again
//! with the same arguments, and how to stop it cleanly, immediately or with SIGKILL.
//!
//! Processes are plain `std::process` children, not tokio ones, so that a topology shared
//! by the tests of a binary outlives the tokio runtime of whichever test started it, and so
//! that `Drop` can stop them synchronously.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{Context, Error, Result};
use crate::os::{self, RunAs};

/// How to launch a server; kept so it can be restarted identically.
#[derive(Clone, Debug)]
pub struct LaunchSpec {
    /// Executable.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// OS identity to run as (None = ourselves).
    pub run_as: Option<RunAs>,
    /// Where stdout and stderr go.
    pub log: PathBuf,
    /// Working directory (must be readable by `run_as`).
    pub cwd: PathBuf,
}

/// A server process and its launch spec. Methods take `&self` (the child sits behind a
/// mutex that is never held across an await) so nodes can be shared between tasks.
#[derive(Debug)]
pub struct ServerProcess {
    spec: LaunchSpec,
    child: Mutex<Option<Child>>,
}

impl ServerProcess {
    /// Launches the server.
    pub fn spawn(spec: LaunchSpec) -> Result<ServerProcess> {
        let server = ServerProcess {
            spec,
            child: Mutex::new(None),
        };
        server.start()?;
        Ok(server)
    }

    /// Starts the process again after it stopped; a no-op while it runs.
    pub fn start(&self) -> Result<()> {
        let mut slot = self.slot();
        if let Some(child) = slot.as_mut() {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(());
            }
        }
        use std::os::unix::process::CommandExt;
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.spec.log)
            .context(format!("open log {}", self.spec.log.display()))?;
        let log_err = log.try_clone().context("clone log handle")?;
        let mut cmd = Command::new(&self.spec.program);
        cmd.args(&self.spec.args)
            .current_dir(&self.spec.cwd)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            // Own process group: a Ctrl-C meant for the test run must not reach the server.
            .process_group(0);
        os::apply_identity(&mut cmd, self.spec.run_as);
        let child = cmd
            .spawn()
            .context(format!("start {}", self.spec.program.display()))?;
        *slot = Some(child);
        Ok(())
    }

    fn slot(&self) -> MutexGuard<'_, Option<Child>> {
        // A panic while holding this lock leaves a valid Option behind; keep going.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pid of the process, if one was started and not stopped by us.
    pub fn pid(&self) -> Option<u32> {
        self.slot().as_ref().map(Child::id)
    }

    /// True while the process has not exited.
    pub fn is_running(&self) -> bool {
        match self.slot().as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Fails with the log's tail if the process has exited (used while waiting for start).
    pub fn check_running(&self, name: &str) -> Result<()> {
        if self.is_running() {
            return Ok(());
        }
        Err(Error::new(format!(
            "{name} exited during start-up; last lines of {}:\n{}",
            self.spec.log.display(),
            os::log_tail(&self.spec.log, 15)
        )))
    }

    /// Sends `sig` and waits up to `grace` for the process to exit; SIGKILLs it after that.
    /// Also kills any children it leaves behind (PostgreSQL backends).
    pub fn stop_with(&self, sig: libc::c_int, grace: Duration) {
        let Some(mut child) = self.slot().take() else {
            return;
        };
        let pid = child.id();
        let children = os::children_of(pid);
        os::signal(pid, sig);
        if !os::reap(&mut child, grace) {
            os::signal(pid, libc::SIGKILL);
            os::reap(&mut child, Duration::from_secs(10));
        }
        for &c in &children {
            os::signal(c, libc::SIGKILL);
        }
        os::wait_gone(&children, Duration::from_secs(10));
    }

    /// kill -9 of the server and of every process it forked.
    pub fn kill9(&self) {
        let Some(mut child) = self.slot().take() else {
            return;
        };
        let pid = child.id();
        let children = os::children_of(pid);
        os::signal(pid, libc::SIGKILL);
        for &c in &children {
            os::signal(c, libc::SIGKILL);
        }
        os::reap(&mut child, Duration::from_secs(10));
        os::wait_gone(&children, Duration::from_secs(10));
    }

    /// The log file.
    pub fn log(&self) -> &std::path::Path {
        &self.spec.log
    }
}
