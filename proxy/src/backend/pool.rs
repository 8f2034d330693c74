//! Per-node pools of raw server connections on deadpool, with our own manager: a
//! connection goes back into service only if it is idle (not inside a transaction), its
//! socket is alive, and it is younger than the maximum lifetime.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, PoolError, RecycleError, RecycleResult};

use super::pg::{NodeInfo, ServerConn, ServerError};
use crate::protocol::pg::tag::txn_status;

/// Idle time after which a connection's socket is probed before reuse.
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Creates and recycles server connections for one node.
#[derive(Debug)]
pub struct PgManager {
    node: Arc<NodeInfo>,
    max_lifetime: Duration,
}

impl managed::Manager for PgManager {
    type Type = ServerConn;
    type Error = ServerError;

    async fn create(&self) -> Result<ServerConn, ServerError> {
        ServerConn::connect(self.node.clone()).await
    }

    async fn recycle(
        &self,
        conn: &mut ServerConn,
        metrics: &Metrics,
    ) -> RecycleResult<ServerError> {
        if conn.broken {
            return Err(RecycleError::message("marked broken"));
        }
        if conn.status != txn_status::IDLE {
            return Err(RecycleError::message("returned inside a transaction"));
        }
        if conn.age() > self.max_lifetime {
            return Err(RecycleError::message("past its maximum lifetime"));
        }
        // The probe costs a syscall; a connection used moments ago is almost surely alive,
        // and if not, the session reports 08006 and the pool drops it.
        if metrics.last_used() > PROBE_AFTER_IDLE && conn.idle_socket_is_dead() {
            return Err(RecycleError::message("socket closed by the server"));
        }
        Ok(())
    }
}

/// A checked-out connection; returns to its pool on drop unless taken.
pub type PooledConn = managed::Object<PgManager>;

/// The pool of one node.
#[derive(Clone, Debug)]
pub struct NodePool {
    node: Arc<NodeInfo>,
    pool: Pool<PgManager>,
}

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// All connections busy past the wait timeout.
    #[error(
        "pool for {node} exhausted: no server connection free within {waited:?} (pool_size {size})"
    )]
    Exhausted {
        /// Node name.
        node: String,
        /// How long we waited.
        waited: Duration,
        /// Pool size.
        size: usize,
    },
    /// Connecting failed.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The pool is shut down.
    #[error("pool for {0} is closed")]
    Closed(String),
}

impl NodePool {
    /// A pool of at most `size` connections to `node`.
    pub fn new(node: Arc<NodeInfo>, size: usize, wait: Duration) -> NodePool {
        let manager = PgManager {
            node: node.clone(),
            max_lifetime: Duration::from_secs(3600),
        };
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .wait_timeout(Some(wait))
            .create_timeout(Some(Duration::from_secs(10)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .unwrap_or_else(|_| unreachable!("a runtime is set, so building cannot fail"));
        NodePool { node, pool }
    }

    /// The node.
    pub fn node(&self) -> &Arc<NodeInfo> {
        &self.node
    }

    /// Checks a connection out, waiting at most the configured time.
    pub async fn get(&self) -> Result<PooledConn, CheckoutError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => CheckoutError::Exhausted {
                node: self.node.name.clone(),
                waited: self.pool.timeouts().wait.unwrap_or_default(),
                size: self.pool.status().max_size,
            },
            PoolError::Backend(e) => CheckoutError::Server(e),
            PoolError::PostCreateHook(e) => {
                CheckoutError::Closed(format!("{}: {e}", self.node.name))
            }
            PoolError::Closed | PoolError::NoRuntimeSpecified => {
                CheckoutError::Closed(self.node.name.clone())
            }
        })
    }

    /// Size and idle counts.
    pub fn status(&self) -> deadpool::Status {
        self.pool.status()
    }
}

/// Removes a connection from its pool for good (it is closed when dropped).
pub fn discard(conn: PooledConn) {
    drop(managed::Object::take(conn));
}
