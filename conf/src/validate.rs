//! Cross-field checks on a parsed [`Config`]: the rules no single value can break on its
//! own — duplicates, required combinations, a listener to accept clients on, non-zero
//! sizes. Runs on every load and on demand ([`Config::validate`]) for configs built in
//! code, such as the test bed's. Reports the first problem found, at its key path.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::ConfigError;
use crate::model::{Config, Database, ProxyConfig, Table, TableKind, User};
use crate::node_addr::NodeAddr;
use crate::words::BackendTls;

type Result<T = ()> = std::result::Result<T, ConfigError>;

/// Checks the rules that relate several values of `config`.
pub(crate) fn validate(config: &Config) -> Result {
    proxy(&config.proxy)?;
    users(&config.users, config.proxy.tls_cert.is_some())?;
    databases(&config.databases)
}

fn proxy(proxy: &ProxyConfig) -> Result {
    let err = |key: &str, message: &str| Err(ConfigError::invalid(format!("proxy.{key}"), message));
    if proxy.postgres_listen.is_none() && proxy.mysql_listen.is_none() {
        return Err(ConfigError::invalid(
            "proxy",
            "no client listen address (set postgres_listen, mysql_listen or both)",
        ));
    }
    let listeners = [
        ("postgres_listen", proxy.postgres_listen),
        ("mysql_listen", proxy.mysql_listen),
        ("admin_listen", proxy.admin_listen),
    ];
    for (i, (key, addr)) in listeners.iter().enumerate() {
        let earlier = listeners[..i]
            .iter()
            .find(|(_, other)| addr.is_some() && other == addr);
        if let (Some(addr), Some((other, _))) = (addr, earlier) {
            return err(key, &format!("{addr} is already used by {other}"));
        }
    }
    if proxy.pool_size == 0 {
        return err("pool_size", "must be at least 1");
    }
    if proxy.max_client_connections == Some(0) {
        return err(
            "max_client_connections",
            "must be at least 1 (omit it for no limit)",
        );
    }
    // A PostgreSQL message length is a signed 32-bit count that includes itself.
    const MAX_PG_MESSAGE: u32 = (1 << 30) - 1;
    if !(1024..=MAX_PG_MESSAGE).contains(&proxy.max_message_size) {
        return err(
            "max_message_size",
            &format!(
                "{} is out of range (1024 to {MAX_PG_MESSAGE} bytes)",
                proxy.max_message_size
            ),
        );
    }
    if proxy.workers == Some(0) {
        return err(
            "workers",
            "must be at least 1 (omit it for one per CPU core)",
        );
    }
    match (&proxy.tls_cert, &proxy.tls_key) {
        (Some(_), None) => return err("tls_key", "missing (tls_cert is set; TLS needs both)"),
        (None, Some(_)) => return err("tls_cert", "missing (tls_key is set; TLS needs both)"),
        _ => {}
    }
    let intervals = [
        ("monitor_interval", proxy.monitor_interval),
        ("recovery_interval", proxy.recovery_interval),
        ("twopc_grace", proxy.twopc_grace),
        ("pool_timeout", proxy.pool_timeout),
        ("client_login_timeout", proxy.client_login_timeout),
    ];
    for (key, interval) in intervals {
        if interval == Duration::ZERO {
            return err(key, "must be longer than 0s");
        }
    }
    Ok(())
}

fn users(users: &[User], tls_configured: bool) -> Result {
    let mut seen = HashMap::new();
    for (i, user) in users.iter().enumerate() {
        let path = format!("users[{i}]");
        non_empty(&format!("{path}.name"), &user.name)?;
        if let Some(first) = seen.insert(user.name.as_str(), i) {
            return Err(ConfigError::invalid(
                format!("{path}.name"),
                format!("duplicate user \"{}\" (also users[{first}])", user.name),
            ));
        }
        match (&user.password, &user.scram_sha256) {
            (None, None) => {
                return Err(ConfigError::invalid(
                    path,
                    format!("user \"{}\" needs password or scram_sha256", user.name),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    path,
                    format!(
                        "user \"{}\" has both password and scram_sha256 (set only one)",
                        user.name
                    ),
                ))
            }
            (None, Some(verifier)) if !is_scram_verifier(verifier) => {
                return Err(ConfigError::invalid(
                    format!("{path}.scram_sha256"),
                    "not a SCRAM-SHA-256 verifier (expected \
                     \"SCRAM-SHA-256$<iterations>:<salt>$<stored key>:<server key>\")",
                ))
            }
            _ => {}
        }
        if user.require_tls && !tls_configured {
            return Err(ConfigError::invalid(
                format!("{path}.require_tls"),
                format!(
                    "user \"{}\" requires TLS, but the proxy has no TLS configured \
                     (set proxy.tls_cert and proxy.tls_key)",
                    user.name
                ),
            ));
        }
    }
    Ok(())
}

/// `backend_tls = "verify-full"` needs a CA to verify against, and the CA alone would
/// suggest TLS that is not happening.
fn backend_tls(path: &str, db: &Database) -> Result {
    match (db.backend_tls, &db.backend_tls_ca) {
        (BackendTls::VerifyFull, None) => Err(ConfigError::invalid(
            format!("{path}.backend_tls_ca"),
            "missing (backend_tls = \"verify-full\" checks backend certificates against it)",
        )),
        (BackendTls::Disable, Some(_)) => Err(ConfigError::invalid(
            format!("{path}.backend_tls_ca"),
            "set, but backend_tls is \"disable\" (set backend_tls = \"verify-full\")",
        )),
        _ => Ok(()),
    }
}

/// Whether `text` has the shape of a PostgreSQL SCRAM-SHA-256 verifier. Catches a
/// clear-text password put under the wrong key; the contents are checked at login.
fn is_scram_verifier(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("SCRAM-SHA-256$") else {
        return false;
    };
    let Some((params, keys)) = rest.split_once('$') else {
        return false;
    };
    let halves_non_empty = |part: &str| {
        part.split_once(':')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
    };
    halves_non_empty(params) && halves_non_empty(keys)
}

fn databases(databases: &[Database]) -> Result {
    if databases.is_empty() {
        return Err(ConfigError::invalid(
            "databases",
            "no databases configured (add a [[databases]] section)",
        ));
    }
    let mut seen = HashMap::new();
    for (i, db) in databases.iter().enumerate() {
        let path = format!("databases[{i}]");
        non_empty(&format!("{path}.name"), &db.name)?;
        if let Some(first) = seen.insert(db.name.as_str(), i) {
            return Err(ConfigError::invalid(
                format!("{path}.name"),
                format!(
                    "duplicate database \"{}\" (also databases[{first}])",
                    db.name
                ),
            ));
        }
        database(&path, db)?;
    }
    Ok(())
}

fn database(path: &str, db: &Database) -> Result {
    non_empty(&format!("{path}.backend_user"), &db.backend_user)?;
    backend_tls(path, db)?;
    if db.shards.is_empty() {
        return Err(ConfigError::invalid(
            path,
            format!("database \"{}\" has no shards", db.name),
        ));
    }
    let mut nodes: HashMap<&NodeAddr, String> = HashMap::new();
    for (i, shard) in db.shards.iter().enumerate() {
        let shard_path = format!("{path}.shards[{i}]");
        let roles = std::iter::once(format!("{shard_path}.primary"))
            .chain((0..shard.replicas.len()).map(|j| format!("{shard_path}.replicas[{j}]")));
        for (node, node_path) in shard.nodes().zip(roles) {
            if let Some(first) = nodes.get(node) {
                return Err(ConfigError::invalid(
                    node_path,
                    format!("node \"{node}\" is already used by {first}"),
                ));
            }
            nodes.insert(node, node_path);
        }
    }
    tables(path, &db.tables)
}

fn tables(path: &str, tables: &[Table]) -> Result {
    let mut seen: HashMap<String, (usize, &str)> = HashMap::new();
    for (i, table) in tables.iter().enumerate() {
        let table_path = format!("{path}.tables[{i}]");
        non_empty(&format!("{table_path}.name"), &table.name)?;
        let folded = table.name.to_ascii_lowercase();
        if let Some((first, first_name)) = seen.get(&folded) {
            let note = if *first_name == table.name {
                format!("also tables[{first}]")
            } else {
                format!("tables[{first}] is \"{first_name}\"; table names ignore case")
            };
            return Err(ConfigError::invalid(
                format!("{table_path}.name"),
                format!("duplicate table \"{}\" ({note})", table.name),
            ));
        }
        seen.insert(folded, (i, &table.name));
        if let TableKind::Sharded { shard_key, .. } = &table.kind {
            non_empty(&format!("{table_path}.shard_key"), shard_key)?;
        }
    }
    Ok(())
}

/// `path: must not be empty` when `value` is blank.
fn non_empty(path: &str, value: &str) -> Result {
    if value.trim().is_empty() {
        return Err(ConfigError::invalid(path, "must not be empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_scram_verifiers() {
        assert!(is_scram_verifier(
            "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
        ));
        assert!(!is_scram_verifier("app"));
        assert!(!is_scram_verifier("SCRAM-SHA-256$4096:salt"));
        assert!(!is_scram_verifier("SCRAM-SHA-256$:salt$a:b"));
    }
}
