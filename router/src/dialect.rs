//! Which SQL dialect the router reads: the frontend that received the statement decides.
//!
//! The lexer (`lexer`, `lexer_mysql`), the normalizer, the keyword fast path (`keyword`
//! for PostgreSQL, `keyword_mysql` for MySQL) and the sqlparser dialect (`sql_dialect`)
//! depend on it; everything after parsing — scan, key extraction, routing, the sharding
//! function — is shared, with a few MySQL rules where the two databases differ (where
//! `NULL`s sort, what a `LIMIT` may hold, DDL committing implicitly).

/// The SQL dialect of the statements a [`Router`](crate::Router) receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// PostgreSQL: the PG frontend.
    #[default]
    Postgres,
    /// MySQL / MariaDB (default `sql_mode`): the MySQL frontend.
    MySql,
}
