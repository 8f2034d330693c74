//! One database connection as the workloads see it, whatever the protocol.
//!
//! Workloads name statements by their index in the list given at connect time, so each
//! engine can prepare them the way the chosen [`Mode`] asks and a transaction's code is
//! the same for PostgreSQL and MySQL. An enum rather than a trait object: the futures
//! stay concrete (and `Send`) for the runner's spawned tasks.

mod mysql;
mod pg;
pub mod sql;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::target::{Engine, Target};

/// How statements are sent (pgbench's `-M`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Text protocol with the values written into the statement.
    Simple,
    /// PostgreSQL extended protocol, the statement parsed again for every execution.
    Extended,
    /// Statements prepared once per connection, executed with bound values.
    Prepared,
}

impl Mode {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Simple => "simple",
            Mode::Extended => "extended",
            Mode::Prepared => "prepared",
        }
    }
}

/// A failed statement, as the error tally counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError {
    /// SQLSTATE (PostgreSQL), error number (MySQL), or `connection` / `client` for
    /// failures that did not come from the server.
    pub code: String,
    /// The server's or the driver's message.
    pub message: String,
    /// The connection is unusable; the runner reconnects.
    pub connection_lost: bool,
}

/// MySQL's ER_UNKNOWN_SYSTEM_VARIABLE.
const UNKNOWN_VARIABLE: &str = "1193";

/// Whether the session-setup warning about [`UNKNOWN_VARIABLE`] was printed.
static UNKNOWN_VARIABLE_SAID: AtomicBool = AtomicBool::new(false);

impl DbError {
    /// Whether the server reported the error (SQLSTATE or MySQL error number), as
    /// opposed to the driver, the connection or the bench.
    pub fn from_server(&self) -> bool {
        !matches!(self.code.as_str(), "client" | "connection" | "timeout")
    }

    /// A failure of the bench's own making (e.g. a result it cannot read).
    pub fn client(message: impl Into<String>) -> DbError {
        DbError {
            code: "client".into(),
            message: message.into(),
            connection_lost: false,
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// What every connection of a run is opened with.
#[derive(Clone, Debug)]
pub struct ConnectSpec {
    /// Where to connect.
    pub target: Target,
    /// How to send statements.
    pub mode: Mode,
    /// The statements of the workload, `$n` placeholders, prepared according to `mode`.
    pub statements: &'static [&'static str],
    /// Statements run once after connecting (e.g. `SET shardwire.read_consistency`).
    pub session_setup: Vec<String>,
}

/// A connection to the target.
pub enum Client {
    /// tokio-postgres.
    Pg(pg::PgClient),
    /// mysql_async.
    My(mysql::MyClient),
}

impl Client {
    /// Connects, runs the session setup and prepares the statements.
    pub async fn connect(spec: &ConnectSpec) -> Result<Client, DbError> {
        let mut client = match spec.target.engine {
            Engine::Postgres => Client::Pg(pg::PgClient::connect(spec).await?),
            Engine::Mysql => Client::My(mysql::MyClient::connect(spec).await?),
        };
        for sql in &spec.session_setup {
            match client.batch(sql).await {
                Ok(()) => {}
                // MariaDB / MySQL without the proxy: "unknown system variable". A
                // direct server has no replicas to choose among, so the run goes on.
                Err(e) if spec.target.engine == Engine::Mysql && e.code == UNKNOWN_VARIABLE => {
                    if !UNKNOWN_VARIABLE_SAID.swap(true, Ordering::Relaxed) {
                        eprintln!(
                            "shardwire-bench: {} ignores {sql:?} ({e}); going on without it",
                            spec.target.redacted()
                        );
                    }
                }
                Err(e) => return Err(e),
            }
        }
        match &mut client {
            Client::Pg(c) => c.prepare_all(spec).await?,
            Client::My(c) => c.prepare_all(spec).await?,
        }
        Ok(client)
    }

    /// Runs statement number `stmt` of the workload with `params`, reading all rows.
    pub async fn run(&mut self, stmt: usize, params: &[i64]) -> Result<(), DbError> {
        match self {
            Client::Pg(c) => c.run(stmt, params).await,
            Client::My(c) => c.run(stmt, params).await,
        }
    }

    /// Runs SQL text through the simple / text protocol (transaction control, DDL,
    /// loading), ignoring rows.
    pub async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Client::Pg(c) => c.batch(sql).await,
            Client::My(c) => c.batch(sql).await,
        }
    }

    /// The first column of the first row of `sql`, as text (`None` for NULL or no row).
    pub async fn scalar(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        match self {
            Client::Pg(c) => c.scalar(sql).await,
            Client::My(c) => c.scalar(sql).await,
        }
    }

    /// Ends a transaction after a failure; returns whether the ROLLBACK worked (if not,
    /// the connection's state is unknown and it should be made again).
    pub async fn rollback(&mut self) -> bool {
        self.batch("ROLLBACK").await.is_ok()
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        match self {
            Client::Pg(_) => {}
            Client::My(c) => c.close().await,
        }
    }
}
