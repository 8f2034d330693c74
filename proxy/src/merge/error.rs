//! The merge engine's error: a SQLSTATE and a message for the client's ErrorResponse.
//!
//! Every SQLSTATE the engine reports is named here, in one place; messages start with
//! `shardwire: ` so a client can tell the proxy's errors from the servers'.

use std::fmt;

/// SQLSTATE codes the merge engine reports.
pub mod code {
    /// A merge the engine cannot do exactly (e.g. `ORDER BY` on a type it cannot compare).
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// A sum or count that leaves its type's range.
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// `LIMIT` is negative.
    pub const INVALID_ROW_COUNT_IN_LIMIT: &str = "2201W";
    /// `OFFSET` is negative.
    pub const INVALID_ROW_COUNT_IN_OFFSET: &str = "2201X";
    /// `ORDER BY n` outside the select list.
    pub const INVALID_COLUMN_REFERENCE: &str = "42P10";
    /// A value that does not read as its type.
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// Division by zero.
    pub const DIVISION_BY_ZERO: &str = "22012";
    /// A malformed message from a shard, or result-format codes that do not fit.
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    /// The engine used out of order, or a value the plan needs is missing.
    pub const INTERNAL_ERROR: &str = "XX000";
}

/// Why a merge failed: what the client's ErrorResponse carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError {
    /// The SQLSTATE.
    pub sqlstate: &'static str,
    /// The message, starting with `shardwire: `.
    pub message: String,
}

impl MergeError {
    /// An error with `message` prefixed by `shardwire: `.
    pub(crate) fn new(sqlstate: &'static str, message: impl fmt::Display) -> MergeError {
        MergeError {
            sqlstate,
            message: format!("shardwire: {message}"),
        }
    }

    /// A shard sent a message the engine cannot read.
    pub(crate) fn malformed(what: &str) -> MergeError {
        MergeError::new(
            code::PROTOCOL_VIOLATION,
            format_args!("malformed {what} from a shard"),
        )
    }

    /// The engine was driven in a way its mode does not allow.
    pub(crate) fn misuse(what: &str) -> MergeError {
        MergeError::new(
            code::INTERNAL_ERROR,
            format_args!("merge engine misuse: {what}"),
        )
    }
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.sqlstate)
    }
}

impl std::error::Error for MergeError {}
