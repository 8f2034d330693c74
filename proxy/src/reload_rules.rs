//! What `RELOAD shardwire` may change in a running proxy. Nodes, replicas, users, new
//! tables and most `[proxy]` settings apply to new transactions. What would silently put
//! rows on the wrong shard — another shard count, shards reordered, a listed table
//! sharded differently or no longer listed, a database switching protocol — is refused:
//! those need a data move and a restart. Listener addresses and the client-facing TLS
//! settings (`tls_cert`, `tls_key`, `tls_min_version`) are kept until a restart, which
//! the reload reports: the listeners and their TLS acceptor are made once at startup. Listing a table that was not listed before is allowed: that
//! is how a new sharded table is introduced (create it on every shard first; rows an
//! application already wrote to it as an unsharded table stay on shard 0).

use shardwire_conf::{Config, ProxyConfig, TableKind};

/// Checks that `new` may replace `old` in a running proxy. `Ok` carries notes for the
/// operator (what the reload did not apply); `Err` names the key at fault.
pub fn check(old: &Config, new: &Config) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    for (i, db) in new.databases.iter().enumerate() {
        let Some(before) = old.databases.iter().find(|d| d.name == db.name) else {
            continue;
        };
        if db.protocol != before.protocol {
            return Err(format!(
                "databases[{i}].protocol: database {:?} cannot change protocol on reload \
                 (its clients speak {:?}); restart the proxy instead",
                db.name, before.protocol
            ));
        }
        if db.shards.len() != before.shards.len() {
            return Err(format!(
                "databases[{i}].shards: database {:?} has {} shards and the new config {}; \
                 a different shard count sends keys to other shards, so it needs the rows \
                 moved and a restart, not a reload",
                db.name,
                before.shards.len(),
                db.shards.len()
            ));
        }
        for (s, shard) in db.shards.iter().enumerate() {
            let moved_from = before
                .shards
                .iter()
                .position(|b| b.primary == shard.primary)
                .filter(|&was| was != s);
            if let Some(was) = moved_from {
                return Err(format!(
                    "databases[{i}].shards[{s}].primary: {} was the primary of shard {was}; \
                     shards are numbered by their position, so reordering them sends keys to \
                     the wrong servers",
                    shard.primary.host_port()
                ));
            }
        }
        for was in &before.tables {
            if db.table(&was.name).is_none() {
                return Err(format!(
                    "databases[{i}].tables: table {:?} of database {:?} was {} and is no \
                     longer listed, which would make it an unsharded table on shard 0 and \
                     lose sight of its rows elsewhere; keep it listed (or restart after \
                     moving its rows)",
                    was.name,
                    db.name,
                    placement(&was.kind)
                ));
            }
        }
        for (t, table) in db.tables.iter().enumerate() {
            let Some(was) = before.table(&table.name) else {
                continue;
            };
            if placement(&was.kind) != placement(&table.kind) {
                return Err(format!(
                    "databases[{i}].tables[{t}]: table {:?} of database {:?} was {} and \
                     would become {}; its rows would be looked for on other shards, so this \
                     needs a data move and a restart, not a reload",
                    table.name,
                    db.name,
                    placement(&was.kind),
                    placement(&table.kind)
                ));
            }
        }
    }
    for db in &old.databases {
        if !new.databases.iter().any(|d| d.name == db.name) {
            notes.push(format!(
                "database {:?} removed: new logins to it are refused; connected clients keep \
                 it until they disconnect",
                db.name
            ));
        }
    }
    let listeners = [
        (
            "postgres_listen",
            old.proxy.postgres_listen,
            new.proxy.postgres_listen,
        ),
        (
            "mysql_listen",
            old.proxy.mysql_listen,
            new.proxy.mysql_listen,
        ),
        (
            "admin_listen",
            old.proxy.admin_listen,
            new.proxy.admin_listen,
        ),
    ];
    for (key, before, after) in listeners {
        if before != after {
            let still = before.map_or("disabled".to_string(), |a| a.to_string());
            notes.push(format!(
                "proxy.{key}: listeners change only at restart (still {still})"
            ));
        }
    }
    notes.extend(tls_notes(&old.proxy, &new.proxy));
    if old.proxy.workers != new.proxy.workers {
        notes.push("proxy.workers: the runtime's threads change only at restart".to_string());
    }
    Ok(notes)
}

/// Client-facing TLS is loaded once, with the listeners (`tls::TlsServer`); a reload
/// that changes it says what stays in force. (New contents under the same file names go
/// unnoticed too: a restart is how certificates are rotated.)
fn tls_notes(old: &ProxyConfig, new: &ProxyConfig) -> Vec<String> {
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or("not set".to_string(), |p| p.display().to_string())
    };
    let mut notes = Vec::new();
    for (key, before, after) in [
        ("tls_cert", &old.tls_cert, &new.tls_cert),
        ("tls_key", &old.tls_key, &new.tls_key),
    ] {
        if before != after {
            notes.push(format!(
                "proxy.{key}: TLS settings change only at restart (still {})",
                path(before)
            ));
        }
    }
    if old.tls_min_version != new.tls_min_version {
        notes.push(format!(
            "proxy.tls_min_version: TLS settings change only at restart (still {})",
            old.tls_min_version
        ));
    }
    notes
}

/// A table's placement in words, for comparison and messages.
fn placement(kind: &TableKind) -> String {
    match kind {
        TableKind::Reference => "a reference table".to_string(),
        TableKind::Sharded {
            shard_key,
            key_type,
        } => format!("sharded by {shard_key} ({key_type:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(shards: usize, key: &str, listen: &str) -> Config {
        let mut text = format!(
            "[proxy]\npostgres_listen = \"{listen}\"\n\
             [[users]]\nname = \"app\"\npassword = \"app\"\n\
             [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n"
        );
        for s in 0..shards {
            text.push_str(&format!(
                "[[databases.shards]]\nprimary = \"127.0.0.1:{}/app\"\n",
                5000 + s
            ));
        }
        text.push_str(&format!(
            "[[databases.tables]]\nname = \"accounts\"\nshard_key = \"{key}\"\nkey_type = \"bigint\"\n"
        ));
        Config::from_toml_str(&text).expect("valid config")
    }

    #[test]
    fn same_layout_with_other_nodes_is_allowed() {
        let old = config(2, "id", "127.0.0.1:6432");
        let mut new = old.clone();
        new.databases[0].shards[1]
            .replicas
            .push("127.0.0.1:7001/app".parse().expect("address"));
        assert_eq!(check(&old, &new), Ok(vec![]));
    }

    #[test]
    fn another_shard_count_is_refused_naming_the_key() {
        let err = check(
            &config(2, "id", "127.0.0.1:6432"),
            &config(3, "id", "127.0.0.1:6432"),
        )
        .expect_err("refused");
        assert!(err.starts_with("databases[0].shards:"), "{err}");
    }

    #[test]
    fn another_shard_key_is_refused() {
        let err = check(
            &config(2, "id", "127.0.0.1:6432"),
            &config(2, "owner_id", "127.0.0.1:6432"),
        )
        .expect_err("refused");
        assert!(err.starts_with("databases[0].tables[0]:"), "{err}");
    }

    #[test]
    fn swapped_shards_and_unlisted_tables_are_refused() {
        let old = config(2, "id", "127.0.0.1:6432");
        let mut swapped = old.clone();
        swapped.databases[0].shards.swap(0, 1);
        let err = check(&old, &swapped).expect_err("refused");
        assert!(err.starts_with("databases[0].shards[0].primary:"), "{err}");
        let mut unlisted = old.clone();
        unlisted.databases[0].tables.clear();
        let err = check(&old, &unlisted).expect_err("refused");
        assert!(err.starts_with("databases[0].tables:"), "{err}");
    }

    #[test]
    fn a_new_listen_address_is_noted_not_applied() {
        let notes = check(
            &config(2, "id", "127.0.0.1:6432"),
            &config(2, "id", "127.0.0.1:7432"),
        )
        .expect("allowed");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("still 127.0.0.1:6432"), "{notes:?}");
    }

    #[test]
    fn new_tls_settings_are_noted_not_applied() {
        let old = config(2, "id", "127.0.0.1:6432");
        let mut new = old.clone();
        new.proxy.tls_cert = Some("server.crt".into());
        new.proxy.tls_key = Some("server.key".into());
        let notes = check(&old, &new).expect("allowed");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("proxy.tls_cert:"), "{notes:?}");
        assert!(notes[0].contains("still not set"), "{notes:?}");
    }
}
