//! The MySQL side of [`super::Client`]: mysql_async with server-side prepared statements
//! (`prepared` mode) or the text protocol with values written in (`simple` mode).

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Row, Statement, Value};

use super::{sql, ConnectSpec, DbError, Mode};

/// How long connecting may take (as for PostgreSQL).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A MySQL connection and what was prepared on it.
pub struct MyClient {
    conn: Conn,
    mode: Mode,
    /// Per workload statement: its `?` text and which parameter each `?` takes.
    statements: Vec<(String, Vec<usize>)>,
    originals: &'static [&'static str],
    prepared: Vec<Statement>,
}

impl MyClient {
    /// Connects over TCP.
    pub async fn connect(spec: &ConnectSpec) -> Result<MyClient, DbError> {
        let target = &spec.target;
        let opts = OptsBuilder::default()
            .ip_or_hostname(target.host.clone())
            .tcp_port(target.port)
            .user(Some(target.user.clone()))
            .pass(target.password.clone())
            .db_name((!target.dbname.is_empty()).then(|| target.dbname.clone()))
            .prefer_socket(false);
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts))
            .await
            .map_err(|_| DbError {
                code: "connection".into(),
                message: format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
                connection_lost: true,
            })?
            .map_err(error)?;
        Ok(MyClient {
            conn,
            mode: spec.mode,
            statements: spec
                .statements
                .iter()
                .map(|s| sql::to_question_marks(s))
                .collect(),
            originals: spec.statements,
            prepared: Vec::new(),
        })
    }

    /// Prepares every statement on the server in `prepared` mode.
    pub async fn prepare_all(&mut self, spec: &ConnectSpec) -> Result<(), DbError> {
        match spec.mode {
            Mode::Simple => Ok(()),
            Mode::Prepared => {
                for (text, _) in &self.statements {
                    let statement = self.conn.prep(text.as_str()).await.map_err(error)?;
                    self.prepared.push(statement);
                }
                Ok(())
            }
            Mode::Extended => Err(DbError::client(
                "--mode extended is a PostgreSQL protocol mode; use simple or prepared",
            )),
        }
    }

    /// Runs a workload statement and reads its rows.
    pub async fn run(&mut self, stmt: usize, params: &[i64]) -> Result<(), DbError> {
        let missing = || DbError::client(format!("no statement {stmt}"));
        if self.mode == Mode::Simple {
            let text = self.originals.get(stmt).ok_or_else(missing)?;
            return self
                .conn
                .query_drop(sql::inline(text, params))
                .await
                .map_err(error);
        }
        let (_, order) = self.statements.get(stmt).ok_or_else(missing)?;
        let statement = self.prepared.get(stmt).ok_or_else(missing)?;
        let values = order
            .iter()
            .map(|&i| params.get(i).map_or(Value::NULL, |v| Value::Int(*v)))
            .collect();
        self.conn
            .exec_drop(statement, Params::Positional(values))
            .await
            .map_err(error)
    }

    /// Runs SQL text through the text protocol.
    pub async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).await.map_err(error)
    }

    /// First column of the first row, as text.
    pub async fn scalar(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        let row: Option<Row> = self.conn.query_first(sql).await.map_err(error)?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        match row.take_opt::<Option<String>, usize>(0) {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => Err(DbError::client(format!(
                "unreadable result of {sql:?}: {e}"
            ))),
            None => Err(DbError::client(format!("{sql:?} returned no column"))),
        }
    }

    /// Says goodbye to the server (COM_QUIT) instead of dropping the socket.
    pub async fn close(self) {
        let _ = self.conn.disconnect().await;
    }
}

fn error(e: mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(server) => DbError {
            code: server.code.to_string(),
            message: server.message,
            connection_lost: false,
        },
        other => DbError {
            code: if other.is_fatal() {
                "connection"
            } else {
                "client"
            }
            .to_string(),
            connection_lost: other.is_fatal(),
            message: other.to_string(),
        },
    }
}
