//! Checks at start, before any client is served: every primary of a PostgreSQL database
//! with several shards must allow prepared transactions (`max_prepared_transactions > 0`,
//! DESIGN §7), else a cross-shard COMMIT could only fail. The same connection creates the
//! 2PC decision table, so it exists before the first coordinator writes to it.
//!
//! A primary that cannot be reached now is only warned about: it may come up later, and a
//! down shard must not keep the proxy from serving the others.

use std::time::Duration;

use shardwire_conf::{Config, Protocol};
use tokio::task::JoinSet;

use crate::backend::pg::NodeInfo;
use crate::recovery::{control_client, DECISION_TABLE_DDL};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What one primary said.
enum Finding {
    /// Prepared transactions are allowed (or the value could not be read).
    Fine,
    /// `max_prepared_transactions = 0`: the error message.
    Disabled(String),
}

/// Checks every primary of every multi-shard PostgreSQL database of `config`, all at
/// once. `Err` names the first (in config order) that disallows prepared transactions.
pub async fn check(config: &Config) -> Result<(), String> {
    let mut checks = JoinSet::new();
    for (d, db) in config.databases.iter().enumerate() {
        if db.protocol != Protocol::Postgres || db.shards.len() < 2 {
            continue;
        }
        for (s, shard) in db.shards.iter().enumerate() {
            let path = format!("databases[{d}].shards[{s}].primary ({})", shard.primary);
            let node = NodeInfo::new(db, s, "primary", &shard.primary);
            checks.spawn(async move { ((d, s), check_primary(&path, &node).await) });
        }
    }
    let mut disabled = Vec::new();
    while let Some(done) = checks.join_next().await {
        match done {
            Ok((at, Finding::Disabled(message))) => disabled.push((at, message)),
            Ok((_, Finding::Fine)) => {}
            Err(e) => tracing::warn!(error = %e, "startup check task failed"),
        }
    }
    disabled.sort();
    match disabled.into_iter().next() {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

async fn check_primary(path: &str, node: &NodeInfo) -> Finding {
    let client = match control_client(node, CONNECT_TIMEOUT, "shardwire-startup").await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(
                "{path}: cannot check max_prepared_transactions now ({e}); \
                 two-phase commits involving it will fail until it is reachable"
            );
            return Finding::Fine;
        }
    };
    let value = match client
        .query_one("SHOW max_prepared_transactions", &[])
        .await
    {
        Ok(row) => row.try_get::<_, String>(0).ok(),
        Err(e) => {
            tracing::warn!("{path}: SHOW max_prepared_transactions failed: {e}");
            None
        }
    };
    if value.as_deref().map(str::trim) == Some("0") {
        return Finding::Disabled(disabled_message(path));
    }
    if let Err(e) = client.batch_execute(DECISION_TABLE_DDL).await {
        // A concurrent creation by another proxy fails too; recovery retries every pass.
        tracing::warn!("{path}: cannot create the 2PC decision table now: {e}");
    }
    Finding::Fine
}

/// The error for a primary at `path` (`databases[i].shards[j].primary (addr)`) that has
/// `max_prepared_transactions = 0`.
fn disabled_message(path: &str) -> String {
    format!(
        "{path}: max_prepared_transactions = 0; two-phase commit across shards needs it > 0 \
         (set it in postgresql.conf and restart)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_node_and_the_fix() {
        assert_eq!(
            disabled_message("databases[0].shards[1].primary (127.0.0.1:5433/app)"),
            "databases[0].shards[1].primary (127.0.0.1:5433/app): max_prepared_transactions = 0; \
             two-phase commit across shards needs it > 0 (set it in postgresql.conf and restart)"
        );
    }
}
