//! Per-node pools of raw MariaDB/MySQL connections, on deadpool like the PostgreSQL
//! ones: a connection goes back into service only if it is outside a transaction, not
//! broken, alive, and younger than the maximum lifetime.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, PoolError, RecycleError, RecycleResult};

use super::conn::MyConn;
use crate::backend::pg::{NodeInfo, ServerError};
use crate::backend::pool::CheckoutError;

/// Idle time after which a connection's socket is probed before reuse.
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Creates and recycles connections for one node.
#[derive(Debug)]
pub struct MyManager {
    node: Arc<NodeInfo>,
    max_lifetime: Duration,
}

impl managed::Manager for MyManager {
    type Type = MyConn;
    type Error = ServerError;

    async fn create(&self) -> Result<MyConn, ServerError> {
        MyConn::connect(self.node.clone()).await
    }

    async fn recycle(&self, conn: &mut MyConn, metrics: &Metrics) -> RecycleResult<ServerError> {
        if conn.broken {
            return Err(RecycleError::message("marked broken"));
        }
        if conn.in_transaction() {
            return Err(RecycleError::message("returned inside a transaction"));
        }
        if conn.age() > self.max_lifetime {
            return Err(RecycleError::message("past its maximum lifetime"));
        }
        if metrics.last_used() > PROBE_AFTER_IDLE && conn.idle_socket_is_dead() {
            return Err(RecycleError::message("socket closed by the server"));
        }
        Ok(())
    }
}

/// A checked-out connection; returns to its pool on drop unless taken.
pub type PooledMyConn = managed::Object<MyManager>;

/// The pool of one MySQL node.
#[derive(Clone, Debug)]
pub struct MyNodePool {
    node: Arc<NodeInfo>,
    pool: Pool<MyManager>,
}

impl MyNodePool {
    /// A pool of at most `size` connections to `node`, waiting at most `wait` for one.
    pub fn new(node: Arc<NodeInfo>, size: usize, wait: Duration) -> MyNodePool {
        let manager = MyManager {
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
        MyNodePool { node, pool }
    }

    /// The node.
    pub fn node(&self) -> &Arc<NodeInfo> {
        &self.node
    }

    /// Checks a connection out.
    pub async fn get(&self) -> Result<PooledMyConn, CheckoutError> {
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

/// Removes a connection from its pool for good (closed when dropped).
pub fn discard(conn: PooledMyConn) {
    drop(managed::Object::take(conn));
}
