//! Pools of MariaDB/MySQL connections: the engine-independent pools of
//! [`crate::backend::pool`] over [`MyConn`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::conn::MyConn;
use crate::backend::pg::{NodeInfo, ServerError};
use crate::backend::pool::{NodePool, PooledConn, ServerConnection};

pub use crate::backend::pool::discard;

/// The pool of one MySQL node.
pub type MyNodePool = NodePool<MyConn>;

/// A checked-out MySQL connection.
pub type PooledMyConn = PooledConn<MyConn>;

impl ServerConnection for MyConn {
    fn connect(node: Arc<NodeInfo>) -> impl Future<Output = Result<Self, ServerError>> + Send {
        MyConn::connect(node)
    }
    fn is_broken(&self) -> bool {
        self.broken
    }
    fn in_transaction(&self) -> bool {
        MyConn::in_transaction(self)
    }
    fn age(&self) -> Duration {
        MyConn::age(self)
    }
    fn idle_socket_is_dead(&mut self) -> bool {
        MyConn::idle_socket_is_dead(self)
    }
}
