//! CancelRequest delivery. Each client gets a key made by the proxy; while a server
//! connection serves that client, the key maps to the server's own key and address, so a
//! cancel reaches the backend that runs the client's query — and no other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

use crate::protocol::pg::build;
use crate::protocol::pg::tag::startup;

/// Where a cancel must go right now.
#[derive(Clone, Debug)]
pub struct ServerKey {
    /// The backend node (its `addr` is where the cancel goes).
    pub node: std::sync::Arc<crate::backend::pg::NodeInfo>,
    /// Backend pid.
    pub pid: i32,
    /// Backend secret.
    pub secret: i32,
}

/// The slot a session updates as it binds and releases server connections.
#[derive(Debug, Default)]
pub struct CancelSlot(Mutex<Targets>);

/// The servers running a client's statement: one, or one per shard of a scattered read.
#[derive(Debug, Default)]
struct Targets {
    one: Option<ServerKey>,
    scattered: Vec<ServerKey>,
}

impl CancelSlot {
    /// Sets or clears the current server.
    pub fn set(&self, key: Option<ServerKey>) {
        let mut targets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        targets.one = key;
        targets.scattered.clear();
    }

    /// Sets the servers of a scattered read.
    pub fn set_scattered(&self, keys: impl IntoIterator<Item = ServerKey>) {
        let mut targets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        targets.one = None;
        targets.scattered.clear();
        targets.scattered.extend(keys);
    }

    /// Cancels whatever the slot's servers run now (the proxy's `query_timeout`).
    pub async fn cancel_running(&self) {
        for target in &self.get() {
            send_cancel(target).await;
        }
    }

    fn get(&self) -> Vec<ServerKey> {
        let targets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        targets
            .one
            .iter()
            .chain(&targets.scattered)
            .cloned()
            .collect()
    }
}

/// All live client keys.
#[derive(Debug, Default)]
pub struct CancelRegistry {
    slots: Mutex<HashMap<(i32, i32), Arc<CancelSlot>>>,
}

/// Removes a client's key when its session ends.
#[derive(Debug)]
pub struct Registration {
    registry: Arc<CancelRegistry>,
    key: (i32, i32),
    /// The slot to update.
    pub slot: Arc<CancelSlot>,
}

impl Registration {
    /// The client-facing key (pid, secret).
    pub fn key(&self) -> (i32, i32) {
        self.key
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

impl CancelRegistry {
    /// Registers a new client with a fresh random key.
    pub fn register(self: &Arc<Self>) -> Registration {
        let slot = Arc::new(CancelSlot::default());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let key = loop {
            let pid = (rand::random::<u32>() >> 1) as i32;
            let secret = rand::random::<i32>();
            if !slots.contains_key(&(pid, secret)) {
                break (pid, secret);
            }
        };
        slots.insert(key, slot.clone());
        Registration {
            registry: self.clone(),
            key,
            slot,
        }
    }

    /// Forwards a CancelRequest for the client key to its current servers, if any.
    pub async fn cancel(&self, pid: i32, secret: i32) {
        let targets = {
            let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .get(&(pid, secret))
                .map(|s| s.get())
                .unwrap_or_default()
        };
        for target in &targets {
            send_cancel(target).await;
        }
    }
}

/// Sends a CancelRequest for the statement running on a server connection; best effort.
pub async fn send_cancel(target: &ServerKey) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(&target.node.addr).await else {
        return;
    };
    let mut out = BytesMut::new();
    build::startup_packet(&mut out, startup::CANCEL_REQUEST, |b| {
        use bytes::BufMut;
        b.put_i32(target.pid);
        b.put_i32(target.secret);
    });
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}
