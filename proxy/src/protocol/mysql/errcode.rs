//! MySQL error numbers with their SQLSTATEs, named in one place, and the mapping from the
//! PostgreSQL-style SQLSTATEs the router (`RouteError`) and the proxy report to the MySQL
//! error a MySQL client should see.
//!
//! The numbers and states are the server's own (MariaDB `errmsg-utf8.txt`, MySQL
//! `sql_state.h`), except where a constant says the proxy chose otherwise.

/// A MySQL error: number and SQLSTATE, as written into an ERR packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode {
    /// Error number.
    pub code: u16,
    /// Five-character SQLSTATE.
    pub sqlstate: &'static str,
}

const fn e(code: u16, sqlstate: &'static str) -> ErrorCode {
    ErrorCode { code, sqlstate }
}

/// Too many connections.
pub const ER_CON_COUNT_ERROR: ErrorCode = e(1040, "08004");
/// Bad handshake (malformed handshake response, unsupported protocol).
pub const ER_HANDSHAKE_ERROR: ErrorCode = e(1043, "08S01");
/// A user already has as many connections as it may (`max_user_connections`).
pub const ER_TOO_MANY_USER_CONNECTIONS: ErrorCode = e(1203, "42000");
/// The client was disconnected for inactivity (MySQL 8's number; MariaDB closes silently).
pub const ER_CLIENT_INTERACTION_TIMEOUT: ErrorCode = e(4031, "HY000");
/// Access denied for user to database.
pub const ER_DBACCESS_DENIED_ERROR: ErrorCode = e(1044, "42000");
/// Access denied for user (wrong user or password).
pub const ER_ACCESS_DENIED_ERROR: ErrorCode = e(1045, "28000");
/// No database selected.
pub const ER_NO_DB_ERROR: ErrorCode = e(1046, "3D000");
/// Unknown command byte.
pub const ER_UNKNOWN_COM_ERROR: ErrorCode = e(1047, "08S01");
/// Unknown database.
pub const ER_BAD_DB_ERROR: ErrorCode = e(1049, "42000");
/// Server shutdown in progress.
pub const ER_SERVER_SHUTDOWN: ErrorCode = e(1053, "08S01");
/// Syntax error.
pub const ER_PARSE_ERROR: ErrorCode = e(1064, "42000");
/// Query was empty.
pub const ER_EMPTY_QUERY: ErrorCode = e(1065, "42000");
/// Unknown (generic) error.
pub const ER_UNKNOWN_ERROR: ErrorCode = e(1105, "HY000");
/// Table doesn't exist.
pub const ER_NO_SUCH_TABLE: ErrorCode = e(1146, "42S02");
/// Got a packet bigger than `max_allowed_packet`.
pub const ER_NET_PACKET_TOO_LARGE: ErrorCode = e(1153, "08S01");
/// Got packets out of order (wrong sequence id).
pub const ER_NET_PACKETS_OUT_OF_ORDER: ErrorCode = e(1156, "08S01");
/// Got an error reading communication packets.
pub const ER_NET_READ_ERROR: ErrorCode = e(1158, "08S01");
/// Got timeout reading communication packets.
pub const ER_NET_READ_INTERRUPTED: ErrorCode = e(1159, "08S01");
/// Error during COMMIT.
pub const ER_ERROR_DURING_COMMIT: ErrorCode = e(1180, "HY000");
/// Unknown system variable.
pub const ER_UNKNOWN_SYSTEM_VARIABLE: ErrorCode = e(1193, "HY000");
/// Lock wait timeout exceeded.
pub const ER_LOCK_WAIT_TIMEOUT: ErrorCode = e(1205, "HY000");
/// Incorrect arguments (e.g. to `mysqld_stmt_execute`).
pub const ER_WRONG_ARGUMENTS: ErrorCode = e(1210, "HY000");
/// Deadlock found.
pub const ER_LOCK_DEADLOCK: ErrorCode = e(1213, "40001");
/// Access denied; you need a privilege.
pub const ER_SPECIFIC_ACCESS_DENIED_ERROR: ErrorCode = e(1227, "42000");
/// Variable can't be set to the value.
pub const ER_WRONG_VALUE_FOR_VAR: ErrorCode = e(1231, "42000");
/// This version doesn't yet support something.
pub const ER_NOT_SUPPORTED_YET: ErrorCode = e(1235, "42000");
/// Unknown prepared statement handler.
pub const ER_UNKNOWN_STMT_HANDLER: ErrorCode = e(1243, "HY000");
/// Client does not support the authentication protocol.
pub const ER_NOT_SUPPORTED_AUTH_MODE: ErrorCode = e(1251, "08004");
/// Out of range value.
pub const ER_WARN_DATA_OUT_OF_RANGE: ErrorCode = e(1264, "22003");
/// The server runs with an option that prevents the statement (e.g. `--read-only`).
pub const ER_OPTION_PREVENTS_STATEMENT: ErrorCode = e(1290, "HY000");
/// Command not supported in the prepared statement protocol.
pub const ER_UNSUPPORTED_PS: ErrorCode = e(1295, "HY000");
/// Query execution was interrupted.
pub const ER_QUERY_INTERRUPTED: ErrorCode = e(1317, "70100");
/// Incorrect value for a column ("Incorrect integer value: 'abc'").
pub const ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: ErrorCode = e(1366, "HY000");
/// XAER_NOTA: unknown XID.
pub const ER_XAER_NOTA: ErrorCode = e(1397, "XAE04");
/// XAER_INVAL: invalid arguments.
pub const ER_XAER_INVAL: ErrorCode = e(1398, "XAE05");
/// XAER_RMFAIL: command not allowed in the global transaction's state.
pub const ER_XAER_RMFAIL: ErrorCode = e(1399, "XAE07");
/// XAER_OUTSIDE: work done outside the global transaction.
pub const ER_XAER_OUTSIDE: ErrorCode = e(1400, "XAE09");
/// XAER_RMERR: fatal error in the transaction branch.
pub const ER_XAER_RMERR: ErrorCode = e(1401, "XAE03");
/// XA_RBROLLBACK: the transaction branch was rolled back.
pub const ER_XA_RBROLLBACK: ErrorCode = e(1402, "XA100");
/// Unable to connect to a foreign data source.
pub const ER_CONNECT_TO_FOREIGN_DATA_SOURCE: ErrorCode = e(1429, "HY000");
/// XAER_DUPID: the XID already exists.
pub const ER_XAER_DUPID: ErrorCode = e(1440, "XAE08");
/// XA_RBTIMEOUT: branch rolled back, took too long.
pub const ER_XA_RBTIMEOUT: ErrorCode = e(1613, "XA106");
/// XA_RBDEADLOCK: branch rolled back, deadlock.
pub const ER_XA_RBDEADLOCK: ErrorCode = e(1614, "XA102");
/// Cannot execute statement in a READ ONLY transaction.
pub const ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: ErrorCode = e(1792, "25006");
/// Malformed communication packet.
pub const ER_MALFORMED_PACKET: ErrorCode = e(1835, "HY000");
/// MariaDB's "Connection was killed" (MariaDB sends it with `70100`).
pub const ER_CONNECTION_KILLED: ErrorCode = e(1927, "70100");

/// The proxy's error for a backend lost in the middle of a statement (PostgreSQL
/// `08006`): MariaDB's `ER_CONNECTION_KILLED` number, which connectors and pools already
/// treat as "this session is gone", with SQLSTATE `08S01` (communication link failure,
/// as MaxScale sends it) so JDBC-style drivers discard the session — its transaction died
/// with the backend connection. Not `CR_SERVER_LOST` (2013): that is a client-library
/// error a server never sends, and clients would believe their socket to the proxy broke.
pub const BACKEND_LOST: ErrorCode = e(1927, "08S01");

/// The proxy's error when a commit's outcome could not be learned (PostgreSQL `08007`):
/// MySQL has no number for it, so the generic 1105 with the standard SQLSTATE
/// `08007` (transaction resolution unknown) keeps the meaning for drivers that read it.
pub const TRANSACTION_RESOLUTION_UNKNOWN: ErrorCode = e(1105, "08007");

/// PostgreSQL SQLSTATE → MySQL error, for errors the router and the proxy produce.
const FROM_PG: &[(&str, ErrorCode)] = &[
    ("0A000", ER_NOT_SUPPORTED_YET), // feature_not_supported
    ("42601", ER_PARSE_ERROR),       // syntax_error
    ("22P02", ER_TRUNCATED_WRONG_VALUE_FOR_FIELD), // invalid_text_representation
    ("22P03", ER_WRONG_ARGUMENTS),   // invalid_binary_representation
    ("22003", ER_WARN_DATA_OUT_OF_RANGE), // numeric_value_out_of_range
    ("22023", ER_WRONG_VALUE_FOR_VAR), // invalid_parameter_value
    ("42P02", ER_WRONG_ARGUMENTS),   // undefined_parameter
    ("42P01", ER_NO_SUCH_TABLE),     // undefined_table
    ("42501", ER_SPECIFIC_ACCESS_DENIED_ERROR), // insufficient_privilege
    ("55P03", ER_LOCK_WAIT_TIMEOUT), // lock_not_available
    ("40001", ER_LOCK_DEADLOCK),     // serialization_failure
    ("40P01", ER_LOCK_DEADLOCK),     // deadlock_detected
    ("40000", ER_XA_RBROLLBACK),     // transaction_rollback
    ("08006", BACKEND_LOST),         // connection_failure
    ("08004", ER_CONNECT_TO_FOREIGN_DATA_SOURCE), // backend refused the connection
    ("08007", TRANSACTION_RESOLUTION_UNKNOWN), // transaction_resolution_unknown
    ("08P01", ER_MALFORMED_PACKET),  // protocol_violation
    ("57014", ER_QUERY_INTERRUPTED), // query_canceled
    ("53300", ER_CON_COUNT_ERROR),   // too_many_connections
    ("28000", ER_ACCESS_DENIED_ERROR), // invalid_authorization_specification
    ("28P01", ER_ACCESS_DENIED_ERROR), // invalid_password
    ("3D000", ER_BAD_DB_ERROR),      // invalid_catalog_name
    ("26000", ER_UNKNOWN_STMT_HANDLER), // invalid_sql_statement_name
    ("25006", ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION), // read_only_sql_transaction
    ("XX000", ER_UNKNOWN_ERROR),     // internal_error
];

/// The MySQL error for a PostgreSQL-style SQLSTATE (e.g. a `RouteError`'s); anything
/// unknown is [`ER_UNKNOWN_ERROR`] (1105, `HY000`).
pub fn from_pg_sqlstate(sqlstate: &str) -> ErrorCode {
    FROM_PG
        .iter()
        .find(|(pg, _)| *pg == sqlstate)
        .map_or(ER_UNKNOWN_ERROR, |(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_sqlstates_map_to_mysql_errors() {
        let cases = [
            ("0A000", 1235, "42000"),
            ("42601", 1064, "42000"),
            ("22P02", 1366, "HY000"),
            ("42P01", 1146, "42S02"),
            ("42501", 1227, "42000"),
            ("55P03", 1205, "HY000"),
            ("40001", 1213, "40001"),
            ("08006", 1927, "08S01"),
            ("57014", 1317, "70100"),
            ("XX000", 1105, "HY000"),
            ("ZZZZZ", 1105, "HY000"),
        ];
        for (pg, code, state) in cases {
            assert_eq!(
                from_pg_sqlstate(pg),
                ErrorCode {
                    code,
                    sqlstate: state
                },
                "{pg}"
            );
        }
    }

    #[test]
    fn every_sqlstate_is_five_ascii_characters_and_pg_keys_are_unique() {
        for (pg, e) in FROM_PG {
            assert_eq!(pg.len(), 5);
            assert_eq!(e.sqlstate.len(), 5);
            assert!(e.sqlstate.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(FROM_PG.iter().filter(|(p, _)| p == pg).count(), 1, "{pg}");
        }
    }

    #[test]
    fn the_router_sqlstate_list_is_covered() {
        use shardwire_router::sqlstate as s;
        for pg in [
            s::FEATURE_NOT_SUPPORTED,
            s::SYNTAX_ERROR,
            s::INVALID_TEXT_REPRESENTATION,
            s::INVALID_BINARY_REPRESENTATION,
            s::NUMERIC_VALUE_OUT_OF_RANGE,
            s::INVALID_PARAMETER_VALUE,
            s::UNDEFINED_PARAMETER,
            s::PROTOCOL_VIOLATION,
            s::INTERNAL_ERROR,
        ] {
            assert!(FROM_PG.iter().any(|(p, _)| *p == pg), "{pg}");
        }
    }
}
