//! A topology: `n` PostgreSQL shards and `m` MariaDB shards, each a primary plus replicas,
//! brought up in parallel from cached templates and torn down completely on drop.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;

use crate::error::{Context, Error, Result};
use crate::mariadb::{self, Programs};
use crate::node::{Engine, Node, Role};
use crate::os::RunAs;
use crate::ports;
use crate::sentinel::Sentinel;
use crate::server::ServerProcess;
use crate::workdir;

/// What to start. Build with [`Topology::builder`].
#[derive(Clone, Debug, Default)]
pub struct TopologyBuilder {
    pg_shards: usize,
    pg_replicas: usize,
    mysql_shards: usize,
    mysql_replicas: usize,
    fast: bool,
    mysql_tls: Option<(PathBuf, PathBuf)>,
}

impl TopologyBuilder {
    /// Number of PostgreSQL shards (default 0).
    pub fn pg_shards(mut self, n: usize) -> Self {
        self.pg_shards = n;
        self
    }

    /// Hot standbys per PostgreSQL shard (default 0).
    pub fn pg_replicas(mut self, n: usize) -> Self {
        self.pg_replicas = n;
        self
    }

    /// Number of MariaDB shards (default 0).
    pub fn mysql_shards(mut self, n: usize) -> Self {
        self.mysql_shards = n;
        self
    }

    /// Replicas per MariaDB shard (default 0).
    pub fn mysql_replicas(mut self, n: usize) -> Self {
        self.mysql_replicas = n;
        self
    }

    /// Test-speed durability settings (PostgreSQL `fsync=off`, `full_page_writes=off`;
    /// MariaDB no flush at commit, no doublewrite). Off unless asked for.
    pub fn fast(mut self, fast: bool) -> Self {
        self.fast = fast;
        self
    }

    /// MariaDB nodes serve TLS with this PEM certificate and key (copied into each data
    /// directory, owned by the server's user). Off unless asked for.
    pub fn mysql_tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.mysql_tls = Some((cert.into(), key.into()));
        self
    }

    /// Starts every node and waits until all accept connections and replication runs.
    pub async fn start(self) -> Result<Topology> {
        let began = Instant::now();
        let dir = workdir::new_topology_dir()?;
        let sentinel = Sentinel::guard(&dir)?;
        let started = async {
            let pg = async {
                if self.pg_shards == 0 {
                    return Ok(Vec::new());
                }
                let env = PgEnv::prepare(&dir, self.fast).await?;
                try_join_all((0..self.pg_shards).map(|i| env.start_shard(i, self.pg_replicas)))
                    .await
            };
            let my = async {
                if self.mysql_shards == 0 {
                    return Ok(Vec::new());
                }
                let mut env = MyEnv::prepare(&dir, self.fast).await?;
                env.tls = self.mysql_tls.clone();
                try_join_all(
                    (0..self.mysql_shards).map(|i| env.start_shard(i, self.mysql_replicas)),
                )
                .await
            };
            tokio::try_join!(pg, my)
        }
        .await;
        match started {
            Ok((pg, mysql)) => Ok(Topology {
                pg,
                mysql,
                dir,
                sentinel: Some(sentinel),
                startup: began.elapsed(),
            }),
            Err(e) => {
                // Nodes already started were dropped (and stopped) with the failed futures.
                let _ = std::fs::remove_dir_all(&dir);
                sentinel.finish();
                Err(e)
            }
        }
    }
}

/// A shard: one primary and its replicas.
#[derive(Debug)]
pub struct Shard {
    index: usize,
    primary: Node,
    replicas: Vec<Node>,
}

impl Shard {
    /// Position of the shard in its engine's list (shard i = i-th config entry).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The primary.
    pub fn primary(&self) -> &Node {
        &self.primary
    }

    /// The replicas, in order.
    pub fn replicas(&self) -> &[Node] {
        &self.replicas
    }

    /// The shard's `[[databases.shards]]` entry for a shardwire config, listing its first
    /// `replicas` replicas (all of them with `usize::MAX`).
    pub fn config_stanza(&self, replicas: usize) -> String {
        let listed: Vec<String> = self
            .replicas
            .iter()
            .take(replicas)
            .map(|r| format!("\"{}\"", r.config_addr()))
            .collect();
        format!(
            "\n  [[databases.shards]]\n  primary = \"{}\"\n  replicas = [{}]\n",
            self.primary.config_addr(),
            listed.join(", ")
        )
    }

    /// Replica `i`; panics if there is none (a test set-up mistake).
    pub fn replica(&self, i: usize) -> &Node {
        &self.replicas[i]
    }

    /// Every node, primary first.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        std::iter::once(&self.primary).chain(self.replicas.iter())
    }

    /// Waits until every replica has applied everything the primary had committed when this
    /// was called. Fails after `timeout` (e.g. while replay is paused).
    pub async fn wait_caught_up(&self, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        match self.primary.engine() {
            Engine::Postgres => {
                let primary = self.primary.pg_client().await?;
                let lsn = crate::pg::current_lsn(&primary).await?;
                for replica in &self.replicas {
                    let client = replica.pg_client().await?;
                    while !crate::pg::replayed_past(&client, &lsn).await? {
                        if tokio::time::Instant::now() > deadline {
                            return Err(Error::new(format!(
                                "{} did not replay up to {lsn} within {timeout:?}",
                                replica.name()
                            )));
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            Engine::MariaDb => {
                let mut primary = self.primary.mysql_conn().await?;
                let pos = mariadb::binlog_pos(&mut primary).await?;
                for replica in &self.replicas {
                    let mut conn = replica.mysql_conn().await?;
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if !mariadb::wait_for_gtid(&mut conn, &pos, left).await? {
                        return Err(Error::new(format!(
                            "{} did not apply GTID {pos} within {timeout:?}",
                            replica.name()
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A running topology. Dropping it stops every server and deletes its files; if the process
/// dies without unwinding, a sentinel process does the same.
#[derive(Debug)]
pub struct Topology {
    pg: Vec<Shard>,
    mysql: Vec<Shard>,
    dir: PathBuf,
    sentinel: Option<Sentinel>,
    startup: Duration,
}

impl Topology {
    /// What to start.
    pub fn builder() -> TopologyBuilder {
        TopologyBuilder::default()
    }

    /// PostgreSQL shard `i`; panics if there is none (a test set-up mistake).
    pub fn pg(&self, i: usize) -> &Shard {
        &self.pg[i]
    }

    /// All PostgreSQL shards.
    pub fn pg_shards(&self) -> &[Shard] {
        &self.pg
    }

    /// MariaDB shard `i`; panics if there is none.
    pub fn mysql(&self, i: usize) -> &Shard {
        &self.mysql[i]
    }

    /// All MariaDB shards.
    pub fn mysql_shards(&self) -> &[Shard] {
        &self.mysql
    }

    /// Every node of both engines.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.pg
            .iter()
            .chain(self.mysql.iter())
            .flat_map(Shard::nodes)
    }

    /// The pids of every running server.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes().filter_map(Node::pid).collect()
    }

    /// The topology's directory (data dirs, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long `start` took.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.pg.clear();
        self.mysql.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(sentinel) = self.sentinel.take() {
            sentinel.finish();
        }
    }
}

/// What every PostgreSQL node of a topology shares.
struct PgEnv<'a> {
    dir: &'a Path,
    bin: PathBuf,
    template: PathBuf,
    run_as: Option<RunAs>,
    fast: bool,
}

impl<'a> PgEnv<'a> {
    async fn prepare(dir: &'a Path, fast: bool) -> Result<PgEnv<'a>> {
        let bin = crate::pg::bin_dir()?;
        let run_as = crate::pg::identity()?;
        let template = crate::pg::template(&bin, run_as).await?;
        Ok(PgEnv {
            dir,
            bin,
            template,
            run_as,
            fast,
        })
    }

    async fn start_shard(&self, index: usize, replicas: usize) -> Result<Shard> {
        let name = format!("pg-s{index}-primary");
        let data = self.dir.join(&name);
        workdir::copy_tree(&self.template, &data).await?;
        let primary = self.launch(name, Role::Primary, data).await?;
        let primary_port = primary.port();
        let replicas = try_join_all((0..replicas).map(|r| async move {
            let name = format!("pg-s{index}-replica{r}");
            let data = self.dir.join(&name);
            let slot = format!("s{index}_replica{r}");
            crate::pg::base_backup(&self.bin, primary_port, &data, &slot, self.run_as, self.dir)
                .await
                .context(format!("clone {name}"))?;
            self.launch(name, Role::Replica, data).await
        }))
        .await?;
        Ok(Shard {
            index,
            primary,
            replicas,
        })
    }

    async fn launch(&self, name: String, role: Role, data: PathBuf) -> Result<Node> {
        let port = ports::lease_port()?;
        let log = self.dir.join(format!("{name}.log"));
        let spec = crate::pg::launch_spec(
            &self.bin,
            &data,
            port.port(),
            self.fast,
            self.run_as,
            &log,
            self.dir,
        );
        let server = ServerProcess::spawn(spec)?;
        let node = Node::new(name, Engine::Postgres, role, port, data, server);
        node.wait_ready().await?;
        Ok(node)
    }
}

/// What every MariaDB node of a topology shares.
struct MyEnv<'a> {
    dir: &'a Path,
    programs: Programs,
    template: PathBuf,
    run_as: Option<RunAs>,
    fast: bool,
    /// Certificate and key for `--ssl-cert`/`--ssl-key`.
    tls: Option<(PathBuf, PathBuf)>,
}

impl<'a> MyEnv<'a> {
    async fn prepare(dir: &'a Path, fast: bool) -> Result<MyEnv<'a>> {
        let programs = mariadb::programs()?;
        let run_as = mariadb::identity()?;
        let template = mariadb::template(&programs, run_as).await?;
        Ok(MyEnv {
            dir,
            programs,
            template,
            run_as,
            fast,
            tls: None,
        })
    }

    async fn start_shard(&self, index: usize, replicas: usize) -> Result<Shard> {
        // Unique server ids across the topology, so a test can tell nodes apart by @@server_id.
        let base_id = 1 + 100 * index as u32;
        let primary = self
            .launch(format!("mariadb-s{index}-primary"), Role::Primary, base_id)
            .await?;
        let replicas = try_join_all((0..replicas).map(|r| {
            let name = format!("mariadb-s{index}-replica{r}");
            let primary_port = primary.port();
            async move {
                let node = self
                    .launch(name, Role::Replica, base_id + 1 + r as u32)
                    .await?;
                let mut conn = node.mysql_conn().await?;
                mariadb::start_replication(&mut conn, primary_port)
                    .await
                    .context(format!("start replication on {}", node.name()))?;
                let _ = conn.disconnect().await;
                Ok::<_, Error>(node)
            }
        }))
        .await?;
        Ok(Shard {
            index,
            primary,
            replicas,
        })
    }

    async fn launch(&self, name: String, role: Role, server_id: u32) -> Result<Node> {
        let data = self.dir.join(&name);
        workdir::copy_tree(&self.template, &data).await?;
        let tls = match &self.tls {
            Some((cert, key)) => Some(mariadb::install_tls(&data, cert, key, self.run_as)?),
            None => None,
        };
        let port = ports::lease_port()?;
        let log = self.dir.join(format!("{name}.log"));
        let spec = mariadb::launch_spec(&mariadb::NodeArgs {
            tls,
            programs: &self.programs,
            data_dir: &data,
            port: port.port(),
            server_id,
            replica: role == Role::Replica,
            fast: self.fast,
            run_as: self.run_as,
            log: &log,
            cwd: self.dir,
        });
        let server = ServerProcess::spawn(spec)?;
        let node = Node::new(name, Engine::MariaDb, role, port, data, server);
        node.wait_ready().await?;
        Ok(node)
    }
}
