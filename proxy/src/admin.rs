//! The admin views (`SHOW shardwire.shards | replicas | pools | stats`, DESIGN §8) as
//! columns and text rows, for both frontends to send in their own result formats. Each
//! frontend describes its logical database as a [`DatabaseView`]; what the rows say
//! comes from the pools, the replica monitor and the router, read at the moment of the
//! statement.

use std::sync::Arc;

use shardwire_router::RouterStats;

use crate::backend::pg::NodeInfo;
use crate::backend::pool::{NodePool, ServerConnection};
use crate::cluster::ShardRuntime;
use crate::consistency::ShardView;

/// The views, by their `SHOW` name.
pub const VIEWS: [&str; 4] = [
    "shardwire.shards",
    "shardwire.replicas",
    "shardwire.pools",
    "shardwire.stats",
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

/// The rows of view `name` for `db`, as text (`None` for unknown values).
pub fn rows(name: &str, db: &DatabaseView) -> Vec<Vec<Option<String>>> {
    let text = |v: &dyn ToString| Some(v.to_string());
    match name {
        "shardwire.shards" => db
            .shards
            .iter()
            .map(|s| {
                vec![
                    text(&db.name),
                    text(&s.index),
                    text(&s.primary.node.name),
                    text(&s.primary.node.addr),
                    // Known from the monitor only for shards with replicas.
                    (!s.replicas.is_empty()).then(|| s.monitor.primary.healthy.to_string()),
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
