//! The test bed's error type: a message that says which node or step failed and why,
//! usually with the tail of the server's log, so a failing test explains itself.

use std::fmt;

/// A failure to start, control or query a test bed node.
#[derive(Debug)]
pub struct Error(String);

/// Result alias used throughout the test bed.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with the given message.
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }

    /// Prefixes the message with what was being done when it happened.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error(format!("{what}: {}", self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        // The Display of a tokio-postgres DbError hides the server's message; use Debug-free text.
        match e.as_db_error() {
            Some(db) => Error(format!("{}: {}", db.code().code(), db.message())),
            None => Error(e.to_string()),
        }
    }
}

impl From<mysql_async::Error> for Error {
    fn from(e: mysql_async::Error) -> Self {
        Error(e.to_string())
    }
}

/// Adds context to any result whose error converts into [`Error`].
pub(crate) trait Context<T> {
    /// Wraps the error with a description of the step that failed.
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
}
