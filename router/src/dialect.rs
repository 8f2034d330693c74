//! Which SQL dialect the router reads: the frontend that received the statement decides.
//!
//! The lexer, the keyword fast path and the sqlparser dialect all depend on it. Only
//! PostgreSQL is implemented; the MySQL frontend arrives with its own issue, and until
//! then a router built for MySQL refuses every statement with a clear error rather than
//! reading MySQL with PostgreSQL's rules (backslash escapes and backquotes differ).

use crate::error::RouteError;

/// The SQL dialect of the statements a [`Router`](crate::Router) receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL: the PG frontend.
    Postgres,
    /// MySQL / MariaDB: the MySQL frontend (not implemented yet).
    MySql,
}

impl Dialect {
    /// `Ok` when the router can read this dialect.
    pub(crate) fn check_supported(self) -> Result<(), RouteError> {
        match self {
            Dialect::Postgres => Ok(()),
            Dialect::MySql => Err(RouteError::unsupported(
                "the MySQL dialect is not supported by the router yet",
            )),
        }
    }
}
