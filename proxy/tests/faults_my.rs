//! Fault suite, MariaDB: two shards with a replica each behind the proxy binary (a
//! process of its own, MySQL frontend), 16 clients running a mixed workload — cross-shard
//! transfers (XA) that also insert a ledger row, ledger inserts through server-side
//! prepared statements, point reads, half of the clients reading from replicas — while,
//! one phase after another: a replica is killed with -9 and restarted; a shard primary is
//! frozen (SIGSTOP) for 2 s; a shard primary is killed with -9 and restarted; the proxy is
//! killed with -9 and restarted on the same config; shard 0's replica is promoted, its
//! old primary stopped and the config reloaded.
//!
//! After each phase, checked on every shard primary directly: every acknowledged ledger
//! id exists exactly once on its shard, the balances sum to the seeded total (no transfer
//! half committed), `XA RECOVER` lists no `sw_` branch; and the proxy's fds and RSS are
//! back to their baseline with only the admin connection listed as a client.
//!
//! The servers run with durable commits (the test bed's `fast` mode does not flush the
//! InnoDB log at commit, so a kill -9 would lose acknowledged commits by configuration).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::faults::{
    self, assert_back_to_baseline, FaultBed, FaultProxy, Op, Running, Shared, Usage, WorkloadConn,
};
use mysql_async::prelude::*;
use shardwire_testbed::{Node, Shard, Topology};

const SHARDS: usize = 2;
const POOL_SIZE: usize = 8;
const SCHEMA: &str = "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);\
                      CREATE TABLE ledger (id BIGINT PRIMARY KEY, note VARCHAR(16) NOT NULL);";

/// A workload client: mysql_async through the proxy.
struct MyConn(mysql_async::Conn);

/// Options for `app` through the proxy. With the two values given, mysql_async does not
/// read them with a `SELECT @@…` after login — a statement without a table, which the
/// proxy sends to shard 0's primary, so no client could connect while that one is down.
fn opts(port: u16) -> mysql_async::OptsBuilder {
    mysql_async::OptsBuilder::default()
        .max_allowed_packet(Some(16 << 20))
        .wait_timeout(Some(28800))
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("app"))
        .pass(Some("app"))
        .db_name(Some("app"))
        .prefer_socket(false)
}

impl WorkloadConn for MyConn {
    async fn connect(port: u16, setup: Vec<String>) -> Result<Self, String> {
        let mut conn = mysql_async::Conn::new(opts(port))
            .await
            .map_err(|e| e.to_string())?;
        for sql in setup {
            conn.query_drop(sql).await.map_err(|e| e.to_string())?;
        }
        Ok(MyConn(conn))
    }

    async fn run(&mut self, op: &Op) -> Result<(), String> {
        let c = &mut self.0;
        let result = match *op {
            // Text protocol; each statement on its own, as an application does.
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
                    result = c.query_drop(sql).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            // Server-side prepared statement, routed by the parameter.
            Op::Insert { entry } => {
                c.exec_drop(
                    "INSERT INTO ledger (id, note) VALUES (?, 'insert')",
                    (entry,),
                )
                .await
            }
            Op::Read { account } => c
                .exec_first::<i64, _, _>("SELECT balance FROM accounts WHERE id = ?", (account,))
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
    /// Shard 0's primary is its former replica.
    promoted: bool,
}

/// The config: both shards with their replica, or (after the promotion) shard 0 served by
/// its former replica alone.
fn config(topo: &Topology, port: u16, admin: u16, promoted: bool) -> String {
    let mut toml = format!(
        "[proxy]\nmysql_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin}\"\n\
         pool_size = {POOL_SIZE}\nworkers = 2\nmonitor_interval = \"100ms\"\n\
         recovery_interval = \"200ms\"\ntwopc_grace = \"1s\"\ntransaction_lock_timeout = \"1s\"\n\
         pool_timeout = \"2s\"\n\n\
         [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"mysql\"\n\
         backend_user = \"app\"\nbackend_password = \"app\"\n"
    );
    for (i, shard) in topo.mysql_shards().iter().enumerate() {
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
        // Durable commits: see the module comment.
        let topo = Topology::builder()
            .mysql_shards(SHARDS)
            .mysql_replicas(1)
            .fast(false)
            .start()
            .await
            .unwrap();
        let shared = Shared::new(SHARDS);
        for (s, shard) in topo.mysql_shards().iter().enumerate() {
            let values: Vec<String> = shared.accounts[s]
                .iter()
                .map(|id| format!("({id}, {})", faults::START_BALANCE))
                .collect();
            let primary = shard.primary();
            for sql in SCHEMA.split_terminator(';') {
                primary.execute(sql).await.unwrap();
            }
            primary
                .execute(&format!(
                    "INSERT INTO accounts (id, balance) VALUES {}",
                    values.join(", ")
                ))
                .await
                .unwrap();
            shard.wait_caught_up(Duration::from_secs(30)).await.unwrap();
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
    async fn admin(&self) -> mysql_async::Conn {
        let mut last = String::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            match mysql_async::Conn::new(opts(self.proxy.port.port())).await {
                Ok(c) => return c,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the proxy did not accept connections: {last}\n{}",
            self.proxy.log_tail()
        );
    }
}

impl FaultBed for Bed {
    fn shard(&self, index: usize) -> &Shard {
        self.topo.mysql(index)
    }

    fn proxy(&mut self) -> &mut FaultProxy {
        &mut self.proxy
    }

    fn primaries(&self) -> Vec<&Node> {
        self.topo
            .mysql_shards()
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
        faults::start_clients::<MyConn>(&self.shared, self.proxy.port.port(), |i| {
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
        let mut admin = self.admin().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let rows: Vec<mysql_async::Row> = admin.query("SHOW shardwire.clients").await.unwrap();
            if rows.len() == 1 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {} clients listed, only the admin connection should be",
                rows.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let pid = self.proxy.pid();
        let ports = self.node_ports();
        let now = match base {
            Some(base) => {
                let pools: Vec<mysql_async::Row> =
                    admin.query("SHOW shardwire.pools").await.unwrap();
                let pooled = pools
                    .iter()
                    .filter_map(|r| r.get::<String, _>("size")?.parse::<usize>().ok())
                    .sum();
                assert_back_to_baseline(what, pid, &ports, base, pooled).await
            }
            None => faults::usage(pid, &ports),
        };
        admin.disconnect().await.unwrap();
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

    // The restarted proxy under one more fault, against its own baseline.
    bed.phase(
        "replica kill -9 again",
        false,
        Some(base),
        async |bed: &mut Bed| {
            let replica = bed.topo.mysql(0).replica(0);
            replica.kill9().await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            replica.restart().await.unwrap();
        },
    )
    .await;

    // A switchover under load: writers wait for every replica (`write_concern = 'all'`;
    // with asynchronous replication an acknowledged commit may otherwise be lost with its
    // primary, by design). Commits on the old primary are blocked (FLUSH TABLES WITH READ
    // LOCK) until the replica has everything and the old primary is stopped, so no
    // transaction is half committed either; its prepared XA branches replicated and are
    // resolved on the promoted replica by recovery after the reload.
    bed.phase(
        "replica promoted",
        true,
        Some(base),
        async |bed: &mut Bed| {
            let shard = bed.topo.mysql(0);
            let mut fence = shard.primary().mysql_conn().await.unwrap();
            fence
                .query_drop("SET SESSION lock_wait_timeout = 10")
                .await
                .unwrap();
            // It waits for running statements; a few tries in case one outlives the
            // lock wait.
            let mut fenced = Err(String::new());
            for _ in 0..3 {
                fenced = fence
                    .query_drop("FLUSH TABLES WITH READ LOCK")
                    .await
                    .map_err(|e| e.to_string());
                if fenced.is_ok() {
                    break;
                }
            }
            fenced.unwrap();
            shard.wait_caught_up(Duration::from_secs(30)).await.unwrap();
            shard.primary().stop().await.unwrap();
            drop(fence);
            let replica = shard.replica(0);
            for sql in ["STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0"] {
                replica.execute(sql).await.unwrap();
            }
            bed.promoted = true;
            let (port, admin) = (bed.proxy.port.port(), bed.proxy.admin.port());
            bed.proxy
                .write_config(&config(&bed.topo, port, admin, true));
            bed.admin()
                .await
                .query_drop("RELOAD shardwire")
                .await
                .unwrap();
        },
    )
    .await;
    bed.proxy.assert_running();
}
