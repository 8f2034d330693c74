//! Protocol numbers named in one place: capability and status flags, command bytes,
//! packet headers, column types and flags, session-tracking types, character sets and
//! auth plugin names. Plain integers, so wire values are tested with `&` without
//! conversions; the tests check them against `mysql_common`'s definitions.

/// Capability flags (`CLIENT_*`), exchanged in the handshake as a u32.
pub mod cap {
    /// Old: new more secure passwords. MariaDB reads a *cleared* bit 0 in a server
    /// greeting as "not MySQL": the last 4 reserved bytes then carry its extended
    /// capabilities ([`super::mariadb_cap`]).
    pub const LONG_PASSWORD: u32 = 0x0000_0001;
    /// MariaDB's name for bit 0.
    pub const MYSQL: u32 = LONG_PASSWORD;
    /// Affected rows count found (matched) rows instead of changed rows.
    pub const FOUND_ROWS: u32 = 0x0000_0002;
    /// All column flags in column definitions.
    pub const LONG_FLAG: u32 = 0x0000_0004;
    /// A database name follows in the handshake response.
    pub const CONNECT_WITH_DB: u32 = 0x0000_0008;
    /// `db.table.column` is not allowed.
    pub const NO_SCHEMA: u32 = 0x0000_0010;
    /// Compressed protocol (never negotiated by the proxy).
    pub const COMPRESS: u32 = 0x0000_0020;
    /// ODBC client (no effect).
    pub const ODBC: u32 = 0x0000_0040;
    /// `LOAD DATA LOCAL` allowed.
    pub const LOCAL_FILES: u32 = 0x0000_0080;
    /// Spaces after function names are ignored.
    pub const IGNORE_SPACE: u32 = 0x0000_0100;
    /// The 4.1 protocol (sqlstate in ERR, warnings and status in OK/EOF).
    pub const PROTOCOL_41: u32 = 0x0000_0200;
    /// `interactive_timeout` instead of `wait_timeout`.
    pub const INTERACTIVE: u32 = 0x0000_0400;
    /// TLS: the client sends an SSLRequest and switches to TLS.
    pub const SSL: u32 = 0x0000_0800;
    /// Do not issue SIGPIPE (client-only).
    pub const IGNORE_SIGPIPE: u32 = 0x0000_1000;
    /// The client knows about transactions (status flags in OK).
    pub const TRANSACTIONS: u32 = 0x0000_2000;
    /// Old 4.1 flag, unused.
    pub const RESERVED: u32 = 0x0000_4000;
    /// 4.1 authentication: the auth response is length-prefixed (1 byte).
    pub const SECURE_CONNECTION: u32 = 0x0000_8000;
    /// Several statements in one COM_QUERY.
    pub const MULTI_STATEMENTS: u32 = 0x0001_0000;
    /// Several result sets for one COM_QUERY.
    pub const MULTI_RESULTS: u32 = 0x0002_0000;
    /// Several result sets for one COM_STMT_EXECUTE.
    pub const PS_MULTI_RESULTS: u32 = 0x0004_0000;
    /// Auth plugin names in the handshake.
    pub const PLUGIN_AUTH: u32 = 0x0008_0000;
    /// Connection attributes in the handshake response.
    pub const CONNECT_ATTRS: u32 = 0x0010_0000;
    /// The auth response is a length-encoded string.
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x0020_0000;
    /// The client can handle expired passwords.
    pub const CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 0x0040_0000;
    /// Session state changes in OK packets.
    pub const SESSION_TRACK: u32 = 0x0080_0000;
    /// No EOF packets: result sets end with an OK packet with the 0xFE header.
    pub const DEPRECATE_EOF: u32 = 0x0100_0000;
    /// Optional result set metadata (MySQL 8; never negotiated by the proxy).
    pub const OPTIONAL_RESULTSET_METADATA: u32 = 0x0200_0000;
    /// zstd compression (never negotiated by the proxy).
    pub const ZSTD_COMPRESSION_ALGORITHM: u32 = 0x0400_0000;
    /// Query attributes (MySQL 8; changes COM_QUERY and COM_STMT_EXECUTE; never
    /// negotiated by the proxy).
    pub const QUERY_ATTRIBUTES: u32 = 0x0800_0000;
    /// Multi-factor authentication.
    pub const MULTI_FACTOR_AUTHENTICATION: u32 = 0x1000_0000;
    /// Client-side: verify the server certificate.
    pub const SSL_VERIFY_SERVER_CERT: u32 = 0x4000_0000;
    /// Client-side: remember options.
    pub const REMEMBER_OPTIONS: u32 = 0x8000_0000;
}

/// MariaDB extended capabilities, the last 4 of the 10 reserved bytes of the greeting and
/// the handshake response when [`cap::MYSQL`] is cleared (MariaDB combines them with the
/// standard flags as `ext << 32`). The proxy keeps them 0.
pub mod mariadb_cap {
    /// Progress reports (ERR packets with code 0xFFFF).
    pub const PROGRESS: u32 = 0x0000_0001;
    /// COM_MULTI (removed).
    pub const COM_MULTI: u32 = 0x0000_0002;
    /// COM_STMT_BULK_EXECUTE.
    pub const STMT_BULK_OPERATIONS: u32 = 0x0000_0004;
    /// Extended type information in column definitions.
    pub const EXTENDED_METADATA: u32 = 0x0000_0008;
    /// Result set metadata may be skipped when unchanged.
    pub const CACHE_METADATA: u32 = 0x0000_0010;
}

/// Server status flags (`SERVER_*`), a u16 in OK and EOF packets.
pub mod status {
    /// A transaction is active.
    pub const IN_TRANS: u16 = 0x0001;
    /// Autocommit mode is on.
    pub const AUTOCOMMIT: u16 = 0x0002;
    /// Another result set follows.
    pub const MORE_RESULTS_EXISTS: u16 = 0x0008;
    /// The query used no good index.
    pub const NO_GOOD_INDEX_USED: u16 = 0x0010;
    /// The query used no index.
    pub const NO_INDEX_USED: u16 = 0x0020;
    /// COM_STMT_EXECUTE opened a read-only cursor: fetch rows with COM_STMT_FETCH.
    pub const CURSOR_EXISTS: u16 = 0x0040;
    /// The last row of a cursor was sent.
    pub const LAST_ROW_SENT: u16 = 0x0080;
    /// A database was dropped.
    pub const DB_DROPPED: u16 = 0x0100;
    /// `NO_BACKSLASH_ESCAPES` sql_mode is active.
    pub const NO_BACKSLASH_ESCAPES: u16 = 0x0200;
    /// A prepared statement's metadata changed.
    pub const METADATA_CHANGED: u16 = 0x0400;
    /// The query was logged as slow.
    pub const QUERY_WAS_SLOW: u16 = 0x0800;
    /// The result set holds OUT parameters.
    pub const PS_OUT_PARAMS: u16 = 0x1000;
    /// The active transaction is read-only.
    pub const IN_TRANS_READONLY: u16 = 0x2000;
    /// Session state changed: the OK packet carries session-state-change entries.
    pub const SESSION_STATE_CHANGED: u16 = 0x4000;
}

/// Command bytes: the first payload byte of a client request.
pub mod com {
    /// Close the connection.
    pub const QUIT: u8 = 0x01;
    /// `USE db`.
    pub const INIT_DB: u8 = 0x02;
    /// A text query.
    pub const QUERY: u8 = 0x03;
    /// List a table's columns (deprecated).
    pub const FIELD_LIST: u8 = 0x04;
    /// Server statistics as a string.
    pub const STATISTICS: u8 = 0x09;
    /// Kill a connection or query (deprecated).
    pub const PROCESS_KILL: u8 = 0x0C;
    /// Ping.
    pub const PING: u8 = 0x0E;
    /// Re-authenticate as another user.
    pub const CHANGE_USER: u8 = 0x11;
    /// Prepare a statement.
    pub const STMT_PREPARE: u8 = 0x16;
    /// Execute a prepared statement.
    pub const STMT_EXECUTE: u8 = 0x17;
    /// Send a parameter's data in chunks (no response).
    pub const STMT_SEND_LONG_DATA: u8 = 0x18;
    /// Deallocate a prepared statement (no response).
    pub const STMT_CLOSE: u8 = 0x19;
    /// Reset a statement's long data and cursor.
    pub const STMT_RESET: u8 = 0x1A;
    /// Turn multi-statements on or off.
    pub const SET_OPTION: u8 = 0x1B;
    /// Fetch rows from a cursor.
    pub const STMT_FETCH: u8 = 0x1C;
    /// Reset the session without re-authenticating.
    pub const RESET_CONNECTION: u8 = 0x1F;
    /// MariaDB: execute a statement for many parameter rows.
    pub const STMT_BULK_EXECUTE: u8 = 0xFA;
}

/// First payload bytes that tell server packets apart.
pub mod header {
    /// OK packet (and PREPARE_OK; a binary row in a result set).
    pub const OK: u8 = 0x00;
    /// AuthMoreData.
    pub const AUTH_MORE_DATA: u8 = 0x01;
    /// `LOCAL INFILE` request in place of a result set.
    pub const LOCAL_INFILE: u8 = 0xFB;
    /// EOF packet, result-set-ending OK under `DEPRECATE_EOF`, AuthSwitchRequest.
    pub const EOF: u8 = 0xFE;
    /// ERR packet.
    pub const ERR: u8 = 0xFF;
}

/// Column (and binary parameter) types.
pub mod column_type {
    /// DECIMAL (old).
    pub const DECIMAL: u8 = 0;
    /// TINYINT.
    pub const TINY: u8 = 1;
    /// SMALLINT.
    pub const SHORT: u8 = 2;
    /// INT.
    pub const LONG: u8 = 3;
    /// FLOAT.
    pub const FLOAT: u8 = 4;
    /// DOUBLE.
    pub const DOUBLE: u8 = 5;
    /// NULL.
    pub const NULL: u8 = 6;
    /// TIMESTAMP.
    pub const TIMESTAMP: u8 = 7;
    /// BIGINT.
    pub const LONGLONG: u8 = 8;
    /// MEDIUMINT.
    pub const INT24: u8 = 9;
    /// DATE.
    pub const DATE: u8 = 10;
    /// TIME.
    pub const TIME: u8 = 11;
    /// DATETIME.
    pub const DATETIME: u8 = 12;
    /// YEAR.
    pub const YEAR: u8 = 13;
    /// NEWDATE (internal).
    pub const NEWDATE: u8 = 14;
    /// VARCHAR.
    pub const VARCHAR: u8 = 15;
    /// BIT.
    pub const BIT: u8 = 16;
    /// TIMESTAMP2 (internal).
    pub const TIMESTAMP2: u8 = 17;
    /// DATETIME2 (internal).
    pub const DATETIME2: u8 = 18;
    /// TIME2 (internal).
    pub const TIME2: u8 = 19;
    /// JSON (MySQL).
    pub const JSON: u8 = 245;
    /// DECIMAL.
    pub const NEWDECIMAL: u8 = 246;
    /// ENUM.
    pub const ENUM: u8 = 247;
    /// SET.
    pub const SET: u8 = 248;
    /// TINYBLOB.
    pub const TINY_BLOB: u8 = 249;
    /// MEDIUMBLOB.
    pub const MEDIUM_BLOB: u8 = 250;
    /// LONGBLOB.
    pub const LONG_BLOB: u8 = 251;
    /// BLOB.
    pub const BLOB: u8 = 252;
    /// VARCHAR / VARBINARY as sent.
    pub const VAR_STRING: u8 = 253;
    /// CHAR / BINARY.
    pub const STRING: u8 = 254;
    /// GEOMETRY.
    pub const GEOMETRY: u8 = 255;
}

/// Column definition flags (a u16).
pub mod column_flag {
    /// NOT NULL.
    pub const NOT_NULL: u16 = 0x0001;
    /// Part of the primary key.
    pub const PRI_KEY: u16 = 0x0002;
    /// Part of a unique key.
    pub const UNIQUE_KEY: u16 = 0x0004;
    /// BLOB or TEXT.
    pub const BLOB: u16 = 0x0010;
    /// UNSIGNED.
    pub const UNSIGNED: u16 = 0x0020;
    /// Binary collation.
    pub const BINARY: u16 = 0x0080;
    /// AUTO_INCREMENT.
    pub const AUTO_INCREMENT: u16 = 0x0200;
    /// Numeric.
    pub const NUM: u16 = 0x8000;
}

/// The second byte of a binary parameter type in COM_STMT_EXECUTE.
pub const PARAM_UNSIGNED: u8 = 0x80;

/// COM_STMT_EXECUTE cursor flags.
pub mod cursor {
    /// No cursor: rows are sent with the execute response.
    pub const NO_CURSOR: u8 = 0;
    /// Read-only cursor: rows are fetched with COM_STMT_FETCH.
    pub const READ_ONLY: u8 = 1;
    /// Cursor for update.
    pub const FOR_UPDATE: u8 = 2;
    /// Scrollable cursor.
    pub const SCROLLABLE: u8 = 4;
}

/// Session-state-change entry types in OK packets.
pub mod session_track {
    /// A system variable changed (`session_track_system_variables`, e.g. `last_gtid`).
    pub const SYSTEM_VARIABLES: u8 = 0;
    /// The default schema changed.
    pub const SCHEMA: u8 = 1;
    /// Some session state changed (`session_track_state_change`).
    pub const STATE_CHANGE: u8 = 2;
    /// GTIDs (MySQL `session_track_gtids`).
    pub const GTIDS: u8 = 3;
    /// Transaction characteristics.
    pub const TRANSACTION_CHARACTERISTICS: u8 = 4;
    /// Transaction state.
    pub const TRANSACTION_STATE: u8 = 5;
}

/// Character set (collation) ids.
pub mod charset {
    /// utf8mb3_general_ci.
    pub const UTF8MB3_GENERAL_CI: u8 = 33;
    /// utf8mb4_general_ci: what the proxy announces and uses for text columns.
    pub const UTF8MB4_GENERAL_CI: u8 = 45;
    /// utf8mb4_bin.
    pub const UTF8MB4_BIN: u8 = 46;
    /// binary: numeric columns.
    pub const BINARY: u8 = 63;
}

/// Authentication plugin names.
pub mod plugin {
    /// SHA1-based challenge/response.
    pub const MYSQL_NATIVE_PASSWORD: &str = "mysql_native_password";
    /// SHA256-based challenge/response with a fast path (MySQL 8 default).
    pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";
    /// RSA-or-TLS password exchange.
    pub const SHA256_PASSWORD: &str = "sha256_password";
    /// Cleartext password (only over TLS).
    pub const MYSQL_CLEAR_PASSWORD: &str = "mysql_clear_password";
    /// MariaDB ed25519.
    pub const CLIENT_ED25519: &str = "client_ed25519";
}

#[cfg(test)]
#[path = "consts_tests.rs"]
mod tests;
