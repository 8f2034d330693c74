//! The PostgreSQL side of [`super::Client`]: tokio-postgres, with the statement modes of
//! pgbench's `-M`.

use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{NoTls, SimpleQueryMessage, Statement};

use super::{sql, ConnectSpec, DbError, Mode};

/// A PostgreSQL connection and what was prepared on it.
pub struct PgClient {
    client: tokio_postgres::Client,
    mode: Mode,
    statements: &'static [&'static str],
    prepared: Vec<Statement>,
}

impl PgClient {
    /// Connects; the connection's I/O runs on a task of its own.
    pub async fn connect(spec: &ConnectSpec) -> Result<PgClient, DbError> {
        let target = &spec.target;
        let mut config = tokio_postgres::Config::new();
        config
            .host(&target.host)
            .port(target.port)
            .user(&target.user)
            .application_name("shardwire-bench")
            .connect_timeout(Duration::from_secs(10));
        if let Some(password) = &target.password {
            config.password(password);
        }
        if !target.dbname.is_empty() {
            config.dbname(&target.dbname);
        }
        let (client, connection) = config.connect(NoTls).await.map_err(|e| DbError {
            code: e.code().map_or("connection", |c| c.code()).to_string(),
            message: e.to_string(),
            connection_lost: true,
        })?;
        tokio::spawn(async move {
            // The client side sees the failure on its next statement.
            let _ = connection.await;
        });
        Ok(PgClient {
            client,
            mode: spec.mode,
            statements: spec.statements,
            prepared: Vec::new(),
        })
    }

    /// Prepares every statement once in `prepared` mode; the other modes send text.
    pub async fn prepare_all(&mut self, spec: &ConnectSpec) -> Result<(), DbError> {
        if spec.mode != Mode::Prepared {
            return Ok(());
        }
        for text in spec.statements {
            let statement = self.client.prepare(text).await.map_err(|e| self.error(e))?;
            self.prepared.push(statement);
        }
        Ok(())
    }

    /// Runs a workload statement and reads its rows.
    pub async fn run(&mut self, stmt: usize, params: &[i64]) -> Result<(), DbError> {
        let text = self
            .statements
            .get(stmt)
            .ok_or_else(|| DbError::client(format!("no statement {stmt}")))?;
        let values: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let result = match self.mode {
            Mode::Simple => self
                .client
                .simple_query(&sql::inline(text, params))
                .await
                .map(drop),
            // pgbench's -M extended: the unnamed statement, parsed anew for every
            // execution in the same round trip as Bind/Execute. (`query` with a string
            // would prepare a named statement, wait for it, and close it: three round
            // trips.) Parameters are all bigint.
            Mode::Extended => {
                let typed: Vec<(&(dyn ToSql + Sync), Type)> =
                    values.iter().map(|v| (*v, Type::INT8)).collect();
                self.client.query_typed(text, &typed).await.map(drop)
            }
            Mode::Prepared => {
                let statement = self
                    .prepared
                    .get(stmt)
                    .ok_or_else(|| DbError::client(format!("statement {stmt} not prepared")))?;
                self.client.query(statement, &values).await.map(drop)
            }
        };
        result.map_err(|e| self.error(e))
    }

    /// Runs SQL text through the simple-query protocol.
    pub async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| self.error(e))
    }

    /// First column of the first row, as text.
    pub async fn scalar(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| self.error(e))?;
        let Some(row) = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        }) else {
            return Ok(None);
        };
        let value = row
            .try_get(0)
            .map_err(|e| DbError::client(format!("unreadable result of {sql:?}: {e}")))?;
        Ok(value.map(str::to_string))
    }

    fn error(&self, e: tokio_postgres::Error) -> DbError {
        let connection_lost = self.client.is_closed();
        match e.as_db_error() {
            Some(db) => DbError {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
                connection_lost,
            },
            None => DbError {
                code: if connection_lost {
                    "connection"
                } else {
                    "client"
                }
                .to_string(),
                message: e.to_string(),
                connection_lost,
            },
        }
    }
}
