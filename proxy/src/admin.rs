//! The admin console of DESIGN §8 for both frontends: the views (`SHOW shardwire.shards |
//! replicas | pools | stats | clients`) as columns and text rows, which each frontend sends
//! in its own result format, and `RELOAD shardwire`. Each frontend describes its logical
//! database as a [`DatabaseView`]; what the rows say comes from the pools, the replica
//! monitor, the router and the client registry, read at the moment of the statement.

use std::sync::Arc;

use shardwire_router::RouterStats;

use crate::backend::pg::NodeInfo;
use crate::backend::pool::{NodePool, ServerConnection};
use crate::clients::ClientRegistry;
use crate::cluster::ShardRuntime;
use crate::consistency::ShardView;
use crate::live::{LiveCluster, ReloadOutcome};

/// The views, by their `SHOW` name.
pub const VIEWS: [&str; 5] = [
    "shardwire.shards",
    "shardwire.replicas",
    "shardwire.pools",
    "shardwire.stats",
    "shardwire.clients",
];

/// One node as a view sees it.
pub struct NodeView {
    /// Its identity.
    pub node: Arc<NodeInfo>,
    /// Its pool's counts.
    pub pool: deadpool::Status,
}

/// One shard as a view sees it.
pub struct ShardSnapshot {
    /// Its index.
    pub index: u32,
    /// The primary.
    pub primary: NodeView,
    /// The replicas, in config order.
    pub replicas: Vec<NodeView>,
    /// What the monitor last saw (positions, health, staleness).
    pub monitor: Arc<ShardView>,
}

/// A logical database as the views see it.
pub struct DatabaseView {
    /// Its name.
    pub name: String,
    /// Its shards.
    pub shards: Vec<ShardSnapshot>,
    /// Its router's counters.
    pub router: RouterStats,
}

/// Whether `name` (lower case, as `SHOW` gives it) is an admin view.
pub fn is_view(name: &str) -> bool {
    VIEWS.contains(&name)
}

/// The columns of view `name`.
pub fn columns(name: &str) -> &'static [&'static str] {
    match name {
        "shardwire.shards" => &[
            "database",
            "shard",
            "primary",
            "address",
            "primary_up",
            "replicas",
        ],
        "shardwire.replicas" => &[
            "database",
            "shard",
            "node",
            "address",
            "healthy",
            "position",
            "lag",
            "staleness_ms",
        ],
        "shardwire.pools" => &[
            "database",
            "node",
            "size",
            "available",
            "max_size",
            "waiting",
        ],
        "shardwire.clients" => &[
            "id",
            "protocol",
            "user",
            "database",
            "address",
            "state",
            "connected_s",
            "requests",
        ],
        _ => &[
            "database",
            "simple_hits",
            "simple_misses",
            "prepared_hits",
            "prepared_misses",
            "plans_cached",
            "parses",
        ],
    }
}

/// The rows of view `name` for `db` (and, for `shardwire.clients`, every client of the
/// proxy), as text (`None` for unknown values).
pub fn rows(name: &str, db: &DatabaseView, clients: &ClientRegistry) -> Vec<Vec<Option<String>>> {
    let text = |v: &dyn ToString| Some(v.to_string());
    match name {
        "shardwire.clients" => clients
            .list()
            .into_iter()
            .map(|c| {
                vec![
                    text(&c.id),
                    text(&c.protocol),
                    Some(c.user),
                    Some(c.database),
                    text(&c.peer),
                    text(&c.state.as_str()),
                    Some(format!("{:.1}", c.connected_secs)),
                    text(&c.requests),
                ]
            })
            .collect(),
        "shardwire.shards" => db
            .shards
            .iter()
            .map(|s| {
                vec![
                    text(&db.name),
                    text(&s.index),
                    text(&s.primary.node.name),
                    text(&s.primary.node.addr),
                    text(&s.monitor.primary.healthy),
                    text(&s.replicas.len()),
                ]
            })
            .collect(),
        "shardwire.replicas" => db
            .shards
            .iter()
            .flat_map(|s| {
                s.replicas.iter().enumerate().map(move |(i, r)| {
                    let state = s.monitor.replicas.get(i);
                    let position = state.and_then(|st| st.position);
                    let lag = match (s.monitor.primary.position, position) {
                        (Some(p), Some(r)) => Some(r.bytes_behind(p).to_string()),
                        _ => None,
                    };
                    vec![
                        Some(db.name.clone()),
                        Some(s.index.to_string()),
                        Some(r.node.name.clone()),
                        Some(r.node.addr.clone()),
                        Some(state.is_some_and(|st| st.healthy).to_string()),
                        position.map(|p| p.0.to_string()),
                        lag,
                        state
                            .and_then(|st| st.staleness)
                            .map(|d| d.as_millis().to_string()),
                    ]
                })
            })
            .collect(),
        "shardwire.pools" => db
            .shards
            .iter()
            .flat_map(|s| std::iter::once(&s.primary).chain(&s.replicas))
            .map(|n| {
                vec![
                    text(&db.name),
                    text(&n.node.name),
                    text(&n.pool.size),
                    text(&n.pool.available),
                    text(&n.pool.max_size),
                    text(&n.pool.waiting),
                ]
            })
            .collect(),
        _ => {
            let r = &db.router;
            vec![vec![
                text(&db.name),
                text(&r.simple.hits),
                text(&r.simple.misses),
                text(&r.prepared.hits),
                text(&r.prepared.misses),
                text(&(r.simple.entries + r.prepared.entries)),
                text(&r.parses),
            ]]
        }
    }
}

impl DatabaseView {
    /// The view of a PostgreSQL database.
    pub fn of_postgres(db: &crate::cluster::DatabaseRuntime) -> DatabaseView {
        Self::of(&db.config.name, &db.shards, db.router.stats())
    }

    /// The view of a MySQL database.
    pub fn of_mysql(db: &crate::cluster::MyDatabaseRuntime) -> DatabaseView {
        Self::of(&db.config.name, &db.shards, db.router.stats())
    }

    fn of<C: ServerConnection>(
        name: &str,
        shards: &[ShardRuntime<C>],
        router: RouterStats,
    ) -> DatabaseView {
        let node = |p: &NodePool<C>| NodeView {
            node: p.node().clone(),
            pool: p.status(),
        };
        DatabaseView {
            name: name.to_string(),
            shards: shards
                .iter()
                .map(|s| ShardSnapshot {
                    index: s.index,
                    primary: node(&s.primary),
                    replicas: s.replicas.iter().map(node).collect(),
                    monitor: s.monitor.view(),
                })
                .collect(),
            router,
        }
    }
}

/// Why `RELOAD shardwire` changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadRefused {
    /// The user is not an admin.
    NotAdmin,
    /// The new config is invalid or may not replace the running one; the message names
    /// the key at fault.
    Invalid(String),
}

impl ReloadRefused {
    /// The message for the client.
    pub fn message(&self) -> String {
        match self {
            ReloadRefused::NotAdmin => {
                "shardwire: RELOAD shardwire is for users with admin = true".to_string()
            }
            ReloadRefused::Invalid(e) => {
                format!("shardwire: configuration not reloaded, the running one stays: {e}")
            }
        }
    }
}

/// `RELOAD shardwire` (or `SET shardwire.reload`) from a client.
pub async fn reload(live: &LiveCluster, admin: bool) -> Result<ReloadOutcome, ReloadRefused> {
    if !admin {
        return Err(ReloadRefused::NotAdmin);
    }
    live.reload().await.map_err(|e| {
        tracing::error!(error = %e, "RELOAD: configuration not reloaded; the running one stays");
        ReloadRefused::Invalid(e)
    })
}

/// Whether a statement asks for a reload.
pub fn is_reload(kind: &shardwire_router::StatementKind) -> bool {
    use shardwire_router::{SetCommand, StatementKind};
    match kind {
        StatementKind::Reload => true,
        StatementKind::Set(SetCommand::Assign { name, .. }) => name == "shardwire.reload",
        _ => false,
    }
}
