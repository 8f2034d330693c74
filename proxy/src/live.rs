//! The running configuration of one proxy, replaceable while it serves (`RELOAD
//! shardwire`, `SET shardwire.reload`, SIGHUP), and what all its sessions share.
//!
//! The current [`Cluster`] sits behind an `ArcSwap`: a reload builds the new one beside
//! the old (keeping pools, monitors and statement registries of unchanged parts), checks
//! it may replace the old one (`reload_rules`), and swaps it in. Sessions pick up the new
//! cluster at their next transaction boundary by comparing [`LiveCluster::generation`] —
//! a relaxed atomic load per request — so a transaction in flight finishes on the nodes
//! it started on. Monitor tasks follow the swap: new shards' monitors start, replaced
//! ones retire.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use shardwire_conf::Config;
use tokio::task::JoinHandle;

use crate::clients::ClientRegistry;
use crate::cluster::{Cluster, MonitorSpec};

/// One proxy's current cluster, its config file, its monitors and its clients.
#[derive(Debug)]
pub struct LiveCluster {
    current: ArcSwap<Cluster>,
    generation: AtomicU64,
    source: Option<PathBuf>,
    reloading: tokio::sync::Mutex<()>,
    monitor_tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Set by [`LiveCluster::stop`]: no monitor starts after it.
    stopped: std::sync::atomic::AtomicBool,
    /// Connected clients of both frontends.
    pub clients: Arc<ClientRegistry>,
}

/// What a successful reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// The generation now current (1 = the config the proxy started with).
    pub generation: u64,
    /// What the reload did not apply, for the operator.
    pub notes: Vec<String>,
}

impl LiveCluster {
    /// Wraps the first cluster; `source` is the file a reload re-reads.
    pub fn new(cluster: Cluster, source: Option<PathBuf>) -> Arc<LiveCluster> {
        Arc::new(LiveCluster {
            current: ArcSwap::from_pointee(cluster),
            generation: AtomicU64::new(1),
            source,
            reloading: tokio::sync::Mutex::new(()),
            monitor_tasks: Mutex::new(Vec::new()),
            stopped: std::sync::atomic::AtomicBool::new(false),
            clients: Arc::new(ClientRegistry::default()),
        })
    }

    /// The current cluster.
    pub fn load(&self) -> Arc<Cluster> {
        self.current.load_full()
    }

    /// Increases with every successful reload; sessions compare it to refresh.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Starts a monitor task for every shard of the current cluster.
    pub fn start_monitors(&self) {
        let cluster = self.load();
        for spec in cluster.monitors() {
            self.spawn_monitor(spec, &cluster.config);
        }
    }

    fn spawn_monitor(&self, spec: MonitorSpec, config: &Config) {
        let mut tasks = self.monitor_tasks.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock `stop` drains: no task starts after it.
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        let task = tokio::spawn(crate::monitor::run(
            spec.monitor,
            spec.engine,
            spec.primary,
            spec.replicas,
            config.proxy.monitor_interval,
            config.proxy.max_replica_lag,
        ));
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Stops every monitor task (the proxy is shutting down).
    pub fn stop(&self) {
        let mut tasks = self.monitor_tasks.lock().unwrap_or_else(|e| e.into_inner());
        self.stopped.store(true, Ordering::Release);
        for task in tasks.drain(..) {
            task.abort();
        }
    }

    /// Re-reads the config file and, if it is valid and may replace the running one,
    /// swaps it in. On any error the running config stays and the error says why, naming
    /// the key at fault.
    pub async fn reload(&self) -> Result<ReloadOutcome, String> {
        let _one_at_a_time = self.reloading.lock().await;
        let Some(path) = self.source.clone() else {
            return Err(
                "this proxy was started without a config file, so there is nothing \
                        to re-read"
                    .to_string(),
            );
        };
        let config = tokio::task::spawn_blocking(move || {
            let config = Config::load(&path);
            if let Ok(config) = &config {
                crate::config_secrets::warn_if_exposed(&path, config);
            }
            config
        })
        .await
        .map_err(|e| format!("config reader failed: {e}"))?
        .map_err(|e| e.to_string())?;
        self.replace(config).await
    }

    /// Replaces the running config with `config` (already parsed and validated).
    pub async fn replace(&self, config: Config) -> Result<ReloadOutcome, String> {
        let old = self.load();
        let notes = crate::reload_rules::check(&old.config, &config)?;
        // The checks of a start: prepared transactions allowed on every PostgreSQL primary
        // of a sharded database, and the decision table there (a promoted replica or a new
        // node may lack either).
        crate::startup_check::check(&config).await?;
        // Building derives SCRAM verifiers for changed users (thousands of HMACs each):
        // off the async workers.
        let previous = old.clone();
        let new = tokio::task::spawn_blocking(move || Cluster::build_from(config, Some(&previous)))
            .await
            .map_err(|e| format!("building the new configuration failed: {e}"))??;
        let new = Arc::new(new);
        // The same for MariaDB primaries.
        crate::recovery::ensure_decision_tables(&new).await;
        self.current.store(new.clone());
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let old_monitors = old.monitors();
        let new_monitors = new.monitors();
        for spec in &old_monitors {
            if !new_monitors
                .iter()
                .any(|n| Arc::ptr_eq(&n.monitor, &spec.monitor))
            {
                spec.monitor.retire();
            }
        }
        // Nodes no longer configured: their gauges would otherwise keep their last value
        // (a removed dead replica would keep `backend_up 0` and its alert firing).
        let names = |specs: &[MonitorSpec]| -> std::collections::HashSet<String> {
            specs
                .iter()
                .flat_map(|s| std::iter::once(&s.primary).chain(&s.replicas))
                .map(|n| n.name.clone())
                .collect()
        };
        let still = names(&new_monitors);
        for gone in names(&old_monitors).difference(&still) {
            crate::metrics::node_removed(gone);
        }
        for spec in new_monitors {
            if !old_monitors
                .iter()
                .any(|o| Arc::ptr_eq(&o.monitor, &spec.monitor))
            {
                self.spawn_monitor(spec, &new.config);
            }
        }
        tracing::info!(
            generation,
            databases = new.config.databases.len(),
            users = new.config.users.len(),
            notes = ?notes,
            "configuration reloaded"
        );
        Ok(ReloadOutcome { generation, notes })
    }
}
