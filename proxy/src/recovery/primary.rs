//! A shard primary as recovery talks to it: the SQL, and a control connection that is
//! given up at the first connection-level failure.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use crate::backend::pg::NodeInfo;

/// The decision table every shard primary of a multi-shard database has (DESIGN §7): a row
/// is inserted inside the decision participant's transaction, so it is visible exactly
/// when that participant commits.
pub const DECISION_TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS public.shardwire_2pc_decisions \
     (txid text PRIMARY KEY, participants int[] NOT NULL, decided_at timestamptz NOT NULL DEFAULT now())";

pub(super) const LIST_PREPARED: &str = "SELECT gid, EXTRACT(EPOCH FROM now() - prepared)::float8 \
     FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE 'sw\\_%'";
/// Bounded so a backlog (GC skipped while a primary was down) is worked off over passes.
pub(super) const OLD_DECISIONS: &str =
    "SELECT txid, EXTRACT(EPOCH FROM now() - decided_at)::float8 \
     FROM public.shardwire_2pc_decisions WHERE decided_at < now() - make_interval(secs => $1) \
     ORDER BY decided_at LIMIT 10000";
pub(super) const FIND_DECISIONS: &str =
    "SELECT txid FROM public.shardwire_2pc_decisions WHERE txid = ANY($1)";
const DELETE_DECISIONS: &str = "DELETE FROM public.shardwire_2pc_decisions WHERE txid = ANY($1)";

/// Why a statement did not do its work.
pub(super) enum Failed {
    /// The prepared transaction does not exist (any more): resolved by someone else.
    Gone,
    /// Anything else, as text.
    Other(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Gone => f.write_str("prepared transaction does not exist"),
            Failed::Other(e) => f.write_str(e),
        }
    }
}

/// One shard primary's control connection for this pass; dropped at the first
/// connection-level failure, after which the primary counts as unreachable.
pub(super) struct Primary {
    pub(super) node: Arc<NodeInfo>,
    pub(super) client: Option<Client>,
    pub(super) timeout: Duration,
}

impl Primary {
    pub(super) async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Option<Vec<Row>> {
        let client = self.client.as_ref()?;
        match tokio::time::timeout(self.timeout, client.query(sql, params)).await {
            Ok(Ok(rows)) => Some(rows),
            Ok(Err(e)) => {
                tracing::debug!(node = %self.node.name, error = %e, "recovery query failed");
                self.drop_if_broken(e.code().is_none());
                None
            }
            Err(_) => {
                self.client = None;
                None
            }
        }
    }

    pub(super) async fn execute(&mut self, sql: &str) -> Result<(), Failed> {
        let client = self
            .client
            .as_ref()
            .ok_or(Failed::Other("not connected".into()))?;
        match tokio::time::timeout(self.timeout, client.batch_execute(sql)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.code() == Some(&SqlState::UNDEFINED_OBJECT) => Err(Failed::Gone),
            Ok(Err(e)) => {
                self.drop_if_broken(e.code().is_none());
                Err(Failed::Other(e.to_string()))
            }
            Err(_) => {
                self.client = None;
                Err(Failed::Other(format!(
                    "no answer within {:?}",
                    self.timeout
                )))
            }
        }
    }

    pub(super) async fn delete_decisions(&mut self, txids: &[String]) -> Result<u64, String> {
        let client = self.client.as_ref().ok_or("not connected")?;
        match tokio::time::timeout(self.timeout, client.execute(DELETE_DECISIONS, &[&txids])).await
        {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }

    fn drop_if_broken(&mut self, broken: bool) {
        if broken || self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
    }
}

/// A tokio-postgres connection to `node` as the database's backend user, for control
/// statements (recovery, startup checks).
pub(crate) async fn control_client(
    node: &NodeInfo,
    timeout: Duration,
    application: &str,
) -> Result<Client, String> {
    let (host, port) = node
        .addr
        .rsplit_once(':')
        .ok_or_else(|| format!("bad address {}", node.addr))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("bad port in {}", node.addr))?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(host.trim_start_matches('[').trim_end_matches(']'))
        .port(port)
        .user(&node.user)
        .dbname(&node.dbname)
        .application_name(application)
        .connect_timeout(timeout);
    if !node.password.is_empty() {
        config.password(&node.password);
    }
    let connect = crate::backend::tls::postgres::connect(node, config);
    tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
        .map_err(|e| e.to_string())
}
