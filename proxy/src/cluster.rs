//! The running form of the configuration: for every logical database its router, its
//! shards' backend pools and the statement registry; for every user the credentials to
//! check. Built once at start (and on reload), shared by all sessions.

use std::collections::HashMap;
use std::sync::Arc;

use shardwire_conf::{Config, Database, Protocol};
use shardwire_router::{Dialect, Router, Schema};
use tokio::sync::OnceCell;

use crate::auth::Credentials;
use crate::backend::mysql::conn::MyConn;
use crate::backend::pg::{NodeInfo, ServerConn};
use crate::backend::pool::NodePool;
use crate::backend::pool::ServerConnection;
use crate::frontend::limits::IdleLimits;
use crate::frontend::pg::statements::StatementRegistry;
use crate::frontend::slow_query::RequestLog;
use crate::monitor::ShardMonitor;

/// One shard at run time, of either engine.
#[derive(Debug)]
pub struct ShardRuntime<C: ServerConnection = ServerConn> {
    /// Position in the config (shard i = i-th entry).
    pub index: u32,
    /// The primary's pool.
    pub primary: NodePool<C>,
    /// The replicas' pools, in config order.
    pub replicas: Vec<NodePool<C>>,
    /// What the replica monitor last saw.
    pub monitor: Arc<ShardMonitor>,
}

/// Where a statement that any shard may run goes (no table, or only reference tables:
/// `SELECT 1`, `SELECT @@max_allowed_packet`, `SHOW TIMEZONE`): the first shard whose
/// primary the monitor last saw up, so such statements — which connectors send at
/// connect — keep working while shard 0 is down; shard 0 when none is.
pub fn any_shard<C: ServerConnection>(shards: &[ShardRuntime<C>]) -> u32 {
    shards
        .iter()
        .find(|s| s.monitor.view().primary.healthy)
        .map_or(0, |s| s.index)
}

/// One logical database at run time.
#[derive(Debug)]
pub struct DatabaseRuntime {
    /// Its configuration.
    pub config: Database,
    /// The router for its schema.
    pub router: Router,
    /// Its shards, in order.
    pub shards: Vec<ShardRuntime>,
    /// Prepared statements shared by all sessions (server-side names); kept across
    /// reloads, as the server connections that know these names are.
    pub statements: Arc<StatementRegistry>,
    /// ParameterStatus values reported by shard 0, sent to clients at startup.
    server_params: OnceCell<Vec<(String, String)>>,
    /// `proxy.transaction_lock_timeout` in milliseconds (0: not set).
    pub transaction_lock_timeout_ms: u128,
    /// Request durations and the slow-query log.
    pub requests: RequestLog,
    /// How long its clients may stay idle.
    pub idle_limits: IdleLimits,
}

impl DatabaseRuntime {
    /// The server-reported parameters, fetched once from shard 0's primary.
    pub async fn server_params(
        &self,
    ) -> Result<&[(String, String)], crate::backend::pool::CheckoutError> {
        let params = self
            .server_params
            .get_or_try_init(|| async {
                let conn = self.shards[0].primary.get().await?;
                Ok::<_, crate::backend::pool::CheckoutError>(conn.server_params.clone())
            })
            .await?;
        Ok(params)
    }

    /// The shard with this index.
    pub fn shard(&self, index: u32) -> Option<&ShardRuntime> {
        self.shards.get(index as usize)
    }
}

/// The shards of `db`: a pool per node (connections open lazily) and a monitor each.
/// With `previous` (the same database before a reload, and the config it ran), a node
/// reached the same way keeps its pool, and a shard whose nodes are all unchanged keeps its
/// monitor, so a reload drops no connection and no replica knowledge it need not drop.
fn shard_runtimes<C: ServerConnection>(
    db: &Database,
    config: &Config,
    previous: Option<(&[ShardRuntime<C>], &Config)>,
) -> Vec<ShardRuntime<C>> {
    let monitors_kept = previous.is_some_and(|(_, old)| {
        old.proxy.monitor_interval == config.proxy.monitor_interval
            && old.proxy.max_replica_lag == config.proxy.max_replica_lag
    });
    db.shards
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let before = previous.and_then(|(shards, _)| shards.get(i));
            let pool = |role: &str, addr: &shardwire_conf::NodeAddr| {
                let node = Arc::new(NodeInfo::new(db, i, role, addr));
                crate::metrics::backend_errors_at_zero(&node.name);
                let kept = before.and_then(|b| {
                    std::iter::once(&b.primary)
                        .chain(&b.replicas)
                        .find(|p| p.node().same_node(&node))
                });
                match kept {
                    Some(pool) => pool
                        .reconfigured(config.proxy.pool_size as usize, config.proxy.pool_timeout),
                    None => NodePool::new(
                        node,
                        config.proxy.pool_size as usize,
                        config.proxy.pool_timeout,
                    ),
                }
            };
            let primary = pool("primary", &shard.primary);
            let replicas: Vec<NodePool<C>> = shard
                .replicas
                .iter()
                .enumerate()
                .map(|(r, addr)| pool(&format!("replica{r}"), addr))
                .collect();
            let same_nodes = |b: &ShardRuntime<C>| {
                b.primary.node().same_node(primary.node())
                    && b.replicas.len() == replicas.len()
                    && b.replicas
                        .iter()
                        .zip(&replicas)
                        .all(|(x, y)| x.node().same_node(y.node()))
            };
            let monitor = match before.filter(|b| monitors_kept && same_nodes(b)) {
                Some(b) => b.monitor.clone(),
                None => Arc::new(ShardMonitor::new(replicas.len())),
            };
            ShardRuntime {
                index: i as u32,
                primary,
                replicas,
                monitor,
            }
        })
        .collect()
}

/// Whether `new` places every table as `old` did (same shards, same tables): plans made
/// for one hold for the other.
pub fn same_layout(old: &Database, new: &Database) -> bool {
    old.shards.len() == new.shards.len() && old.tables == new.tables
}

/// One MySQL shard at run time.
pub type MyShardRuntime = ShardRuntime<MyConn>;

/// One logical database served by the MySQL frontend.
#[derive(Debug)]
pub struct MyDatabaseRuntime {
    /// Its configuration.
    pub config: Database,
    /// The router (MySQL dialect).
    pub router: Router,
    /// Its shards, in order.
    pub shards: Vec<MyShardRuntime>,
    /// `proxy.transaction_lock_timeout` in whole seconds, at least 1 (0: not set), for
    /// `innodb_lock_wait_timeout` in transactions.
    pub transaction_lock_timeout_secs: u64,
    /// Request durations and the slow-query log.
    pub requests: RequestLog,
    /// How long its clients may stay idle.
    pub idle_limits: IdleLimits,
}

impl UserRuntime {
    /// The user as a session should see it after a reload: the new config's entry, or,
    /// when the user was removed, the same account without admin rights (its sessions
    /// finish, but may no longer administer the proxy).
    pub fn after_reload(current: &Arc<UserRuntime>, cluster: &Cluster) -> Arc<UserRuntime> {
        match cluster.user(&current.name) {
            Some(user) => user.clone(),
            None if current.admin => Arc::new(UserRuntime {
                admin: false,
                ..(**current).clone()
            }),
            None => current.clone(),
        }
    }
}

impl MyDatabaseRuntime {
    fn build(
        db: &Database,
        config: &Config,
        previous: Option<(&[MyShardRuntime], &Config)>,
    ) -> MyDatabaseRuntime {
        let shards = shard_runtimes(db, config, previous);
        MyDatabaseRuntime {
            config: db.clone(),
            router: Router::new(Schema::from_database(db), Dialect::MySql),
            shards,
            transaction_lock_timeout_secs: match config.proxy.transaction_lock_timeout {
                d if d.is_zero() => 0,
                d => d.as_secs_f64().ceil().max(1.0) as u64,
            },
            requests: RequestLog::new(&db.name, config.proxy.slow_query_threshold),
            idle_limits: IdleLimits::of(&config.proxy),
        }
    }

    /// The shard with this index.
    pub fn shard(&self, index: u32) -> Option<&MyShardRuntime> {
        self.shards.get(index as usize)
    }
}

/// A user at run time.
#[derive(Debug, Clone)]
pub struct UserRuntime {
    /// Login name.
    pub name: String,
    /// May run admin statements.
    pub admin: bool,
    /// What to check the password against.
    pub credentials: Credentials,
    /// What the MySQL frontend checks the password against.
    pub mysql: crate::auth::mysql::MysqlCredentials,
    /// The MySQL auth plugin configured for the user.
    pub mysql_auth: shardwire_conf::MysqlAuth,
    /// Plaintext logins are refused (`require_tls`).
    pub require_tls: bool,
    /// Most concurrent connections of this user (`users.max_connections`).
    pub max_connections: Option<u32>,
}

/// Everything sessions need, built from a [`Config`].
#[derive(Debug)]
pub struct Cluster {
    /// The configuration it was built from.
    pub config: Config,
    databases: HashMap<String, Arc<DatabaseRuntime>>,
    mysql_databases: HashMap<String, Arc<MyDatabaseRuntime>>,
    users: HashMap<String, Arc<UserRuntime>>,
}

impl Cluster {
    /// Builds pools (connections open lazily) and routers. Must run inside a tokio runtime.
    pub fn build(config: Config) -> Result<Cluster, String> {
        Cluster::build_from(config, None)
    }

    /// Builds the cluster of `config`, keeping from `previous` (the running cluster, on a
    /// reload) the pools, monitors and statement registries of what did not change.
    pub fn build_from(config: Config, previous: Option<&Cluster>) -> Result<Cluster, String> {
        // Nodes read their CA file on first connect; read each once here so a bad file
        // stops the start (or the reload) with its name instead of failing every login.
        for (i, db) in config.databases.iter().enumerate() {
            if let (shardwire_conf::BackendTls::VerifyFull, Some(ca)) =
                (db.backend_tls, &db.backend_tls_ca)
            {
                crate::backend::tls::client_config(ca)
                    .map_err(|e| format!("databases[{i}].{e}"))?;
            }
        }
        let mut databases = HashMap::new();
        let mut mysql_databases = HashMap::new();
        for db in &config.databases {
            if db.protocol == Protocol::Mysql {
                let before = previous.and_then(|p| {
                    p.mysql_database(&db.name)
                        .map(|d| (d.shards.as_slice(), &p.config))
                });
                let runtime = MyDatabaseRuntime::build(db, &config, before);
                mysql_databases.insert(db.name.clone(), Arc::new(runtime));
                continue;
            }
            let before = previous.and_then(|p| p.database(&db.name).map(|d| (d, &p.config)));
            let shards = shard_runtimes(db, &config, before.map(|(d, c)| (d.shards.as_slice(), c)));
            let runtime = DatabaseRuntime {
                router: Router::new(Schema::from_database(db), Dialect::Postgres),
                config: db.clone(),
                shards,
                // Statements keep their plans: only a registry whose plans still hold (same
                // tables, same shard count) is carried over.
                statements: before
                    .filter(|(d, _)| same_layout(&d.config, db))
                    .map_or_else(Default::default, |(d, _)| d.statements.clone()),
                server_params: OnceCell::new_with(
                    before.and_then(|(d, _)| d.server_params.get().cloned()),
                ),
                transaction_lock_timeout_ms: config.proxy.transaction_lock_timeout.as_millis(),
                requests: RequestLog::new(&db.name, config.proxy.slow_query_threshold),
                idle_limits: IdleLimits::of(&config.proxy),
            };
            databases.insert(db.name.clone(), Arc::new(runtime));
        }
        let mut users = HashMap::new();
        for user in &config.users {
            // An unchanged user keeps its runtime: deriving a SCRAM verifier from a
            // password costs thousands of HMACs.
            let unchanged = previous.and_then(|p| {
                p.config
                    .user(&user.name)
                    .filter(|before| *before == user)
                    .and_then(|_| p.user(&user.name))
            });
            if let Some(kept) = unchanged {
                users.insert(user.name.clone(), kept.clone());
                continue;
            }
            let credentials = crate::auth::credentials_for(user)
                .map_err(|e| format!("users.{}: {e}", user.name))?;
            users.insert(
                user.name.clone(),
                Arc::new(UserRuntime {
                    name: user.name.clone(),
                    admin: user.admin,
                    mysql: crate::auth::mysql::MysqlCredentials::from_credentials(&credentials),
                    mysql_auth: user.mysql_auth,
                    require_tls: user.require_tls,
                    max_connections: user.max_connections,
                    credentials,
                }),
            );
        }
        Ok(Cluster {
            config,
            databases,
            mysql_databases,
            users,
        })
    }

    /// The database clients name at connect time.
    pub fn database(&self, name: &str) -> Option<&Arc<DatabaseRuntime>> {
        self.databases.get(name)
    }

    /// A database of the MySQL frontend.
    pub fn mysql_database(&self, name: &str) -> Option<&Arc<MyDatabaseRuntime>> {
        self.mysql_databases.get(name)
    }

    /// Every database of the MySQL frontend.
    pub fn mysql_databases(&self) -> impl Iterator<Item = &Arc<MyDatabaseRuntime>> {
        self.mysql_databases.values()
    }

    /// A configured user.
    pub fn user(&self, name: &str) -> Option<&Arc<UserRuntime>> {
        self.users.get(name)
    }

    /// Every database of the PostgreSQL frontend.
    pub fn databases(&self) -> impl Iterator<Item = &Arc<DatabaseRuntime>> {
        self.databases.values()
    }

    /// Every node of both engines with its pool's counts.
    pub fn pool_statuses(&self) -> Vec<(Arc<NodeInfo>, deadpool::Status)> {
        fn of<C: ServerConnection>(
            shards: &[ShardRuntime<C>],
        ) -> impl Iterator<Item = (Arc<NodeInfo>, deadpool::Status)> + '_ {
            shards
                .iter()
                .flat_map(|s| std::iter::once(&s.primary).chain(&s.replicas))
                .map(|p| (p.node().clone(), p.status()))
        }
        let pg = self.databases().flat_map(|db| of(&db.shards));
        let my = self.mysql_databases().flat_map(|db| of(&db.shards));
        pg.chain(my).collect()
    }

    /// Every shard monitor with the engine of its shard and the nodes it polls.
    pub fn monitors(&self) -> Vec<MonitorSpec> {
        let pg = self.databases().flat_map(|db| {
            db.shards
                .iter()
                .map(|s| MonitorSpec::of(s, crate::monitor::Engine::Postgres))
        });
        let my = self.mysql_databases().flat_map(|db| {
            db.shards
                .iter()
                .map(|s| MonitorSpec::of(s, crate::monitor::Engine::MariaDb))
        });
        pg.chain(my).collect()
    }
}

/// What a monitor task needs: the shared monitor, its engine and its nodes.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    /// The shard's monitor.
    pub monitor: Arc<ShardMonitor>,
    /// Which server the shard runs.
    pub engine: crate::monitor::Engine,
    /// The primary.
    pub primary: Arc<NodeInfo>,
    /// The replicas, in config order.
    pub replicas: Vec<Arc<NodeInfo>>,
}

impl MonitorSpec {
    fn of<C: ServerConnection>(
        shard: &ShardRuntime<C>,
        engine: crate::monitor::Engine,
    ) -> MonitorSpec {
        MonitorSpec {
            monitor: shard.monitor.clone(),
            engine,
            primary: shard.primary.node().clone(),
            replicas: shard.replicas.iter().map(|r| r.node().clone()).collect(),
        }
    }
}
