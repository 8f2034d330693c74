//! Which server connection serves a statement, and bringing it to the session's state.
//!
//! Outside a transaction a statement borrows a pooled connection of the shard's primary
//! for the length of its answer. A statement the proxy does not track may leave the
//! server inside a transaction (a `BEGIN` hidden in a multi-statement string, `LOCK
//! TABLES` …): that connection is *pinned* to the session until the server says the
//! transaction ended, and statements for other shards are refused meanwhile.

use std::sync::Arc;

use super::session::Settings;
use crate::backend::mysql::conn::MyConn;
use crate::backend::mysql::pool::{discard, PooledMyConn};
use crate::backend::pg::ServerError;
use crate::backend::pool::CheckoutError;
use crate::cluster::MyDatabaseRuntime;

/// A connection held because it carries session state the proxy does not track: a
/// transaction the proxy did not open, or table locks (`LOCK TABLES` belong to the
/// connection that took them, until `UNLOCK TABLES`).
pub(super) struct Pinned {
    /// Its shard.
    pub shard: u32,
    /// The connection.
    pub conn: PooledMyConn,
    /// `LOCK TABLES` is in force on it.
    pub tables_locked: bool,
}

impl Pinned {
    /// Whether the connection must stay with the session.
    pub fn still_needed(&self) -> bool {
        self.conn.in_transaction() || self.tables_locked
    }

    /// Rolls back, unlocks, and returns the connection (or drops it if that fails).
    pub async fn abandon(mut self) {
        match self.conn.query("ROLLBACK; UNLOCK TABLES").await {
            Ok(answer) if answer.error.is_none() && !self.conn.in_transaction() => {}
            _ => discard(self.conn),
        }
    }
}

/// Why no connection could serve a statement.
#[derive(Debug, thiserror::Error)]
pub(super) enum ConnError {
    /// No connection from the pool.
    #[error("{0}")]
    Checkout(#[from] CheckoutError),
    /// The connection failed while being prepared.
    #[error("{0}")]
    Server(#[from] ServerError),
    /// Replaying a setting failed (it worked when the client set it).
    #[error("replaying `{statement}` on {node} failed: {message}")]
    Setting {
        /// The setting.
        statement: Arc<str>,
        /// Node.
        node: String,
        /// The server's error.
        message: String,
    },
}

/// A connection of `shard`'s primary, with the session's settings applied.
pub(super) async fn checkout(
    db: &MyDatabaseRuntime,
    shard: u32,
    settings: &Settings,
) -> Result<PooledMyConn, ConnError> {
    checkout_node(db, shard, None, settings).await
}

/// A connection of `shard`'s primary or of its replica `replica`, settings applied.
pub(super) async fn checkout_node(
    db: &MyDatabaseRuntime,
    shard: u32,
    replica: Option<usize>,
    settings: &Settings,
) -> Result<PooledMyConn, ConnError> {
    let missing = || {
        ConnError::Server(ServerError::Protocol {
            node: format!("{}/shard{shard}", db.config.name),
            reason: "no such node".into(),
        })
    };
    let runtime = db.shard(shard).ok_or_else(missing)?;
    let pool = match replica {
        None => &runtime.primary,
        Some(i) => runtime.replicas.get(i).ok_or_else(missing)?,
    };
    let mut conn = pool.get().await?;
    conn.last_gtid = None;
    if let Err(e) = sync_settings(&mut conn, settings).await {
        discard(conn);
        return Err(e);
    }
    Ok(conn)
}

/// Brings `conn`'s session settings to `settings`: the missing tail is applied; a
/// connection that has others is reset first (COM_RESET_CONNECTION also drops its
/// prepared statements).
pub(super) async fn sync_settings(conn: &mut MyConn, settings: &Settings) -> Result<(), ConnError> {
    let wanted = settings.iter().map(|(_, s)| s);
    let is_prefix = conn.applied.len() <= settings.len()
        && conn.applied.iter().zip(wanted.clone()).all(|(a, b)| a == b);
    if conn.applied.len() == settings.len() && is_prefix {
        return Ok(());
    }
    if !is_prefix {
        conn.reset_session().await?;
    }
    let start = conn.applied.len();
    for (_, statement) in &settings[start..] {
        let answer = conn.query(statement).await?;
        if let Some(err) = answer.error {
            return Err(ConnError::Setting {
                statement: statement.clone(),
                node: conn.node.name.clone(),
                message: err.message,
            });
        }
        conn.applied.push(statement.clone());
    }
    Ok(())
}
