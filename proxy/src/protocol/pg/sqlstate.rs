//! SQLSTATE codes the proxy itself reports, named.

/// Protocol violation.
pub const PROTOCOL_VIOLATION: &str = "08P01";
/// Connection failure (a backend died mid-query).
pub const CONNECTION_FAILURE: &str = "08006";
/// Could not connect to a backend.
pub const CONNECTION_REJECTED: &str = "08004";
/// Feature not supported (e.g. a statement needing several shards).
pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
/// Too many connections / pool exhausted.
pub const TOO_MANY_CONNECTIONS: &str = "53300";
/// Invalid password.
pub const INVALID_PASSWORD: &str = "28P01";
/// Invalid authorization specification (unknown user, bad auth message).
pub const INVALID_AUTHORIZATION: &str = "28000";
/// Database does not exist.
pub const INVALID_CATALOG_NAME: &str = "3D000";
/// Current transaction is aborted.
pub const IN_FAILED_TRANSACTION: &str = "25P02";
/// Prepared statement does not exist.
pub const INVALID_SQL_STATEMENT_NAME: &str = "26000";
/// Prepared statement already exists.
pub const DUPLICATE_PREPARED_STATEMENT: &str = "42P05";
/// Query canceled.
pub const QUERY_CANCELED: &str = "57014";
/// Internal error.
pub const INTERNAL_ERROR: &str = "XX000";
/// Invalid parameter value (bad session setting).
pub const INVALID_PARAMETER_VALUE: &str = "22023";
/// A write committed on the primary but not confirmed by enough replicas in time
/// (`system_error` class: the transaction itself succeeded).
pub const WRITE_CONCERN_TIMEOUT: &str = "58000";
/// `transaction_rollback`: a shard rolled the transaction back at commit.
pub const TRANSACTION_ROLLBACK: &str = "40000";
/// `transaction_resolution_unknown`: the commit point's outcome could not be learned.
pub const TRANSACTION_RESOLUTION_UNKNOWN: &str = "08007";
/// `idle_in_transaction_session_timeout`: the client sat idle inside a transaction.
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "25P03";
/// `idle_session_timeout`: the client sat idle outside a transaction.
pub const IDLE_SESSION_TIMEOUT: &str = "57P05";
