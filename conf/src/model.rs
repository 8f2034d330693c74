//! The configuration as typed values (DESIGN §4): what the rest of the proxy reads after
//! [`Config::load`](crate::Config::load) has parsed and validated a file. Plain data with
//! lookup helpers; no I/O and no parsing here.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::node_addr::NodeAddr;
use crate::words::{
    AuthMethod, BackendTls, KeyType, MysqlAuth, Protocol, ReadConsistency, TlsVersion,
};

/// A whole shardwire configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[proxy]`: listeners and proxy-wide defaults.
    pub proxy: ProxyConfig,
    /// `[[users]]`: who may connect to the proxy. May be empty (then no one can).
    pub users: Vec<User>,
    /// `[[databases]]`: the logical databases clients connect to by name.
    pub databases: Vec<Database>,
}

impl Config {
    /// The logical database called exactly `name` (database names are case-sensitive,
    /// as in the startup packets of both protocols).
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|db| db.name == name)
    }

    /// The user called exactly `name` (user names are case-sensitive).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|user| user.name == name)
    }
}

/// `[proxy]`: listeners and proxy-wide defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// PostgreSQL frontend address; `None` disables it.
    pub postgres_listen: Option<SocketAddr>,
    /// MySQL frontend address; `None` disables it.
    pub mysql_listen: Option<SocketAddr>,
    /// HTTP address for `/metrics` and `/health`; `None` disables it.
    pub admin_listen: Option<SocketAddr>,
    /// Read consistency of sessions that do not set one (default `strong`).
    pub default_read_consistency: ReadConsistency,
    /// Staleness bound used by `bounded` reads (default 1s).
    pub default_max_staleness: Duration,
    /// Server connections per backend node (default 20).
    pub pool_size: u32,
    /// Certificate chain (PEM, leaf first) for client-facing TLS on both frontends.
    /// Read at startup only: a reload keeps the certificate the proxy started with.
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// The oldest TLS version accepted from clients (default 1.2).
    pub tls_min_version: TlsVersion,
    /// Limit on concurrent client connections; `None` means no limit.
    pub max_client_connections: Option<u32>,
    /// How often the replica monitor polls positions (default 50ms).
    pub monitor_interval: Duration,
    /// A replica lagging more than this is treated as unhealthy; `None` means no limit.
    pub max_replica_lag: Option<Duration>,
    /// How often in-doubt 2PC transactions are looked for (default 5s).
    pub recovery_interval: Duration,
    /// How long a prepared 2PC transaction without a decision is left to its coordinator
    /// before recovery rolls it back (default 30s).
    pub twopc_grace: Duration,
    /// `lock_timeout` set in every explicit transaction the proxy opens on a shard, unless
    /// the session set its own (default 10s; 0 disables). Each shard only sees its own
    /// lock waits, so a deadlock across shards is invisible to PostgreSQL's detector: the
    /// timeout turns it into an error instead of a hang.
    pub transaction_lock_timeout: Duration,
    /// How long a query waits for a pooled backend connection (default 5s).
    pub pool_timeout: Duration,
    /// How PostgreSQL clients authenticate: SCRAM-SHA-256 (default) or md5.
    pub auth_method: AuthMethod,
    /// Requests taking longer are logged (at `warn`, statement text with its literals
    /// replaced by placeholders); 0 disables the slow-query log (default 1s).
    pub slow_query_threshold: Duration,
    /// Runtime worker threads; `None` means one per CPU core. Set it lower when the proxy
    /// shares its machine with the databases or the load generator: idle workers of a
    /// work-stealing runtime wake each other and spin looking for work.
    pub workers: Option<u32>,
    /// A client must finish the startup and authentication within this (default 60s, as
    /// PostgreSQL's `authentication_timeout` and PgBouncer's `client_login_timeout`):
    /// a slow or silent client cannot hold a connection slot open.
    pub client_login_timeout: Duration,
    /// A client idle this long outside a transaction is disconnected (0: never, the
    /// default).
    pub client_idle_timeout: Duration,
    /// A client idle this long inside a transaction has it rolled back and is
    /// disconnected (0: never, the default), so it cannot hold locks and a server
    /// connection forever.
    pub idle_transaction_timeout: Duration,
    /// A request running longer than this is canceled on its servers (0: never, the
    /// default): PostgreSQL answers 57014, MariaDB 1317 (or 1 from an interrupted
    /// `SLEEP`).
    pub query_timeout: Duration,
    /// Largest message a client may send, in bytes (default 64 MiB); a longer one ends
    /// the connection with an error. MySQL commands are capped at one packet (16 MiB).
    pub max_message_size: u32,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            postgres_listen: None,
            mysql_listen: None,
            admin_listen: None,
            default_read_consistency: ReadConsistency::Strong,
            default_max_staleness: Duration::from_secs(1),
            pool_size: 20,
            tls_cert: None,
            tls_key: None,
            tls_min_version: TlsVersion::default(),
            max_client_connections: None,
            monitor_interval: Duration::from_millis(50),
            max_replica_lag: None,
            recovery_interval: Duration::from_secs(5),
            twopc_grace: Duration::from_secs(30),
            transaction_lock_timeout: Duration::from_secs(10),
            pool_timeout: Duration::from_secs(5),
            auth_method: AuthMethod::default(),
            slow_query_threshold: Duration::from_secs(1),
            workers: None,
            client_login_timeout: Duration::from_secs(60),
            client_idle_timeout: Duration::ZERO,
            idle_transaction_timeout: Duration::ZERO,
            query_timeout: Duration::ZERO,
            max_message_size: 64 << 20,
        }
    }
}

/// `[[users]]`: an account on the proxy. Exactly one of `password` and `scram_sha256`
/// is set. `Debug` hides both.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Clear-text password.
    pub password: Option<String>,
    /// Stored SCRAM-SHA-256 verifier, `SCRAM-SHA-256$<iterations>:<salt>$<stored>:<server>`.
    pub scram_sha256: Option<String>,
    /// May run the admin statements of DESIGN §8.
    pub admin: bool,
    /// Read consistency for this user's sessions, overriding the proxy default.
    pub read_consistency: Option<ReadConsistency>,
    /// The MySQL frontend's auth plugin for this user (default `mysql_native_password`;
    /// a user with only a SCRAM verifier always uses `caching_sha2_password`).
    pub mysql_auth: MysqlAuth,
    /// Logins of this user must come over TLS: a plaintext login is refused after
    /// authentication (PostgreSQL 28000, MySQL 1045), like `hostssl` in pg_hba.conf or
    /// `REQUIRE SSL` in MariaDB. Needs `proxy.tls_cert`.
    pub require_tls: bool,
    /// Most concurrent connections this user may have on the proxy; `None`: no limit.
    pub max_connections: Option<u32>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| Redacted))
            .field(
                "scram_sha256",
                &self.scram_sha256.as_ref().map(|_| Redacted),
            )
            .field("admin", &self.admin)
            .field("read_consistency", &self.read_consistency)
            .field("require_tls", &self.require_tls)
            .field("mysql_auth", &self.mysql_auth)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[[databases]]`: a logical database, its shards and its table layout. `Debug` hides
/// the backend password.
#[derive(Clone, PartialEq, Eq)]
pub struct Database {
    /// Name clients connect to.
    pub name: String,
    /// Protocol of the clients and the backends.
    pub protocol: Protocol,
    /// User the proxy logs in to backends as.
    pub backend_user: String,
    /// Password for `backend_user` (default empty).
    pub backend_password: String,
    /// TLS to the backends (default `disable`); `verify-full` needs `backend_tls_ca`.
    pub backend_tls: BackendTls,
    /// CA certificates (PEM) that backend certificates must chain to.
    pub backend_tls_ca: Option<PathBuf>,
    /// Shard `i` is the `i`-th entry; never empty.
    pub shards: Vec<Shard>,
    /// Sharded and reference tables. Tables not listed are unsharded and live on shard 0.
    pub tables: Vec<Table>,
}

impl Database {
    /// The listed table called `name`, compared ASCII case-insensitively.
    ///
    /// PostgreSQL folds unquoted identifiers to lower case and MySQL on Linux does not,
    /// so the router may see `Accounts` or `accounts` for the same table; matching
    /// without case serves both. Validation rejects two tables whose names differ only
    /// in case, so the answer is never ambiguous.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|table| table.name.eq_ignore_ascii_case(name))
    }

    /// Number of shards, the `N` of the sharding function (DESIGN §5).
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("backend_user", &self.backend_user)
            .field("backend_password", &Redacted)
            .field("backend_tls", &self.backend_tls)
            .field("backend_tls_ca", &self.backend_tls_ca)
            .field("shards", &self.shards)
            .field("tables", &self.tables)
            .finish()
    }
}

/// `[[databases.shards]]`: one shard's primary and its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Node that takes writes.
    pub primary: NodeAddr,
    /// Nodes that replicate the primary and may serve reads.
    pub replicas: Vec<NodeAddr>,
}

impl Shard {
    /// The primary, then the replicas.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeAddr> {
        std::iter::once(&self.primary).chain(&self.replicas)
    }
}

/// `[[databases.tables]]`: how one table is spread over the shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Table name as written in the config.
    pub name: String,
    /// Sharded by a key, or copied to every shard.
    pub kind: TableKind,
}

impl Table {
    /// The shard key column of a sharded table.
    pub fn shard_key(&self) -> Option<&str> {
        match &self.kind {
            TableKind::Sharded { shard_key, .. } => Some(shard_key),
            TableKind::Reference => None,
        }
    }

    /// Whether the table is a reference table (a copy on every shard).
    pub fn is_reference(&self) -> bool {
        self.kind == TableKind::Reference
    }
}

/// How a listed table is placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// Rows live on the shard their key hashes to (`shard_key` + `key_type`).
    Sharded {
        /// Column whose value picks the shard.
        shard_key: String,
        /// SQL type of that column, which selects the hash function.
        key_type: KeyType,
    },
    /// A full copy on every shard (`reference = true`): writes go to all, reads to any.
    Reference,
}

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
