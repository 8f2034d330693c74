//! Who is connected: one [`ClientEntry`] per client connection of either frontend, kept
//! from accept to close, for `SHOW shardwire.clients`. Sessions update their entry with
//! relaxed atomic stores (state, query count), so the per-query cost is two stores; the
//! registry's lock is taken only on connect, disconnect and when an admin lists clients.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// What a client is doing, as `SHOW shardwire.clients` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ClientState {
    /// Connected, not logged in yet.
    Login = 0,
    /// Waiting for the client's next request, outside a transaction.
    Idle = 1,
    /// A request is being served.
    Active = 2,
    /// Waiting for the client inside a transaction (holding server connections).
    IdleInTransaction = 3,
}

impl ClientState {
    /// The name shown to operators.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientState::Login => "login",
            ClientState::Idle => "idle",
            ClientState::Active => "active",
            ClientState::IdleInTransaction => "idle in transaction",
        }
    }

    fn from_u8(v: u8) -> ClientState {
        match v {
            1 => ClientState::Idle,
            2 => ClientState::Active,
            3 => ClientState::IdleInTransaction,
            _ => ClientState::Login,
        }
    }
}

/// One connected client.
#[derive(Debug)]
pub struct ClientEntry {
    /// Proxy-wide connection number, from 1.
    pub id: u64,
    /// `postgres` or `mysql`.
    pub protocol: &'static str,
    /// The client's address.
    pub peer: SocketAddr,
    /// When it connected.
    pub since: Instant,
    login: OnceLock<(String, String)>,
    database: Mutex<Option<String>>,
    state: AtomicU8,
    queries: AtomicU64,
}

impl ClientEntry {
    /// Records the authenticated user and the database the client logged in to.
    pub fn logged_in(&self, user: &str, database: &str) {
        let _ = self.login.set((user.to_string(), database.to_string()));
        self.set_state(ClientState::Idle);
    }

    /// Records a change of default database (MySQL `USE`, COM_INIT_DB).
    pub fn database_changed(&self, database: &str) {
        *self.database.lock().unwrap_or_else(|e| e.into_inner()) = Some(database.to_string());
    }

    /// A request starts.
    pub fn request_started(&self) {
        self.state
            .store(ClientState::Active as u8, Ordering::Relaxed);
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets what the client is doing now.
    pub fn set_state(&self, state: ClientState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// A snapshot for display.
    pub fn snapshot(&self) -> ClientSnapshot {
        let (user, login_db) = self.login.get().cloned().unwrap_or_default();
        let database = self
            .database
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or(login_db);
        ClientSnapshot {
            id: self.id,
            protocol: self.protocol,
            user,
            database,
            peer: self.peer,
            connected_secs: self.since.elapsed().as_secs_f64(),
            state: ClientState::from_u8(self.state.load(Ordering::Relaxed)),
            requests: self.queries.load(Ordering::Relaxed),
        }
    }
}

/// A client as `SHOW shardwire.clients` lists it.
#[derive(Debug, Clone)]
pub struct ClientSnapshot {
    /// Connection number.
    pub id: u64,
    /// Frontend protocol.
    pub protocol: &'static str,
    /// User name ("" before login).
    pub user: String,
    /// Current database ("" before login).
    pub database: String,
    /// Client address.
    pub peer: SocketAddr,
    /// Seconds since it connected.
    pub connected_secs: f64,
    /// What it is doing.
    pub state: ClientState,
    /// Requests it has sent (queries, extended-protocol batches, commands).
    pub requests: u64,
}

/// All connected clients of one proxy.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    entries: Mutex<BTreeMap<u64, Arc<ClientEntry>>>,
}

impl ClientRegistry {
    /// Registers a new connection; it is listed until the returned guard drops.
    pub fn connect(self: &Arc<Self>, protocol: &'static str, peer: SocketAddr) -> ClientGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Arc::new(ClientEntry {
            id,
            protocol,
            peer,
            since: Instant::now(),
            login: OnceLock::new(),
            database: Mutex::new(None),
            state: AtomicU8::new(ClientState::Login as u8),
            queries: AtomicU64::new(0),
        });
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, entry.clone());
        ClientGuard {
            registry: self.clone(),
            entry,
        }
    }

    /// Every connected client, by connection number.
    pub fn list(&self) -> Vec<ClientSnapshot> {
        let entries: Vec<Arc<ClientEntry>> = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        entries.iter().map(|e| e.snapshot()).collect()
    }

    /// Records the login of `entry` as `user` to `database`, unless `user` already has
    /// `max` logged-in connections: then `Err(max)`. Counting and recording happen under
    /// one lock, so two logins racing for a user's last slot cannot both get it.
    pub fn admit(
        &self,
        entry: &ClientEntry,
        user: &str,
        database: &str,
        max: Option<u32>,
    ) -> Result<(), u32> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = max {
            let logged_in = entries
                .values()
                .filter(|e| e.login.get().is_some_and(|(u, _)| u == user))
                .count();
            if logged_in >= max as usize {
                return Err(max);
            }
        }
        entry.logged_in(user, database);
        Ok(())
    }

    /// How many clients are connected.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A registered client connection; dropping it removes the entry.
#[derive(Debug)]
pub struct ClientGuard {
    registry: Arc<ClientRegistry>,
    /// The entry the session updates.
    pub entry: Arc<ClientEntry>,
}

impl ClientGuard {
    /// [`ClientRegistry::admit`] for this connection.
    pub fn admit(&self, user: &str, database: &str, max: Option<u32>) -> Result<(), u32> {
        self.registry.admit(&self.entry, user, database, max)
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.registry
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.entry.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_listed_from_connect_until_its_guard_drops() {
        let registry = Arc::new(ClientRegistry::default());
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let a = registry.connect("postgres", peer);
        let b = registry.connect("mysql", peer);
        a.entry.logged_in("app", "app");
        a.entry.request_started();
        b.entry.logged_in("app", "appmy");
        b.entry.database_changed("other");
        let listed = registry.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].state, ClientState::Active);
        assert_eq!(listed[0].requests, 1);
        assert_eq!(listed[1].database, "other");
        assert_eq!(listed[1].state, ClientState::Idle);
        drop(a);
        let listed = registry.list();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].protocol, "mysql");
        drop(b);
        assert!(registry.is_empty());
    }

    #[test]
    fn a_user_at_its_limit_is_refused_until_one_of_its_connections_leaves() {
        let registry = Arc::new(ClientRegistry::default());
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let first = registry.connect("postgres", peer);
        let second = registry.connect("mysql", peer);
        let third = registry.connect("postgres", peer);
        let other = registry.connect("postgres", peer);
        assert_eq!(registry.admit(&first.entry, "app", "app", Some(2)), Ok(()));
        assert_eq!(
            registry.admit(&second.entry, "app", "appmy", Some(2)),
            Ok(())
        );
        assert_eq!(registry.admit(&third.entry, "app", "app", Some(2)), Err(2));
        // Another user is not counted against it; no limit admits anyone.
        assert_eq!(registry.admit(&other.entry, "bob", "app", Some(1)), Ok(()));
        drop(first);
        assert_eq!(registry.admit(&third.entry, "app", "app", Some(2)), Ok(()));
        assert_eq!(registry.list()[1].user, "app");
    }
}
