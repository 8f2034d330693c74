//! `KILL QUERY <id>` from MySQL clients: the `mysql` client's Ctrl-C opens a second
//! connection and sends it with the connection id the proxy gave the first one. Each
//! session publishes, while a statement runs, which server connection runs it; the kill
//! is passed on as `KILL QUERY <server thread id>` over a fresh connection to that node.
//!
//! The registry is touched at login and logout; per statement a session only updates its
//! own slot (an uncontended lock).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::backend::mysql::conn::MyConn;
use crate::backend::pg::NodeInfo;

/// What a session is running now: the node and the server's thread id.
pub(super) type Running = Arc<Mutex<Option<(Arc<NodeInfo>, u32)>>>;

/// A session's entry: its user and what it runs.
struct Entry {
    user: String,
    running: Running,
}

fn registry() -> &'static Mutex<HashMap<u32, Entry>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u32, Entry>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A session's registration; removed when dropped.
pub(super) struct Registration {
    id: u32,
    /// The slot the session updates per statement.
    pub running: Running,
}

impl Registration {
    /// Registers the session with proxy connection id `id`.
    pub fn new(id: u32, user: &str) -> Registration {
        let running: Running = Arc::new(Mutex::new(None));
        registry().lock().unwrap_or_else(|e| e.into_inner()).insert(
            id,
            Entry {
                user: user.to_string(),
                running: running.clone(),
            },
        );
        Registration { id, running }
    }

    /// Records what runs now (`None` when nothing does).
    pub fn set(&self, now: Option<(Arc<NodeInfo>, u32)>) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Why a kill was not passed on.
#[derive(Debug, thiserror::Error)]
pub(super) enum KillError {
    /// No session has that id.
    #[error("Unknown thread id: {0}")]
    Unknown(u32),
    /// Another user's session, and the requester is not an admin.
    #[error("You are not owner of thread {0}")]
    NotOwner(u32),
    /// The node did not take the kill.
    #[error("could not pass KILL QUERY on to {node}: {reason}")]
    Failed {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
}

/// Interrupts what session `id` runs now (nothing if it is idle), on behalf of `user`.
pub(super) async fn kill_query(id: u32, user: &str, admin: bool) -> Result<(), KillError> {
    let running = {
        let registry = registry().lock().unwrap_or_else(|e| e.into_inner());
        let entry = registry.get(&id).ok_or(KillError::Unknown(id))?;
        if entry.user != user && !admin {
            return Err(KillError::NotOwner(id));
        }
        let now = entry
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        now
    };
    kill_running(running).await
}

/// Interrupts the statement a session runs now on `running`'s node (the proxy's
/// `query_timeout`, or a client's `KILL QUERY`).
pub(super) async fn kill_running(running: Option<(Arc<NodeInfo>, u32)>) -> Result<(), KillError> {
    let Some((node, thread)) = running else {
        return Ok(());
    };
    let failed = |reason: String| KillError::Failed {
        node: node.name.clone(),
        reason,
    };
    let mut conn = MyConn::connect(node.clone())
        .await
        .map_err(|e| failed(e.to_string()))?;
    let answer = conn
        .query(&format!("KILL QUERY {thread}"))
        .await
        .map_err(|e| failed(e.to_string()))?;
    match answer.error {
        // The statement ended meanwhile.
        Some(err) if err.code == 1094 => Ok(()),
        Some(err) => Err(failed(err.message)),
        None => Ok(()),
    }
}

/// The target of `KILL [QUERY] <id>` (`KILL HARD|SOFT …` too); `Some((query_only, id))`.
pub(super) fn parse_kill(sql: &str) -> Option<(bool, u32)> {
    let mut words = sql
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .peekable();
    if words.next()? != "KILL" {
        return None;
    }
    if matches!(words.peek().map(String::as_str), Some("HARD" | "SOFT")) {
        words.next();
    }
    let query_only = match words.peek().map(String::as_str) {
        Some("QUERY") => {
            words.next();
            true
        }
        Some("CONNECTION") => {
            words.next();
            false
        }
        _ => false,
    };
    let id = words.next()?.parse().ok()?;
    words.next().is_none().then_some((query_only, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_statements_name_their_target() {
        assert_eq!(parse_kill("KILL QUERY 42"), Some((true, 42)));
        assert_eq!(parse_kill("kill hard query 7;"), Some((true, 7)));
        assert_eq!(parse_kill("KILL 9"), Some((false, 9)));
        assert_eq!(parse_kill("KILL CONNECTION 9"), Some((false, 9)));
        assert_eq!(parse_kill("KILL QUERY ID 9"), None);
        assert_eq!(parse_kill("KILLER 9"), None);
        assert_eq!(parse_kill("KILL QUERY x"), None);
    }
}
