//! One database server of a topology — a PostgreSQL or MariaDB primary or replica — and the
//! controls tests need: run SQL on it directly, pause and resume replay, stop, kill -9 and
//! restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::Queryable;

use crate::error::{Context, Error, Result};
use crate::ports::PortLease;
use crate::server::ServerProcess;
use crate::{mariadb, pg};

/// Which database engine a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL.
    Postgres,
    /// MariaDB (speaks the MySQL protocol).
    MariaDb,
}

/// A node's place in its shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes.
    Primary,
    /// Streams from the primary; read-only.
    Replica,
}

/// One result row of [`Node::query`]: each column as text, NULL as `None`.
pub type TextRow = Vec<Option<String>>;

/// A running database server.
#[derive(Debug)]
pub struct Node {
    name: String,
    engine: Engine,
    role: Role,
    port: PortLease,
    data_dir: PathBuf,
    server: ServerProcess,
}

impl Node {
    pub(crate) fn new(
        name: String,
        engine: Engine,
        role: Role,
        port: PortLease,
        data_dir: PathBuf,
        server: ServerProcess,
    ) -> Node {
        Node {
            name,
            engine,
            role,
            port,
            data_dir,
            server,
        }
    }

    /// A name such as `pg-s0-primary` or `mariadb-s1-replica1`, used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The engine it runs.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Primary or replica.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The host it listens on (always loopback).
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Its TCP port.
    pub fn port(&self) -> u16 {
        self.port.port()
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host(), self.port())
    }

    /// `host:port/dbname`, the form shardwire's config uses.
    pub fn config_addr(&self) -> String {
        format!("{}/{}", self.addr(), self.database())
    }

    /// The database created on every node.
    pub fn database(&self) -> &'static str {
        match self.engine {
            Engine::Postgres => pg::DATABASE,
            Engine::MariaDb => mariadb::DATABASE,
        }
    }

    /// The server's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        self.server.log()
    }

    /// A tokio-postgres client to this PostgreSQL node's `app` database, as superuser.
    pub async fn pg_client(&self) -> Result<tokio_postgres::Client> {
        self.pg_client_db(pg::DATABASE).await
    }

    /// A tokio-postgres client to another database of this PostgreSQL node.
    pub async fn pg_client_db(&self, dbname: &str) -> Result<tokio_postgres::Client> {
        self.expect(Engine::Postgres)?;
        pg::connect(self.port(), dbname)
            .await
            .context(format!("connect to {}", self.name))
    }

    /// A mysql_async connection to this MariaDB node's `app` database, as root.
    pub async fn mysql_conn(&self) -> Result<mysql_async::Conn> {
        self.expect(Engine::MariaDb)?;
        mariadb::connect(self.port())
            .await
            .context(format!("connect to {}", self.name))
    }

    /// Connection options for the non-SUPER application user (`app`/`app`) on this MariaDB
    /// node — the user proxies and tests should use, since root ignores `read_only`.
    pub fn mysql_app_opts(&self) -> mysql_async::OptsBuilder {
        mariadb::opts(self.port(), mariadb::APP_USER, Some(mariadb::APP_PASSWORD))
    }

    /// Runs SQL (simple/text protocol) as the administrative user and returns the rows of
    /// every statement, columns as text.
    pub async fn query(&self, sql: &str) -> Result<Vec<TextRow>> {
        let what = || format!("on {}: {sql}", self.name);
        match self.engine {
            Engine::Postgres => {
                let client = self.pg_client().await?;
                let messages = client.simple_query(sql).await.context(what())?;
                Ok(messages
                    .into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect())
            }
            Engine::MariaDb => {
                let mut conn = self.mysql_conn().await?;
                let rows: Vec<mysql_async::Row> = conn.query(sql).await.context(what())?;
                let _ = conn.disconnect().await;
                Ok(rows.into_iter().map(mysql_row_text).collect())
            }
        }
    }

    /// Runs SQL and ignores any rows.
    pub async fn execute(&self, sql: &str) -> Result<()> {
        self.query(sql).await.map(drop)
    }

    /// Runs a query expected to return one value (first column of the first row).
    pub async fn query_value(&self, sql: &str) -> Result<Option<String>> {
        let rows = self.query(sql).await?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(format!("on {}: no row from {sql}", self.name)))?;
        Ok(row.into_iter().next().flatten())
    }

    /// Stops applying replication (PostgreSQL `pg_wal_replay_pause()`, MariaDB
    /// `STOP SLAVE SQL_THREAD`); changes keep arriving but are not visible.
    pub async fn pause_replay(&self) -> Result<()> {
        self.expect_replica()?;
        let result = match self.engine {
            Engine::Postgres => pg::pause_replay(&self.pg_client().await?).await,
            Engine::MariaDb => self.execute("STOP SLAVE SQL_THREAD").await,
        };
        result.context(format!("pause replay on {}", self.name))
    }

    /// Resumes applying replication.
    pub async fn resume_replay(&self) -> Result<()> {
        self.expect_replica()?;
        let result = match self.engine {
            Engine::Postgres => pg::resume_replay(&self.pg_client().await?).await,
            Engine::MariaDb => self.execute("START SLAVE SQL_THREAD").await,
        };
        result.context(format!("resume replay on {}", self.name))
    }

    /// Clean shutdown (PostgreSQL fast shutdown, MariaDB SIGTERM); waits for exit.
    pub async fn stop(&self) -> Result<()> {
        let sig = match self.engine {
            Engine::Postgres => libc::SIGINT,
            Engine::MariaDb => libc::SIGTERM,
        };
        self.blocking(move |server| server.stop_with(sig, Duration::from_secs(30)))
            .await
    }

    /// kill -9 of the server and all its processes; returns once they are gone.
    pub async fn kill9(&self) -> Result<()> {
        self.blocking(|server| server.kill9()).await
    }

    /// Starts a stopped or killed node again and waits until it accepts connections.
    /// A MariaDB replica resumes replication by itself; a PostgreSQL standby reconnects.
    pub async fn restart(&self) -> Result<()> {
        self.server.start()?;
        self.wait_ready().await
    }

    /// Waits until the node accepts connections.
    pub async fn wait_ready(&self) -> Result<()> {
        match self.engine {
            Engine::Postgres => {
                pg::wait_ready(&self.server, self.port(), pg::DATABASE, &self.name).await?;
            }
            Engine::MariaDb => {
                let conn = mariadb::wait_ready(&self.server, self.port(), &self.name).await?;
                let _ = conn.disconnect().await;
            }
        }
        Ok(())
    }

    /// True while the server process runs.
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }

    /// Stops without waiting on a runtime (used on drop): PostgreSQL immediate shutdown,
    /// MariaDB SIGKILL — the data is thrown away anyway.
    pub(crate) fn shutdown_now(&self) {
        match self.engine {
            Engine::Postgres => self
                .server
                .stop_with(libc::SIGQUIT, Duration::from_secs(10)),
            Engine::MariaDb => self.server.kill9(),
        }
    }

    async fn blocking(&self, f: impl FnOnce(&ServerProcess) + Send) -> Result<()> {
        // Stopping waits on the process synchronously; on a multi-threaded runtime tell tokio
        // so other tasks move off this worker. A current-thread runtime simply waits.
        let multi = tokio::runtime::Handle::try_current()
            .map(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
            .unwrap_or(false);
        if multi {
            tokio::task::block_in_place(|| f(&self.server));
        } else {
            f(&self.server);
        }
        Ok(())
    }

    fn expect(&self, engine: Engine) -> Result<()> {
        if self.engine == engine {
            Ok(())
        } else {
            Err(Error::new(format!(
                "{} is a {:?} node, not {engine:?}",
                self.name, self.engine
            )))
        }
    }

    fn expect_replica(&self) -> Result<()> {
        match self.role {
            Role::Replica => Ok(()),
            Role::Primary => Err(Error::new(format!(
                "{} is a primary, not a replica",
                self.name
            ))),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

fn mysql_row_text(row: mysql_async::Row) -> TextRow {
    row.unwrap()
        .into_iter()
        .map(|v| match v {
            mysql_async::Value::NULL => None,
            mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            other => Some(other.as_sql(true)),
        })
        .collect()
}
