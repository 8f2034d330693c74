//! Per-node pools of raw server connections on deadpool, with our own manager, for both
//! engines: a connection goes back into service only if it is idle (not inside a
//! transaction), not broken, its socket is alive, and it is younger than the maximum
//! lifetime.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{
    self, Metrics, Pool, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts,
};

use super::pg::{NodeInfo, ServerConn, ServerError};

/// Idle time after which a connection's socket is probed before reuse.
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(1);

/// What a pool needs of a server connection.
pub trait ServerConnection: Send + Sized + 'static {
    /// Connects to `node` and logs in.
    fn connect(node: Arc<NodeInfo>) -> impl Future<Output = Result<Self, ServerError>> + Send;
    /// Whether it must not be reused.
    fn is_broken(&self) -> bool;
    /// Whether the server is inside a transaction on it.
    fn in_transaction(&self) -> bool;
    /// How long ago it was made.
    fn age(&self) -> Duration;
    /// Whether an idle connection's socket has data or is closed (it should be silent).
    fn idle_socket_is_dead(&mut self) -> bool;
}

impl ServerConnection for ServerConn {
    fn connect(node: Arc<NodeInfo>) -> impl Future<Output = Result<Self, ServerError>> + Send {
        ServerConn::connect(node)
    }
    fn is_broken(&self) -> bool {
        self.broken
    }
    fn in_transaction(&self) -> bool {
        self.status != crate::protocol::pg::tag::txn_status::IDLE
    }
    fn age(&self) -> Duration {
        ServerConn::age(self)
    }
    fn idle_socket_is_dead(&mut self) -> bool {
        ServerConn::idle_socket_is_dead(self)
    }
}

/// Creates and recycles server connections for one node.
#[derive(Debug)]
pub struct Manager<C> {
    node: Arc<NodeInfo>,
    max_lifetime: Duration,
    conn: PhantomData<fn() -> C>,
}

impl<C: ServerConnection> managed::Manager for Manager<C> {
    // Boxed: a server connection (socket halves, buffers, prepared-statement set) is a few
    // hundred bytes, and deadpool moves the object in and out of its slot queue on every
    // checkout and return — six struct copies per transaction on the pgbench path.
    type Type = Box<C>;
    type Error = ServerError;

    async fn create(&self) -> Result<Box<C>, ServerError> {
        C::connect(self.node.clone()).await.map(Box::new)
    }

    async fn recycle(&self, conn: &mut Box<C>, metrics: &Metrics) -> RecycleResult<ServerError> {
        if conn.is_broken() {
            return Err(RecycleError::message("marked broken"));
        }
        if conn.in_transaction() {
            return Err(RecycleError::message("returned inside a transaction"));
        }
        if conn.age() > self.max_lifetime {
            return Err(RecycleError::message("past its maximum lifetime"));
        }
        // The probe costs a syscall; a connection used moments ago is almost surely alive,
        // and if not, the session reports the failure and the pool drops it.
        if metrics.last_used() > PROBE_AFTER_IDLE && conn.idle_socket_is_dead() {
            return Err(RecycleError::message("socket closed by the server"));
        }
        Ok(())
    }
}

/// A checked-out connection; returns to its pool on drop unless taken.
pub type PooledConn<C = ServerConn> = managed::Object<Manager<C>>;

/// The pool of one node.
#[derive(Debug)]
pub struct NodePool<C: ServerConnection = ServerConn> {
    node: Arc<NodeInfo>,
    pool: Pool<Manager<C>>,
    /// How long a checkout waits when every connection is busy (`proxy.pool_timeout`).
    wait: Duration,
}

/// The first checkout attempt: take an idle slot without waiting. A zero wait makes
/// deadpool try the semaphore instead of arming a timer, so the common, uncontended
/// checkout costs no timer-wheel insert and removal; only a full pool pays for the timed
/// wait. No recycle timeout: `Manager::recycle` never waits.
const NO_WAIT: Timeouts = Timeouts {
    wait: Some(Duration::ZERO),
    create: Some(CREATE_TIMEOUT),
    recycle: None,
};

/// How long opening a server connection may take.
const CREATE_TIMEOUT: Duration = Duration::from_secs(10);

/// Another handle on the same pool (a reload keeps the pools of unchanged nodes).
impl<C: ServerConnection> Clone for NodePool<C> {
    fn clone(&self) -> Self {
        NodePool {
            node: self.node.clone(),
            pool: self.pool.clone(),
            wait: self.wait,
        }
    }
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

impl<C: ServerConnection> NodePool<C> {
    /// A pool of at most `size` connections to `node`, waiting at most `wait` for one.
    pub fn new(node: Arc<NodeInfo>, size: usize, wait: Duration) -> NodePool<C> {
        let manager = Manager {
            node: node.clone(),
            max_lifetime: Duration::from_secs(3600),
            conn: PhantomData,
        };
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .wait_timeout(Some(wait))
            .create_timeout(Some(CREATE_TIMEOUT))
            .recycle_timeout(None)
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .unwrap_or_else(|_| unreachable!("a runtime is set, so building cannot fail"));
        NodePool { node, pool, wait }
    }

    /// The same pool under a reloaded config: resized in place (sessions still on the
    /// old config share it, so the node never sees both sizes' connections at once) and
    /// with the new wait.
    pub fn reconfigured(&self, size: usize, wait: Duration) -> NodePool<C> {
        if self.pool.status().max_size != size.max(1) {
            self.pool.resize(size.max(1));
        }
        NodePool {
            node: self.node.clone(),
            pool: self.pool.clone(),
            wait,
        }
    }

    /// The node.
    pub fn node(&self) -> &Arc<NodeInfo> {
        &self.node
    }

    /// Checks a connection out, waiting at most the configured time.
    pub async fn get(&self) -> Result<PooledConn<C>, CheckoutError> {
        let got = match self.pool.timeout_get(&NO_WAIT).await {
            Err(PoolError::Timeout(TimeoutType::Wait)) => {
                let waiting = Timeouts {
                    wait: Some(self.wait),
                    ..NO_WAIT
                };
                self.pool.timeout_get(&waiting).await
            }
            other => other,
        };
        got.map_err(|e| match e {
            PoolError::Timeout(_) => CheckoutError::Exhausted {
                node: self.node.name.clone(),
                waited: self.wait,
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

    /// How many connections are in use (checked out), for the least-busy replica choice.
    pub fn in_use(&self) -> u32 {
        let status = self.pool.status();
        status.size.saturating_sub(status.available) as u32
    }
}

/// Removes a connection from its pool for good (it is closed when dropped).
pub fn discard<C: ServerConnection>(conn: PooledConn<C>) {
    drop(managed::Object::take(conn));
}
