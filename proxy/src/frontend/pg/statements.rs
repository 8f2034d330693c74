//! Prepared statements that survive transaction pooling.
//!
//! A client's named statement lives in the session; its text + parameter types map to one
//! server-side name (`sw_<n>`) shared by every session, so a statement is prepared at most
//! once per server connection however many clients use it. Server connections remember
//! what they have prepared and are taught lazily, with a Parse injected before the first
//! Bind or Describe that needs it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use shardwire_router::Plan;

/// A statement as the proxy knows it.
#[derive(Debug)]
pub struct Statement {
    /// SQL text.
    pub sql: Arc<str>,
    /// Declared parameter types.
    pub param_types: Vec<u32>,
    /// The router's plan.
    pub plan: Arc<Plan>,
    /// Name on the servers ("" for the unnamed statement).
    pub server_name: Arc<str>,
}

/// A statement's identity: its text and declared parameter types.
type StatementKey = (Arc<str>, Vec<u32>);

/// The database-wide registry of server-side statement names.
#[derive(Debug, Default)]
pub struct StatementRegistry {
    by_text: Mutex<HashMap<StatementKey, Arc<Statement>>>,
}

/// Upper bound of distinct statements kept; past it, new texts get fresh names but the
/// registry stops growing (their server names are still unique).
const MAX_STATEMENTS: usize = 50_000;

impl StatementRegistry {
    /// The shared statement for this text and types, created on first use.
    pub fn get_or_insert(&self, sql: &str, param_types: &[u32], plan: Arc<Plan>) -> Arc<Statement> {
        let mut map = self.by_text.lock().unwrap_or_else(|e| e.into_inner());
        let key = (Arc::<str>::from(sql), param_types.to_vec());
        if let Some(s) = map.get(&key) {
            return s.clone();
        }
        let id = next_id();
        let stmt = Arc::new(Statement {
            sql: key.0.clone(),
            param_types: key.1.clone(),
            plan,
            server_name: Arc::from(format!("sw_{id}")),
        });
        if map.len() < MAX_STATEMENTS {
            map.insert(key, stmt.clone());
        }
        stmt
    }
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// An unnamed statement (server name "").
pub fn unnamed(sql: &str, param_types: &[u32], plan: Arc<Plan>) -> Arc<Statement> {
    Arc::new(Statement {
        sql: Arc::from(sql),
        param_types: param_types.to_vec(),
        plan,
        server_name: Arc::from(""),
    })
}
