//! The named numbers checked against `mysql_common`'s definitions.

use super::*;
use mysql_common::constants::{
    CapabilityFlags as C, ColumnFlags as F, ColumnType as T, Command, CursorType,
    MariadbCapabilities as M, SessionStateType as S, StatusFlags as St, StmtExecuteParamFlags,
};

#[test]
fn capabilities_match_mysql_common() {
    let pairs = [
        (cap::LONG_PASSWORD, C::CLIENT_LONG_PASSWORD),
        (cap::FOUND_ROWS, C::CLIENT_FOUND_ROWS),
        (cap::LONG_FLAG, C::CLIENT_LONG_FLAG),
        (cap::CONNECT_WITH_DB, C::CLIENT_CONNECT_WITH_DB),
        (cap::NO_SCHEMA, C::CLIENT_NO_SCHEMA),
        (cap::COMPRESS, C::CLIENT_COMPRESS),
        (cap::ODBC, C::CLIENT_ODBC),
        (cap::LOCAL_FILES, C::CLIENT_LOCAL_FILES),
        (cap::IGNORE_SPACE, C::CLIENT_IGNORE_SPACE),
        (cap::PROTOCOL_41, C::CLIENT_PROTOCOL_41),
        (cap::INTERACTIVE, C::CLIENT_INTERACTIVE),
        (cap::SSL, C::CLIENT_SSL),
        (cap::IGNORE_SIGPIPE, C::CLIENT_IGNORE_SIGPIPE),
        (cap::TRANSACTIONS, C::CLIENT_TRANSACTIONS),
        (cap::RESERVED, C::CLIENT_RESERVED),
        (cap::SECURE_CONNECTION, C::CLIENT_SECURE_CONNECTION),
        (cap::MULTI_STATEMENTS, C::CLIENT_MULTI_STATEMENTS),
        (cap::MULTI_RESULTS, C::CLIENT_MULTI_RESULTS),
        (cap::PS_MULTI_RESULTS, C::CLIENT_PS_MULTI_RESULTS),
        (cap::PLUGIN_AUTH, C::CLIENT_PLUGIN_AUTH),
        (cap::CONNECT_ATTRS, C::CLIENT_CONNECT_ATTRS),
        (
            cap::PLUGIN_AUTH_LENENC_CLIENT_DATA,
            C::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
        ),
        (
            cap::CAN_HANDLE_EXPIRED_PASSWORDS,
            C::CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS,
        ),
        (cap::SESSION_TRACK, C::CLIENT_SESSION_TRACK),
        (cap::DEPRECATE_EOF, C::CLIENT_DEPRECATE_EOF),
        (
            cap::OPTIONAL_RESULTSET_METADATA,
            C::CLIENT_OPTIONAL_RESULTSET_METADATA,
        ),
        (
            cap::ZSTD_COMPRESSION_ALGORITHM,
            C::CLIENT_ZSTD_COMPRESSION_ALGORITHM,
        ),
        (cap::QUERY_ATTRIBUTES, C::CLIENT_QUERY_ATTRIBUTES),
        (
            cap::MULTI_FACTOR_AUTHENTICATION,
            C::MULTI_FACTOR_AUTHENTICATION,
        ),
        (
            cap::SSL_VERIFY_SERVER_CERT,
            C::CLIENT_SSL_VERIFY_SERVER_CERT,
        ),
        (cap::REMEMBER_OPTIONS, C::CLIENT_REMEMBER_OPTIONS),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours, theirs.bits(), "{theirs:?}");
    }
    assert_eq!(mariadb_cap::PROGRESS, M::MARIADB_CLIENT_PROGRESS.bits());
    assert_eq!(
        mariadb_cap::STMT_BULK_OPERATIONS,
        M::MARIADB_CLIENT_STMT_BULK_OPERATIONS.bits()
    );
    assert_eq!(
        mariadb_cap::EXTENDED_METADATA,
        M::MARIADB_CLIENT_EXTENDED_METADATA.bits()
    );
    assert_eq!(
        mariadb_cap::CACHE_METADATA,
        M::MARIADB_CLIENT_CACHE_METADATA.bits()
    );
}

#[test]
fn status_flags_match_mysql_common() {
    let pairs = [
        (status::IN_TRANS, St::SERVER_STATUS_IN_TRANS),
        (status::AUTOCOMMIT, St::SERVER_STATUS_AUTOCOMMIT),
        (status::MORE_RESULTS_EXISTS, St::SERVER_MORE_RESULTS_EXISTS),
        (
            status::NO_GOOD_INDEX_USED,
            St::SERVER_STATUS_NO_GOOD_INDEX_USED,
        ),
        (status::NO_INDEX_USED, St::SERVER_STATUS_NO_INDEX_USED),
        (status::CURSOR_EXISTS, St::SERVER_STATUS_CURSOR_EXISTS),
        (status::LAST_ROW_SENT, St::SERVER_STATUS_LAST_ROW_SENT),
        (status::DB_DROPPED, St::SERVER_STATUS_DB_DROPPED),
        (
            status::NO_BACKSLASH_ESCAPES,
            St::SERVER_STATUS_NO_BACKSLASH_ESCAPES,
        ),
        (status::METADATA_CHANGED, St::SERVER_STATUS_METADATA_CHANGED),
        (status::QUERY_WAS_SLOW, St::SERVER_QUERY_WAS_SLOW),
        (status::PS_OUT_PARAMS, St::SERVER_PS_OUT_PARAMS),
        (
            status::IN_TRANS_READONLY,
            St::SERVER_STATUS_IN_TRANS_READONLY,
        ),
        (
            status::SESSION_STATE_CHANGED,
            St::SERVER_SESSION_STATE_CHANGED,
        ),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours, theirs.bits(), "{theirs:?}");
    }
}

#[test]
fn commands_types_and_flags_match_mysql_common() {
    let commands = [
        (com::QUIT, Command::COM_QUIT),
        (com::INIT_DB, Command::COM_INIT_DB),
        (com::QUERY, Command::COM_QUERY),
        (com::FIELD_LIST, Command::COM_FIELD_LIST),
        (com::STATISTICS, Command::COM_STATISTICS),
        (com::PROCESS_KILL, Command::COM_PROCESS_KILL),
        (com::PING, Command::COM_PING),
        (com::CHANGE_USER, Command::COM_CHANGE_USER),
        (com::STMT_PREPARE, Command::COM_STMT_PREPARE),
        (com::STMT_EXECUTE, Command::COM_STMT_EXECUTE),
        (com::STMT_SEND_LONG_DATA, Command::COM_STMT_SEND_LONG_DATA),
        (com::STMT_CLOSE, Command::COM_STMT_CLOSE),
        (com::STMT_RESET, Command::COM_STMT_RESET),
        (com::SET_OPTION, Command::COM_SET_OPTION),
        (com::STMT_FETCH, Command::COM_STMT_FETCH),
        (com::RESET_CONNECTION, Command::COM_RESET_CONNECTION),
        (com::STMT_BULK_EXECUTE, Command::COM_STMT_BULK_EXECUTE),
    ];
    for (ours, theirs) in commands {
        assert_eq!(ours, theirs as u8, "{theirs:?}");
    }
    let types = [
        (column_type::DECIMAL, T::MYSQL_TYPE_DECIMAL),
        (column_type::TINY, T::MYSQL_TYPE_TINY),
        (column_type::SHORT, T::MYSQL_TYPE_SHORT),
        (column_type::LONG, T::MYSQL_TYPE_LONG),
        (column_type::FLOAT, T::MYSQL_TYPE_FLOAT),
        (column_type::DOUBLE, T::MYSQL_TYPE_DOUBLE),
        (column_type::NULL, T::MYSQL_TYPE_NULL),
        (column_type::TIMESTAMP, T::MYSQL_TYPE_TIMESTAMP),
        (column_type::LONGLONG, T::MYSQL_TYPE_LONGLONG),
        (column_type::INT24, T::MYSQL_TYPE_INT24),
        (column_type::DATE, T::MYSQL_TYPE_DATE),
        (column_type::TIME, T::MYSQL_TYPE_TIME),
        (column_type::DATETIME, T::MYSQL_TYPE_DATETIME),
        (column_type::YEAR, T::MYSQL_TYPE_YEAR),
        (column_type::NEWDATE, T::MYSQL_TYPE_NEWDATE),
        (column_type::VARCHAR, T::MYSQL_TYPE_VARCHAR),
        (column_type::BIT, T::MYSQL_TYPE_BIT),
        (column_type::TIMESTAMP2, T::MYSQL_TYPE_TIMESTAMP2),
        (column_type::DATETIME2, T::MYSQL_TYPE_DATETIME2),
        (column_type::TIME2, T::MYSQL_TYPE_TIME2),
        (column_type::JSON, T::MYSQL_TYPE_JSON),
        (column_type::NEWDECIMAL, T::MYSQL_TYPE_NEWDECIMAL),
        (column_type::ENUM, T::MYSQL_TYPE_ENUM),
        (column_type::SET, T::MYSQL_TYPE_SET),
        (column_type::TINY_BLOB, T::MYSQL_TYPE_TINY_BLOB),
        (column_type::MEDIUM_BLOB, T::MYSQL_TYPE_MEDIUM_BLOB),
        (column_type::LONG_BLOB, T::MYSQL_TYPE_LONG_BLOB),
        (column_type::BLOB, T::MYSQL_TYPE_BLOB),
        (column_type::VAR_STRING, T::MYSQL_TYPE_VAR_STRING),
        (column_type::STRING, T::MYSQL_TYPE_STRING),
        (column_type::GEOMETRY, T::MYSQL_TYPE_GEOMETRY),
    ];
    for (ours, theirs) in types {
        assert_eq!(ours, theirs as u8, "{theirs:?}");
    }
    assert_eq!(column_flag::NOT_NULL, F::NOT_NULL_FLAG.bits());
    assert_eq!(column_flag::PRI_KEY, F::PRI_KEY_FLAG.bits());
    assert_eq!(column_flag::UNIQUE_KEY, F::UNIQUE_KEY_FLAG.bits());
    assert_eq!(column_flag::BLOB, F::BLOB_FLAG.bits());
    assert_eq!(column_flag::UNSIGNED, F::UNSIGNED_FLAG.bits());
    assert_eq!(column_flag::BINARY, F::BINARY_FLAG.bits());
    assert_eq!(column_flag::AUTO_INCREMENT, F::AUTO_INCREMENT_FLAG.bits());
    assert_eq!(column_flag::NUM, F::NUM_FLAG.bits());
    assert_eq!(PARAM_UNSIGNED, StmtExecuteParamFlags::UNSIGNED.bits());
    assert_eq!(cursor::READ_ONLY, CursorType::CURSOR_TYPE_READ_ONLY.bits());
    assert_eq!(
        cursor::FOR_UPDATE,
        CursorType::CURSOR_TYPE_FOR_UPDATE.bits()
    );
    assert_eq!(
        cursor::SCROLLABLE,
        CursorType::CURSOR_TYPE_SCROLLABLE.bits()
    );
    assert_eq!(
        session_track::SYSTEM_VARIABLES,
        S::SESSION_TRACK_SYSTEM_VARIABLES as u8
    );
    assert_eq!(session_track::SCHEMA, S::SESSION_TRACK_SCHEMA as u8);
    assert_eq!(
        session_track::STATE_CHANGE,
        S::SESSION_TRACK_STATE_CHANGE as u8
    );
    assert_eq!(session_track::GTIDS, S::SESSION_TRACK_GTIDS as u8);
    assert_eq!(
        session_track::TRANSACTION_CHARACTERISTICS,
        S::SESSION_TRACK_TRANSACTION_CHARACTERISTICS as u8
    );
    assert_eq!(
        session_track::TRANSACTION_STATE,
        S::SESSION_TRACK_TRANSACTION_STATE as u8
    );
}
