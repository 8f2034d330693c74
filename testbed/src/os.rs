//! Operating-system plumbing: which OS user runs each server (PostgreSQL refuses root),
//! file ownership, signals, and reaping of server processes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::{Context, Error, Result};

/// The uid/gid a server runs as, or `None` to run as the current user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAs {
    /// Numeric user id.
    pub uid: u32,
    /// Numeric primary group id.
    pub gid: u32,
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Looks up `name` in /etc/passwd; returns its uid and gid.
pub fn lookup_user(name: &str) -> Option<RunAs> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(RunAs { uid, gid })
    })
}

/// The identity a server must run as: `os_user` when we are root (servers refuse root),
/// otherwise ourselves.
pub fn server_identity(os_user: &str) -> Result<Option<RunAs>> {
    if !is_root() {
        return Ok(None);
    }
    lookup_user(os_user).map(Some).ok_or_else(|| {
        Error::new(format!(
            "running as root but there is no OS user {os_user:?} to run the server as; \
             install the server package (scripts/test.sh does)"
        ))
    })
}

/// Gives `path` (recursively) to `who`, if set.
pub fn chown_tree(path: &Path, who: Option<RunAs>) -> Result<()> {
    let Some(who) = who else { return Ok(()) };
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{}:{}", who.uid, who.gid))
        .arg(path)
        .status()
        .context(format!("chown {}", path.display()))?;
    if !status.success() {
        return Err(Error::new(format!("chown -R {} failed", path.display())));
    }
    Ok(())
}

/// Applies the identity to a command about to be spawned.
pub fn apply_identity(cmd: &mut Command, who: Option<RunAs>) {
    use std::os::unix::process::CommandExt;
    if let Some(who) = who {
        cmd.uid(who.uid).gid(who.gid);
    }
}

/// Sends `signal` to `pid`; a process that is already gone is not an error.
pub fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; errors (ESRCH) are ignored on purpose.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// True while `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => match stat.rsplit_once(')') {
            Some((_, rest)) => !rest.trim_start().starts_with(['Z', 'X']),
            None => true,
        },
        Err(_) => false,
    }
}

/// The pids whose parent is `pid` (PostgreSQL's backends and auxiliary processes).
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Waits until none of `pids` is alive, up to `limit`.
pub fn wait_gone(pids: &[u32], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if pids.iter().all(|&p| !is_alive(p)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps `child` if it has exited, waiting up to `limit`; returns whether it is gone.
pub fn reap(child: &mut std::process::Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() > deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
