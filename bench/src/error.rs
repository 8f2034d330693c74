//! Why the bench could not do its job, and the exit code that says so.

use std::path::PathBuf;

use crate::client::DbError;

/// A failure that ends the bench before or instead of a report.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The target did not accept a connection (the URL shown is redacted).
    #[error("cannot connect to {target}: {error}")]
    Connect {
        /// Redacted URL.
        target: String,
        /// Why.
        error: DbError,
    },
    /// `--setup` failed.
    #[error("setup of {table} on {target} failed: {error}")]
    Setup {
        /// Redacted URL.
        target: String,
        /// The table being created or loaded.
        table: String,
        /// Why.
        error: DbError,
    },
    /// Reading the run's starting point or checking its invariant failed.
    #[error("{what} on {target} failed: {error}")]
    Query {
        /// What was being read.
        what: &'static str,
        /// Redacted URL.
        target: String,
        /// Why.
        error: DbError,
    },
    /// A report file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Exit codes (contract, DESIGN §9).
pub mod exit {
    /// The run completed and every invariant held.
    pub const OK: u8 = 0;
    /// A workload's invariant broke.
    pub const INVARIANT_BROKEN: u8 = 1;
    /// Bad arguments, or nothing could be measured (no transaction succeeded, the
    /// target was unreachable, setup failed).
    pub const FAILED: u8 = 2;
}
