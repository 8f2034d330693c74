//! The replica monitor: per shard, polls the primary's position and each replica's
//! replay position every `monitor_interval` (PostgreSQL: WAL LSNs; MariaDB: GTIDs, see
//! `consistency::gtid`), keeps a short history of primary positions so
//! a replica's staleness is known in time (now − the moment the primary was where the
//! replica is), marks nodes that stop answering unhealthy, bans replicas lagging beyond
//! `max_replica_lag`, and publishes a [`ShardView`] snapshot that read routing consults.
//!
//! It is the control plane, so it uses tokio-postgres for PostgreSQL and a connection of
//! its own for MariaDB; the data path never waits on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::backend::mysql::conn::MyConn;
use crate::backend::pg::NodeInfo;
use crate::consistency::{gtid_position, Lsn, NodeState, PositionHistory, ShardView};

/// The published state of one shard's nodes.
#[derive(Debug)]
pub struct ShardMonitor {
    view: RwLock<Arc<ShardView>>,
    /// Set when a reload replaced this shard's monitor: its task stops polling.
    retired: AtomicBool,
}

impl ShardMonitor {
    /// A monitor whose view says nothing is known yet: replicas are not used until the
    /// first poll proves them healthy.
    pub fn new(replicas: usize) -> ShardMonitor {
        let unknown = NodeState {
            healthy: false,
            position: None,
            staleness: None,
            in_flight: 0,
        };
        ShardMonitor {
            view: RwLock::new(Arc::new(ShardView {
                primary: NodeState {
                    healthy: true,
                    ..unknown.clone()
                },
                replicas: vec![unknown; replicas],
            })),
            retired: AtomicBool::new(false),
        }
    }

    /// Stops the monitor's task at its next tick (a reload replaced it). Its replicas are
    /// published unhealthy first: a session still holding the old shard (until its
    /// transaction ends) reads from the primary rather than trust a view nobody updates.
    pub fn retire(&self) {
        let mut current = self.view.write().unwrap_or_else(|e| e.into_inner());
        self.retired.store(true, Ordering::Relaxed);
        let mut view = (**current).clone();
        for replica in &mut view.replicas {
            replica.healthy = false;
        }
        *current = Arc::new(view);
    }

    /// The latest snapshot.
    pub fn view(&self) -> Arc<ShardView> {
        self.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Publishes unless retired; the check is under the view's lock, which `retire` also
    /// takes, so a poll finishing during a reload cannot overwrite the retired view.
    fn publish_live(&self, view: ShardView) -> bool {
        let mut current = self.view.write().unwrap_or_else(|e| e.into_inner());
        if self.retired.load(Ordering::Relaxed) {
            return false;
        }
        *current = Arc::new(view);
        true
    }
}

/// Which server a shard runs, and so how positions are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL: `pg_current_wal_lsn()` / `pg_last_wal_replay_lsn()`.
    Postgres,
    /// MariaDB: `@@gtid_binlog_pos` / `@@gtid_slave_pos`.
    MariaDb,
}

/// A control connection of either engine.
enum Control {
    Pg(Client),
    My(MyConn),
}

/// One polled node: its identity and a control connection, reopened when it fails.
struct Probe {
    node: Arc<NodeInfo>,
    engine: Engine,
    control: Option<Control>,
    /// Whether the last poll reached it (`None` before the first poll).
    was_up: Option<bool>,
}

impl Probe {
    /// Publishes the node's `backend_up` and logs a change of state (one line per
    /// transition, not per poll).
    fn report_up(&mut self, up: bool) {
        metrics::gauge!(crate::metrics::BACKEND_UP, "node" => self.node.name.clone())
            .set(f64::from(u8::from(up)));
        match (self.was_up, up) {
            (Some(true) | None, false) => {
                tracing::warn!(node = %self.node.name, addr = %self.node.addr, "backend down: the monitor cannot reach it")
            }
            (Some(false), true) => {
                tracing::info!(node = %self.node.name, addr = %self.node.addr, "backend up again")
            }
            _ => {}
        }
        self.was_up = Some(up);
    }

    /// The node's position: the primary's write position or a replica's replay position.
    async fn position(&mut self, primary: bool, timeout: Duration) -> Option<Lsn> {
        let dead = match &self.control {
            None => true,
            Some(Control::Pg(client)) => client.is_closed(),
            Some(Control::My(conn)) => conn.broken,
        };
        if dead {
            self.control = match self.engine {
                Engine::Postgres => connect(&self.node, timeout).await.map(Control::Pg),
                Engine::MariaDb => {
                    tokio::time::timeout(timeout, MyConn::connect(self.node.clone()))
                        .await
                        .ok()?
                        .ok()
                        .map(Control::My)
                }
            };
        }
        let text = match self.control.as_mut()? {
            Control::Pg(client) => {
                let sql = if primary {
                    "SELECT pg_current_wal_lsn()::text"
                } else {
                    "SELECT pg_last_wal_replay_lsn()::text"
                };
                match tokio::time::timeout(timeout, client.query_one(sql, &[])).await {
                    Ok(Ok(row)) => row.try_get::<_, Option<String>>(0).ok().flatten(),
                    Ok(Err(_)) => {
                        crate::metrics::backend_error(&self.node.name, "reset");
                        None
                    }
                    Err(_) => {
                        crate::metrics::backend_error(&self.node.name, "timeout");
                        None
                    }
                }
            }
            Control::My(conn) => {
                let sql = if primary {
                    "SELECT @@gtid_binlog_pos"
                } else {
                    "SELECT @@gtid_slave_pos"
                };
                match tokio::time::timeout(timeout, conn.query(sql)).await {
                    Ok(Ok(answer)) if answer.error.is_none() => answer
                        .rows
                        .into_iter()
                        .next()
                        .and_then(|r| r.into_iter().next().flatten()),
                    _ => None,
                }
            }
        };
        let Some(text) = text else {
            self.control = None;
            return None;
        };
        match self.engine {
            Engine::Postgres => text.parse().ok(),
            Engine::MariaDb => gtid_position(&text),
        }
    }
}

async fn connect(node: &NodeInfo, timeout: Duration) -> Option<Client> {
    let (host, port) = node.addr.rsplit_once(':')?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(host.trim_start_matches('[').trim_end_matches(']'))
        .port(port.parse().ok()?)
        .user(&node.user)
        .dbname(&node.dbname)
        .application_name("shardwire-monitor")
        .connect_timeout(timeout);
    if !node.password.is_empty() {
        config.password(&node.password);
    }
    let connect = crate::backend::tls::postgres::connect(node, config);
    let client = match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => {
            let kind = match std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
            {
                Some(io) => crate::metrics::backend_error_kind(io),
                None => "other",
            };
            crate::metrics::backend_error(&node.name, kind);
            return None;
        }
        Err(_) => {
            crate::metrics::backend_error(&node.name, "timeout");
            return None;
        }
    };
    Some(client)
}

/// Polls one shard until its monitor is retired, publishing into `monitor`.
pub async fn run(
    monitor: Arc<ShardMonitor>,
    engine: Engine,
    primary: Arc<NodeInfo>,
    replicas: Vec<Arc<NodeInfo>>,
    interval: Duration,
    max_lag: Option<Duration>,
) {
    let timeout = (interval * 4).max(Duration::from_millis(500));
    let mut primary = Probe {
        node: primary,
        engine,
        control: None,
        was_up: None,
    };
    let mut probes: Vec<Probe> = replicas
        .into_iter()
        .map(|node| Probe {
            node,
            engine,
            control: None,
            was_up: None,
        })
        .collect();
    let mut history = PositionHistory::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if monitor.retired.load(Ordering::Relaxed) {
            return;
        }
        let primary_lsn = primary.position(true, timeout).await;
        let now = Instant::now();
        if let Some(lsn) = primary_lsn {
            history.record(now, lsn);
        }
        let mut replicas = Vec::with_capacity(probes.len());
        for probe in &mut probes {
            let replay = probe.position(false, timeout).await;
            let staleness = replay.and_then(|r| history.staleness(r, Instant::now()));
            let within_lag = match (staleness, max_lag) {
                (Some(s), Some(max)) => s <= max,
                _ => true,
            };
            let node = probe.node.name.clone();
            probe.report_up(replay.is_some());
            if let (Some(p), Some(r)) = (primary_lsn, replay) {
                metrics::gauge!(crate::metrics::REPLICA_LAG_BYTES, "node" => node.clone())
                    .set(r.bytes_behind(p) as f64);
            }
            if let Some(s) = staleness {
                metrics::gauge!(crate::metrics::REPLICA_STALENESS, "node" => node)
                    .set(s.as_secs_f64());
            }
            replicas.push(NodeState {
                healthy: replay.is_some() && within_lag,
                position: replay,
                staleness,
                in_flight: 0,
            });
        }
        primary.report_up(primary_lsn.is_some());
        let published = monitor.publish_live(ShardView {
            primary: NodeState {
                healthy: primary_lsn.is_some(),
                position: primary_lsn,
                staleness: Some(Duration::ZERO),
                in_flight: 0,
            },
            replicas,
        });
        if !published {
            return;
        }
    }
}
