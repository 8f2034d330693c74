//! Fault suite, PostgreSQL: two shards with a replica each behind the proxy binary (a
//! process of its own), 16 clients running a mixed workload — cross-shard transfers
//! (2PC) that also insert a ledger row, ledger inserts, point reads, half of the clients
//! reading from replicas — while, one phase after another: a replica is killed with -9
//! and restarted; a shard primary is frozen (SIGSTOP) for 2 s; a shard primary is killed
//! with -9 and restarted; the proxy is killed with -9 and restarted on the same config;
//! shard 0's replica is promoted, its old primary stopped and the config reloaded.
//!
//! After each phase, checked on every shard primary directly: every acknowledged ledger
//! id exists exactly once on its shard, the balances sum to the seeded total (no transfer
//! half committed), no `sw_` prepared transaction is left; and the proxy's fds and RSS
//! are back to their baseline with only the admin connection listed as a client.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::faults::{
    self, assert_back_to_baseline, eventually, FaultBed, FaultProxy, Op, Running, Shared, Usage,
    WorkloadConn,
};
use shardwire_testbed::{Node, Shard, Topology};

const SHARDS: usize = 2;
const POOL_SIZE: usize = 8;
const SCHEMA: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);\
                      CREATE TABLE ledger (id bigint PRIMARY KEY, note text NOT NULL);";

/// A workload client: tokio-postgres through the proxy.
struct PgConn(tokio_postgres::Client);

impl WorkloadConn for PgConn {
    async fn connect(port: u16, setup: Vec<String>) -> Result<Self, String> {
        let conn = format!("host=127.0.0.1 port={port} user=app password=app dbname=app");
        let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        for sql in setup {
            client
                .batch_execute(&sql)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(PgConn(client))
    }

    async fn run(&mut self, op: &Op) -> Result<(), String> {
        let c = &self.0;
        let result = match *op {
            // Simple protocol; each statement on its own, as an application does.
            Op::Transfer {
                from,
                to,
                amount,
                entry,
            } => {
                let statements = [
                    "BEGIN".to_string(),
                    format!("UPDATE accounts SET balance = balance - {amount} WHERE id = {from}"),
                    format!("UPDATE accounts SET balance = balance + {amount} WHERE id = {to}"),
                    format!("INSERT INTO ledger (id, note) VALUES ({entry}, 'transfer')"),
                    "COMMIT".to_string(),
                ];
                let mut result = Ok(());
                for sql in statements {
                    result = c.batch_execute(&sql).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            // Extended protocol, routed by the Bind value.
            Op::Insert { entry } => c
                .execute(
                    "INSERT INTO ledger (id, note) VALUES ($1, 'insert')",
                    &[&entry],
                )
                .await
                .map(drop),
            Op::Read { account } => c
                .query_opt("SELECT balance FROM accounts WHERE id = $1", &[&account])
                .await
                .map(drop),
        };
        result.map_err(|e| e.to_string())
    }
}

/// The topology, the proxy process in front of it, and the workload's shared state.
struct Bed {
    topo: Topology,
    proxy: FaultProxy,
    shared: std::sync::Arc<Shared>,
    /// Shard 0's primary: its replica after the promotion.
    promoted: bool,
}

/// The config: both shards with their replica, or (after the promotion) shard 0 served by
/// its former replica alone.
fn config(topo: &Topology, port: u16, admin: u16, promoted: bool) -> String {
    let mut toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin}\"\n\
         pool_size = {POOL_SIZE}\nworkers = 2\nmonitor_interval = \"100ms\"\n\
         recovery_interval = \"200ms\"\ntwopc_grace = \"1s\"\ntransaction_lock_timeout = \"1s\"\n\
         pool_timeout = \"2s\"\n\n\
         [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n"
    );
    for (i, shard) in topo.pg_shards().iter().enumerate() {
        if i == 0 && promoted {
            toml.push_str(&format!(
                "\n  [[databases.shards]]\n  primary = \"{}\"\n  replicas = []\n",
                shard.replica(0).config_addr()
            ));
        } else {
            toml.push_str(&shard.config_stanza(usize::MAX));
        }
    }
    for table in ["accounts", "ledger"] {
        toml.push_str(&format!(
            "\n  [[databases.tables]]\n  name = \"{table}\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n"
        ));
    }
    toml
}

impl Bed {
    async fn start() -> Bed {
        let topo = Topology::builder()
            .pg_shards(SHARDS)
            .pg_replicas(1)
            .fast(true)
            .start()
            .await
            .unwrap();
        let shared = Shared::new(SHARDS);
        for (s, shard) in topo.pg_shards().iter().enumerate() {
            let values: Vec<String> = shared.accounts[s]
                .iter()
                .map(|id| format!("({id}, {})", faults::START_BALANCE))
                .collect();
            shard
                .primary()
                .execute(&format!(
                    "{SCHEMA} INSERT INTO accounts (id, balance) VALUES {}",
                    values.join(", ")
                ))
                .await
                .unwrap();
        }
        let proxy = FaultProxy::start(|port, admin| config(&topo, port, admin, false));
        let bed = Bed {
            topo,
            proxy,
            shared,
            promoted: false,
        };
        bed.admin().await;
        bed
    }

    fn node_ports(&self) -> Vec<u16> {
        self.topo.nodes().map(Node::port).collect()
    }

    /// An admin connection, retried while the proxy (re)starts.
    async fn admin(&self) -> tokio_postgres::Client {
        let mut last = String::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            match PgConn::connect(self.proxy.port.port(), Vec::new()).await {
                Ok(c) => return c.0,
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the proxy did not accept connections: {last}\n{}",
            self.proxy.log_tail()
        );
    }

    /// The clients `SHOW shardwire.clients` lists.
    async fn listed_clients(admin: &tokio_postgres::Client) -> usize {
        admin
            .simple_query("SHOW shardwire.clients")
            .await
            .unwrap()
            .iter()
            .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
            .count()
    }

    /// The connections the pools hold (`SHOW shardwire.pools`).
    async fn pooled(admin: &tokio_postgres::Client) -> usize {
        admin
            .simple_query("SHOW shardwire.pools")
            .await
            .unwrap()
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get("size")?.parse::<usize>().ok(),
                _ => None,
            })
            .sum()
    }
}

impl FaultBed for Bed {
    fn shard(&self, index: usize) -> &Shard {
        self.topo.pg(index)
    }

    fn proxy(&mut self) -> &mut FaultProxy {
        &mut self.proxy
    }

    fn primaries(&self) -> Vec<&Node> {
        self.topo
            .pg_shards()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if i == 0 && self.promoted {
                    s.replica(0)
                } else {
                    s.primary()
                }
            })
            .collect()
    }

    /// Starts the 16 clients; odd ones read from replicas, all with `write_concern`.
    fn clients(&self, write_concern_all: bool) -> Running {
        faults::start_clients::<PgConn>(&self.shared, self.proxy.port.port(), |i| {
            let mut setup = Vec::new();
            if i % 2 == 1 {
                setup.push("SET shardwire.read_consistency = 'eventual'".to_string());
            }
            if write_concern_all {
                setup.push("SET shardwire.write_concern = 'all'".to_string());
                setup.push("SET shardwire.write_concern_timeout = '10s'".to_string());
            }
            setup
        })
    }

    /// With the clients gone: only the admin connection is listed; the resources it
    /// uses, once they are back within the tolerance of `base` (or as they are, to
    /// become the baseline, without one).
    async fn resources(&mut self, what: &str, base: Option<Usage>) -> Usage {
        self.proxy.assert_running();
        let admin = self.admin().await;
        eventually(
            &format!("{what}: only the admin connection is listed"),
            Duration::from_secs(20),
            || async { Bed::listed_clients(&admin).await == 1 },
        )
        .await;
        let pid = self.proxy.pid();
        let ports = self.node_ports();
        let now = match base {
            Some(base) => {
                let pooled = Bed::pooled(&admin).await;
                assert_back_to_baseline(what, pid, &ports, base, pooled).await
            }
            None => faults::usage(pid, &ports),
        };
        drop(admin);
        now
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_under_a_mixed_workload_lose_no_acknowledged_write_and_leak_nothing() {
    let mut bed = Bed::start().await;
    let base = bed.baseline("warmup").await;

    let base = bed.common_faults(base).await;

    // Replication is asynchronous: a commit acknowledged with the default write concern
    // may not have reached the replica when its primary dies, and a promotion then loses
    // it by design. With write_concern = 'all' a commit is acknowledged only once every
    // replica replayed it, so no acknowledged write may be lost. The old primary is
    // stopped cleanly (a switchover: its WAL reaches the standby before it exits), so
    // transactions the clients never saw acknowledged are not half committed either.
    bed.phase(
        "replica promoted",
        true,
        Some(base),
        async |bed: &mut Bed| {
            let shard = bed.topo.pg(0);
            shard.wait_caught_up(Duration::from_secs(30)).await.unwrap();
            shard.primary().stop().await.unwrap();
            let promoted = shard
                .replica(0)
                .query_value("SELECT pg_promote(true, 60)")
                .await
                .unwrap();
            assert_eq!(promoted.as_deref(), Some("t"), "pg_promote");
            bed.promoted = true;
            let (port, admin) = (bed.proxy.port.port(), bed.proxy.admin.port());
            bed.proxy
                .write_config(&config(&bed.topo, port, admin, true));
            bed.admin()
                .await
                .simple_query("RELOAD shardwire")
                .await
                .unwrap();
        },
    )
    .await;
    bed.proxy.assert_running();
}
