//! Routing errors: what the proxy answers when the router refuses a statement.
//!
//! Every refusal carries a SQLSTATE and a message that names the table and the reason
//! (DESIGN §10), so a client sees why, never a silently wrong answer. The SQLSTATE codes
//! the router uses live in [`sqlstate`], named, in one place; the MySQL frontend will map
//! them to MySQL error numbers there too.

use std::fmt;

/// The SQLSTATE codes the router reports (PostgreSQL's `errcodes.txt` names).
pub mod sqlstate {
    /// `feature_not_supported`: the statement needs something shardwire does not do
    /// (yet), e.g. touching several shards.
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// `syntax_error`.
    pub const SYNTAX_ERROR: &str = "42601";
    /// `invalid_text_representation`: a shard-key value that is not valid for the key's
    /// type, e.g. `'abc'` for a `bigint` key.
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// `invalid_binary_representation`: a binary-format parameter of the wrong size or
    /// type for the shard key.
    pub const INVALID_BINARY_REPRESENTATION: &str = "22P03";
    /// `numeric_value_out_of_range`: an integer key outside the `bigint` range.
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// `bad_copy_file_format`: `COPY` data that cannot be split into rows (an open
    /// quoted field at the end, a row without the shard-key column).
    pub const BAD_COPY_FILE_FORMAT: &str = "22P04";
    /// `invalid_parameter_value`: a `COPY` option value PostgreSQL would refuse too
    /// (a delimiter of several bytes, an unknown format).
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// `undefined_parameter`: a `$n` that the message does not supply.
    pub const UNDEFINED_PARAMETER: &str = "42P02";
    /// `protocol_violation`.
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    /// `internal_error`: a bug in the router (e.g. a plan resolved without its literals).
    pub const INTERNAL_ERROR: &str = "XX000";
}

/// Why the router cannot route a statement, as the client will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    /// Five-character SQLSTATE, one of [`sqlstate`].
    pub sqlstate: &'static str,
    /// Human-readable message, starting with `shardwire: ` and naming the table, column or
    /// value concerned.
    pub message: String,
}

impl RouteError {
    /// An error with `sqlstate` and `message`; `shardwire: ` is put in front of the
    /// message.
    pub fn new(sqlstate: &'static str, message: impl fmt::Display) -> RouteError {
        RouteError {
            sqlstate,
            message: format!("shardwire: {message}"),
        }
    }

    /// A `0A000` error: something shardwire does not support.
    pub fn unsupported(message: impl fmt::Display) -> RouteError {
        RouteError::new(sqlstate::FEATURE_NOT_SUPPORTED, message)
    }

    /// A `0A000` error for a statement that needs several shards, with the standard
    /// ending that says this is a limitation for now.
    pub(crate) fn several_shards(what: impl fmt::Display) -> RouteError {
        RouteError::unsupported(format_args!(
            "{what}; statements that touch several shards are not supported yet"
        ))
    }

    /// A `42601` syntax error.
    pub fn syntax(message: impl fmt::Display) -> RouteError {
        RouteError::new(sqlstate::SYNTAX_ERROR, message)
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.sqlstate)
    }
}

impl std::error::Error for RouteError {}
