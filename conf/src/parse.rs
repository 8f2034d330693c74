//! TOML text → [`Config`]: the structural half of loading. Checks syntax, key names,
//! value types and the words and formats of single values; everything that relates
//! several values (duplicates, required combinations) is left to `validate`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::ConfigError;
use crate::model::{Config, Database, ProxyConfig, Shard, Table, TableKind, User};
use crate::node_addr::NodeAddr;
use crate::reader::Section;
use crate::words::{
    AuthMethod, BackendTls, KeyType, MysqlAuth, Protocol, ReadConsistency, TlsVersion,
};

type Result<T> = std::result::Result<T, ConfigError>;

const ROOT_KEYS: &[&str] = &["proxy", "users", "databases"];
const PROXY_KEYS: &[&str] = &[
    "postgres_listen",
    "mysql_listen",
    "admin_listen",
    "default_read_consistency",
    "default_max_staleness",
    "pool_size",
    "tls_cert",
    "tls_key",
    "tls_min_version",
    "max_client_connections",
    "monitor_interval",
    "max_replica_lag",
    "recovery_interval",
    "twopc_grace",
    "transaction_lock_timeout",
    "pool_timeout",
    "auth_method",
    "slow_query_threshold",
    "workers",
    "client_login_timeout",
    "client_idle_timeout",
    "idle_transaction_timeout",
    "query_timeout",
    "max_message_size",
];
const USER_KEYS: &[&str] = &[
    "name",
    "password",
    "scram_sha256",
    "admin",
    "mysql_auth",
    "read_consistency",
    "require_tls",
    "max_connections",
];
const DATABASE_KEYS: &[&str] = &[
    "name",
    "protocol",
    "backend_user",
    "backend_password",
    "backend_tls",
    "backend_tls_ca",
    "shards",
    "tables",
];
const SHARD_KEYS: &[&str] = &["primary", "replicas"];
const TABLE_KEYS: &[&str] = &["name", "shard_key", "key_type", "reference"];

/// Parses TOML text into a [`Config`] without cross-field validation.
pub(crate) fn parse_text(text: &str) -> Result<Config> {
    let table: toml::Table = text
        .parse()
        .map_err(|err| ConfigError::syntax(text, &err))?;
    parse_table(&table)
}

/// Builds a [`Config`] from a parsed TOML document without cross-field validation.
pub(crate) fn parse_table(table: &toml::Table) -> Result<Config> {
    let root = Section::root(table, ROOT_KEYS)?;
    let proxy = match root.opt_table("proxy", PROXY_KEYS)? {
        Some(section) => proxy(&section)?,
        None => ProxyConfig::default(),
    };
    let users = root.opt_tables("users", USER_KEYS)?;
    let databases = root.opt_tables("databases", DATABASE_KEYS)?;
    Ok(Config {
        proxy,
        users: users.iter().map(user).collect::<Result<_>>()?,
        databases: databases.iter().map(database).collect::<Result<_>>()?,
    })
}

fn proxy(s: &Section) -> Result<ProxyConfig> {
    let default = ProxyConfig::default();
    Ok(ProxyConfig {
        postgres_listen: s.opt_parsed("postgres_listen", listen_addr)?,
        mysql_listen: s.opt_parsed("mysql_listen", listen_addr)?,
        admin_listen: s.opt_parsed("admin_listen", listen_addr)?,
        default_read_consistency: s
            .opt_parsed("default_read_consistency", str::parse::<ReadConsistency>)?
            .unwrap_or(default.default_read_consistency),
        default_max_staleness: s
            .opt_duration("default_max_staleness")?
            .unwrap_or(default.default_max_staleness),
        pool_size: s.opt_u32("pool_size")?.unwrap_or(default.pool_size),
        tls_cert: s.opt_string("tls_cert")?.map(PathBuf::from),
        tls_key: s.opt_string("tls_key")?.map(PathBuf::from),
        tls_min_version: s
            .opt_parsed("tls_min_version", str::parse::<TlsVersion>)?
            .unwrap_or(default.tls_min_version),
        max_client_connections: s.opt_u32("max_client_connections")?,
        monitor_interval: s
            .opt_duration("monitor_interval")?
            .unwrap_or(default.monitor_interval),
        max_replica_lag: s.opt_duration("max_replica_lag")?,
        recovery_interval: s
            .opt_duration("recovery_interval")?
            .unwrap_or(default.recovery_interval),
        twopc_grace: s
            .opt_duration("twopc_grace")?
            .unwrap_or(default.twopc_grace),
        transaction_lock_timeout: s
            .opt_duration("transaction_lock_timeout")?
            .unwrap_or(default.transaction_lock_timeout),
        pool_timeout: s
            .opt_duration("pool_timeout")?
            .unwrap_or(default.pool_timeout),
        slow_query_threshold: s
            .opt_duration("slow_query_threshold")?
            .unwrap_or(default.slow_query_threshold),
        auth_method: s
            .opt_parsed("auth_method", str::parse::<AuthMethod>)?
            .unwrap_or(default.auth_method),
        workers: s.opt_u32("workers")?,
        client_login_timeout: s
            .opt_duration("client_login_timeout")?
            .unwrap_or(default.client_login_timeout),
        client_idle_timeout: s
            .opt_duration("client_idle_timeout")?
            .unwrap_or(default.client_idle_timeout),
        idle_transaction_timeout: s
            .opt_duration("idle_transaction_timeout")?
            .unwrap_or(default.idle_transaction_timeout),
        query_timeout: s
            .opt_duration("query_timeout")?
            .unwrap_or(default.query_timeout),
        max_message_size: s
            .opt_u32("max_message_size")?
            .unwrap_or(default.max_message_size),
    })
}

/// A listen address: an IP address and a port (no host names: nothing to resolve).
fn listen_addr(text: &str) -> std::result::Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("bad listen address \"{text}\" (expected ip:port, e.g. \"127.0.0.1:6432\")")
    })
}

fn user(s: &Section) -> Result<User> {
    Ok(User {
        name: s.required("name", s.opt_string("name"))?,
        password: s.opt_string("password")?,
        scram_sha256: s.opt_string("scram_sha256")?,
        admin: s.opt_bool("admin")?.unwrap_or(false),
        read_consistency: s.opt_parsed("read_consistency", str::parse::<ReadConsistency>)?,
        mysql_auth: s
            .opt_parsed("mysql_auth", str::parse::<MysqlAuth>)?
            .unwrap_or(MysqlAuth::NativePassword),
        require_tls: s.opt_bool("require_tls")?.unwrap_or(false),
        max_connections: s.opt_u32("max_connections")?,
    })
}

fn database(s: &Section) -> Result<Database> {
    let name = s.required("name", s.opt_string("name"))?;
    let protocol = s.opt_parsed("protocol", str::parse::<Protocol>);
    Ok(Database {
        protocol: s.required("protocol", protocol)?,
        backend_user: s.required("backend_user", s.opt_string("backend_user"))?,
        backend_password: s.opt_string("backend_password")?.unwrap_or_default(),
        backend_tls: s
            .opt_parsed("backend_tls", str::parse::<BackendTls>)?
            .unwrap_or_default(),
        backend_tls_ca: s.opt_string("backend_tls_ca")?.map(PathBuf::from),
        shards: s
            .opt_tables("shards", SHARD_KEYS)?
            .iter()
            .map(shard)
            .collect::<Result<_>>()?,
        tables: s
            .opt_tables("tables", TABLE_KEYS)?
            .iter()
            .map(table)
            .collect::<Result<_>>()?,
        name,
    })
}

fn shard(s: &Section) -> Result<Shard> {
    let primary = s.opt_parsed("primary", str::parse::<NodeAddr>);
    Ok(Shard {
        primary: s.required("primary", primary)?,
        replicas: s.opt_list("replicas", str::parse::<NodeAddr>)?,
    })
}

fn table(s: &Section) -> Result<Table> {
    let name = s.required("name", s.opt_string("name"))?;
    let shard_key = s.opt_string("shard_key")?;
    let key_type = s.opt_parsed("key_type", str::parse::<KeyType>)?;
    let reference = s.opt_bool("reference")?.unwrap_or(false);
    let kind = match (shard_key, reference) {
        (Some(_), true) => {
            return Err(s.error(format!(
                "table \"{name}\" has both shard_key and reference = true \
                 (a table is either sharded or a reference table)"
            )))
        }
        (None, false) => {
            return Err(s.error(format!(
                "table \"{name}\" needs shard_key and key_type (sharded) \
                 or reference = true (a copy on every shard)"
            )))
        }
        (Some(shard_key), false) => {
            let key_type = key_type.ok_or_else(|| {
                s.error(format!(
                    "missing key \"key_type\" for sharded table \"{name}\" \
                     (bigint, integer, smallint, text or uuid)"
                ))
            })?;
            TableKind::Sharded {
                shard_key,
                key_type,
            }
        }
        (None, true) if s.has("key_type") => {
            return Err(s.key_error("key_type", "only sharded tables have a key_type"))
        }
        (None, true) => TableKind::Reference,
    };
    Ok(Table { name, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_document_gives_defaults() {
        let config = parse_text("").expect("empty parses");
        assert_eq!(config.proxy, ProxyConfig::default());
        assert!(config.users.is_empty() && config.databases.is_empty());
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_text("[proxy]\npool_size = = 3\n").expect_err("bad toml");
        let text = err.to_string();
        assert!(text.starts_with("line 2, column "), "{text}");
    }
}
