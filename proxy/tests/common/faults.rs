//! Fixtures of the fault suites (`faults_pg`, `faults_my`): the proxy binary as a process
//! that can be killed with -9 and restarted on the same ports and config file; a
//! 16-client mixed workload (cross-shard transfers, ledger inserts whose acknowledged ids
//! are recorded, point reads) that reconnects through any fault; and the invariants,
//! checked on every shard primary directly: no acknowledged write lost, no half-committed
//! transfer, no prepared transaction left, and the proxy's fds, memory and client list
//! back to their baseline once the clients are gone.

use std::future::Future;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardwire_router::hash::{shard_of, ShardKey};
use shardwire_testbed::{Engine, Node, PortLease, Shard};

/// Clients of the workload.
pub const CLIENTS: usize = 16;
/// Accounts per shard; each starts with [`START_BALANCE`].
pub const ACCOUNTS_PER_SHARD: usize = 32;
/// Every account's starting balance.
pub const START_BALANCE: i64 = 1000;
/// A client gives up on an operation (and its connection) after this ...
const OP_TIMEOUT: Duration = Duration::from_secs(15);
/// ... or, every fourth client, after this: it walks away in the middle of transactions
/// stalled by a fault, which the proxy must clean up after.
const IMPATIENT_OP_TIMEOUT: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// The proxy process.

/// `shardwire serve` as a child process with its config in a file of its own, so it can
/// be rewritten and reloaded, and the process killed and started again on the same ports.
pub struct FaultProxy {
    child: Option<Child>,
    /// The client port.
    pub port: PortLease,
    /// The `admin_listen` port.
    pub admin: PortLease,
    /// The config file.
    pub config: PathBuf,
    log: PathBuf,
}

impl FaultProxy {
    /// Writes the config `toml(port, admin_port)` makes and starts the binary on it.
    pub fn start(toml: impl FnOnce(u16, u16) -> String) -> FaultProxy {
        let port = shardwire_testbed::lease_port().unwrap();
        let admin = shardwire_testbed::lease_port().unwrap();
        let dir = std::env::temp_dir();
        let config = dir.join(format!("shardwire-faults-{}.toml", port.port()));
        let log = dir.join(format!("shardwire-faults-{}.log", port.port()));
        std::fs::write(&config, toml(port.port(), admin.port())).unwrap();
        let _ = std::fs::remove_file(&log);
        let mut proxy = FaultProxy {
            child: None,
            port,
            admin,
            config,
            log,
        };
        proxy.spawn();
        proxy
    }

    /// Replaces the config file (for `RELOAD shardwire`).
    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }

    /// Starts the process again on the same config and ports (after [`FaultProxy::kill9`]).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "the proxy is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_shardwire"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env_remove("SHARDWIRE_FAILPOINT")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// The running process's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the proxy runs").id()
    }

    /// kill -9, and reaps it.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("the proxy runs");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Panics (with the end of the proxy's log) unless the process still runs and no
    /// thread of it (this one or one killed before) panicked.
    pub fn assert_running(&mut self) {
        let child = self.child.as_mut().expect("the proxy runs");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the proxy exited ({status}):\n{}", self.log_tail());
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if let Some(at) = log.find("panicked") {
            let end = (at + 2000).min(log.len());
            panic!("the proxy panicked:\n{}", &log[at.saturating_sub(200)..end]);
        }
    }

    /// The last lines of the proxy's stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.config);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Signals to database servers.

/// SIGSTOP (`stop = true`) or SIGCONT to a server and every process it forked
/// (PostgreSQL's backends and auxiliary processes; MariaDB is one process).
pub fn freeze(node: &Node, stop: bool) {
    freeze_pid(node.pid().expect("the node runs"), stop);
}

/// SIGSTOP (`stop = true`) or SIGCONT to `pid` and its children.
pub fn freeze_pid(pid: u32, stop: bool) {
    let signal = if stop { libc::SIGSTOP } else { libc::SIGCONT };
    // The parent first on stop (no new children), last on continue.
    let mut pids = vec![pid];
    pids.extend(children_of(pid));
    if !stop {
        pids.reverse();
    }
    for p in pids {
        // SAFETY: kill has no memory-safety preconditions; a process already gone is fine.
        unsafe {
            libc::kill(p as libc::pid_t, signal);
        }
    }
}

fn children_of(pid: u32) -> Vec<u32> {
    let parent = |child: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
        let (_, rest) = stat.rsplit_once(')')?;
        rest.split_whitespace().nth(1)?.parse().ok()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| parent(child) == Some(pid))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The workload.

/// A small PRNG per client (xorshift64*): reproducible enough, no shared state.
pub struct Rng(u64);

impl Rng {
    /// Seeded by the client's number.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Next value below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) % n
    }
}

/// One operation of a client.
#[derive(Debug, Clone)]
pub enum Op {
    /// Move `amount` from account `from` to `to` (on different shards) and insert ledger
    /// row `entry`, all in one transaction.
    Transfer {
        from: i64,
        to: i64,
        amount: i64,
        entry: i64,
    },
    /// Insert ledger row `entry` (autocommit).
    Insert { entry: i64 },
    /// Read one account's balance.
    Read { account: i64 },
}

/// The shard a bigint key lives on.
pub fn owner(key: i64, shards: usize) -> usize {
    shard_of(&ShardKey::Int(key), NonZeroU32::new(shards as u32).unwrap()) as usize
}

/// What every client shares: the stop flag, ledger ids, the acknowledged ones, counters.
pub struct Shared {
    stop: AtomicBool,
    next_entry: AtomicI64,
    acked: Mutex<Vec<i64>>,
    /// Account ids per shard.
    pub accounts: Vec<Vec<i64>>,
    transfers: AtomicU64,
    inserts: AtomicU64,
    reads: AtomicU64,
    errors: AtomicU64,
}

/// Counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Acknowledged transfers.
    pub transfers: u64,
    /// Acknowledged inserts.
    pub inserts: u64,
    /// Successful reads.
    pub reads: u64,
    /// Failed operations and connection attempts.
    pub errors: u64,
}

impl Shared {
    /// `ACCOUNTS_PER_SHARD` account ids on each of `shards` shards.
    pub fn new(shards: usize) -> Arc<Shared> {
        let mut accounts = vec![Vec::new(); shards];
        let mut id = 1;
        while accounts.iter().any(|a| a.len() < ACCOUNTS_PER_SHARD) {
            let list = &mut accounts[owner(id, shards)];
            if list.len() < ACCOUNTS_PER_SHARD {
                list.push(id);
            }
            id += 1;
        }
        Arc::new(Shared {
            stop: AtomicBool::new(false),
            next_entry: AtomicI64::new(1),
            acked: Mutex::new(Vec::new()),
            accounts,
            transfers: AtomicU64::new(0),
            inserts: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    /// Every account id, with the shard it is on.
    pub fn all_accounts(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.accounts
            .iter()
            .enumerate()
            .flat_map(|(s, ids)| ids.iter().map(move |&id| (s, id)))
    }

    /// The sum of all balances, as seeded.
    pub fn total(&self) -> i64 {
        self.all_accounts().count() as i64 * START_BALANCE
    }

    /// The next operation: 40% transfers, 40% inserts, 20% reads.
    pub fn next_op(&self, rng: &mut Rng) -> Op {
        let entry = || self.next_entry.fetch_add(1, Ordering::Relaxed);
        let pick = |rng: &mut Rng, s: usize| {
            let ids = &self.accounts[s];
            ids[rng.below(ids.len() as u64) as usize]
        };
        match rng.below(10) {
            0..=3 => {
                let n = self.accounts.len();
                let a = rng.below(n as u64) as usize;
                let b = (a + 1 + rng.below(n as u64 - 1) as usize) % n;
                Op::Transfer {
                    from: pick(rng, a),
                    to: pick(rng, b),
                    amount: 1 + rng.below(9) as i64,
                    entry: entry(),
                }
            }
            4..=7 => Op::Insert { entry: entry() },
            _ => {
                let s = rng.below(self.accounts.len() as u64) as usize;
                Op::Read {
                    account: pick(rng, s),
                }
            }
        }
    }

    /// `op` was acknowledged.
    pub fn succeeded(&self, op: &Op) {
        match op {
            Op::Transfer { entry, .. } => {
                self.acked.lock().unwrap().push(*entry);
                self.transfers.fetch_add(1, Ordering::Relaxed);
            }
            Op::Insert { entry } => {
                self.acked.lock().unwrap().push(*entry);
                self.inserts.fetch_add(1, Ordering::Relaxed);
            }
            Op::Read { .. } => {
                self.reads.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// An operation or a connection attempt failed.
    pub fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// True once the clients should stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The counters now.
    pub fn tally(&self) -> Tally {
        Tally {
            transfers: self.transfers.load(Ordering::Relaxed),
            inserts: self.inserts.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    /// Every ledger id whose transaction or insert was acknowledged, so far.
    pub fn acked(&self) -> Vec<i64> {
        self.acked.lock().unwrap().clone()
    }
}

/// A client connection of either protocol, as the workload drives it.
pub trait WorkloadConn: Sized + Send + 'static {
    /// Connects to the proxy on `port` and runs `setup` (session settings).
    fn connect(port: u16, setup: Vec<String>) -> impl Future<Output = Result<Self, String>> + Send;
    /// Runs one operation; `Ok` only when the server acknowledged it.
    fn run(&mut self, op: &Op) -> impl Future<Output = Result<(), String>> + Send;
}

/// Running clients.
pub struct Running {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    start: Tally,
}

/// Starts [`CLIENTS`] clients on `port`; client `i` runs `setup(i)` on every connection.
/// Any error ends the client's connection; it reconnects and goes on until stopped.
pub fn start_clients<C: WorkloadConn>(
    shared: &Arc<Shared>,
    port: u16,
    setup: impl Fn(usize) -> Vec<String>,
) -> Running {
    shared.stop.store(false, Ordering::Relaxed);
    let tasks = (0..CLIENTS)
        .map(|i| {
            let shared = shared.clone();
            let setup = setup(i);
            let op_timeout = if i % 4 == 3 {
                IMPATIENT_OP_TIMEOUT
            } else {
                OP_TIMEOUT
            };
            tokio::spawn(async move {
                let mut rng = Rng::new(i as u64 + 1 + shared.tally().errors);
                let mut conn: Option<C> = None;
                while !shared.stopping() {
                    let Some(c) = conn.as_mut() else {
                        match tokio::time::timeout(OP_TIMEOUT, C::connect(port, setup.clone()))
                            .await
                        {
                            Ok(Ok(c)) => conn = Some(c),
                            _ => {
                                shared.failed();
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                        continue;
                    };
                    let op = shared.next_op(&mut rng);
                    match tokio::time::timeout(op_timeout, c.run(&op)).await {
                        Ok(Ok(())) => shared.succeeded(&op),
                        _ => {
                            shared.failed();
                            conn = None;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect();
    Running {
        shared: shared.clone(),
        tasks,
        start: shared.tally(),
    }
}

impl Running {
    /// Waits until transfers and inserts were acknowledged after this call (the system
    /// works again after a fault), at most 60 s.
    pub async fn wait_progress(&self, what: &str) {
        let before = self.shared.tally();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = self.shared.tally();
            if now.transfers >= before.transfers + 3 && now.inserts >= before.inserts + 3 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no transfers and inserts acknowledged within 60 s ({now:?})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the clients, waits for them (their connections are closed), and returns
    /// what they did since they started.
    pub async fn stop(self) -> Tally {
        self.shared.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let end = self.shared.tally();
        Tally {
            transfers: end.transfers - self.start.transfers,
            inserts: end.inserts - self.start.inserts,
            reads: end.reads - self.start.reads,
            errors: end.errors - self.start.errors,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Invariants, on the shard primaries directly.

/// Polls `check` every 100 ms until it is true; panics after `limit`.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The prepared `sw_` transactions (PostgreSQL) or XA branches (MariaDB) on `node`.
pub async fn prepared_on(node: &Node) -> Vec<String> {
    match node.engine() {
        Engine::Postgres => node
            .query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'sw\\_%'")
            .await
            .unwrap()
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect(),
        // formatID, gtrid_length, bqual_length, data.
        Engine::MariaDb => node
            .query("XA RECOVER")
            .await
            .unwrap()
            .into_iter()
            .filter_map(|r| r.get(3).cloned().flatten())
            .filter(|data| data.starts_with("sw_"))
            .collect(),
    }
}

/// Prints how many prepared transactions `primaries` hold right after a fault (what the
/// fault left to recovery; by chance, so never asserted).
pub async fn report_prepared(what: &str, primaries: &[&Node]) {
    let mut left = 0;
    for node in primaries {
        if let Ok(rows) = tokio::time::timeout(Duration::from_secs(5), prepared_on(node)).await {
            left += rows.len();
        }
    }
    eprintln!("{what}: {left} prepared transactions right after the fault");
}

fn number(text: Option<String>) -> i64 {
    let text = text.unwrap_or_else(|| "0".to_string());
    text.split('.').next().unwrap().parse().unwrap()
}

/// Checks, on `primaries` (shard `i`'s primary at index `i`), once recovery has resolved
/// every prepared transaction: each acknowledged ledger id exists exactly once, on the
/// shard that owns it (and no ledger row is anywhere else than its owner); the balances
/// sum to the seeded total (no transfer half committed).
pub async fn check_data(what: &str, primaries: &[&Node], shared: &Shared) {
    let shards = primaries.len();
    let mut left = 0;
    for node in primaries {
        left += prepared_on(node).await.len();
    }
    if left > 0 {
        eprintln!("{what}: {left} prepared transactions left to recovery");
    }
    eventually(
        &format!("{what}: recovery resolved every prepared transaction"),
        Duration::from_secs(30),
        || async {
            for node in primaries {
                if !prepared_on(node).await.is_empty() {
                    return false;
                }
            }
            true
        },
    )
    .await;
    let mut found = std::collections::HashMap::<i64, Vec<usize>>::new();
    for (s, node) in primaries.iter().enumerate() {
        for row in node.query("SELECT id FROM ledger").await.unwrap() {
            let id = number(row.into_iter().next().flatten());
            assert_eq!(
                owner(id, shards),
                s,
                "{what}: ledger id {id} is on shard {s}, not its owner"
            );
            found.entry(id).or_default().push(s);
        }
    }
    let acked = shared.acked();
    let lost: Vec<i64> = acked
        .iter()
        .copied()
        .filter(|id| found.get(id).map_or(0, Vec::len) != 1)
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: {} of {} acknowledged ledger ids are missing or duplicated: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(20)]
    );
    eprintln!(
        "{what}: {} acknowledged ledger ids all present ({} ledger rows)",
        acked.len(),
        found.len()
    );
    let mut sum = 0;
    for node in primaries {
        sum += number(
            node.query_value("SELECT sum(balance) FROM accounts")
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        sum,
        shared.total(),
        "{what}: the balances no longer sum to the seeded total (a transfer half committed)"
    );
}

// ---------------------------------------------------------------------------------------
// The proxy's resource use.

/// What the proxy process holds at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Open fds that are not connections to a database node (listeners, the admin
    /// client, runtime fds, …).
    pub other_fds: usize,
    /// Connections to the database nodes (pools, monitors, recovery).
    pub backend_fds: usize,
    /// Resident memory.
    pub rss_kib: u64,
}

/// Socket inodes whose remote port is one of `ports` (IPv4 and IPv6 tables of the
/// process's network namespace).
fn sockets_to(pid: u32, ports: &[u16]) -> std::collections::HashSet<u64> {
    let mut inodes = std::collections::HashSet::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(remote), Some(inode)) = (fields.get(2), fields.get(9)) else {
                continue;
            };
            let port = remote
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if port.is_some_and(|p| ports.contains(&p)) {
                inodes.extend(inode.parse::<u64>().ok());
            }
        }
    }
    inodes
}

/// The proxy's fds (split into backend connections and the rest) and RSS.
pub fn usage(pid: u32, backend_ports: &[u16]) -> Usage {
    let backends = sockets_to(pid, backend_ports);
    let (mut other_fds, mut backend_fds) = (0, 0);
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let Ok(link) = std::fs::read_link(entry.unwrap().path()) else {
            continue;
        };
        let inode = link
            .to_str()
            .and_then(|l| l.strip_prefix("socket:["))
            .and_then(|l| l.strip_suffix(']'))
            .and_then(|l| l.parse::<u64>().ok());
        match inode {
            Some(i) if backends.contains(&i) => backend_fds += 1,
            _ => other_fds += 1,
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    Usage {
        other_fds,
        backend_fds,
        rss_kib,
    }
}

/// Tolerances of [`assert_back_to_baseline`].
pub const FD_SLACK: usize = 4;
/// RSS growth allowed over the baseline.
pub const RSS_SLACK_KIB: u64 = 16 * 1024;

/// Waits until the proxy's fds and RSS are back within the tolerance of `base`, and its
/// backend connections are those of its pools (`pooled`, as `SHOW shardwire.pools` counts
/// them) plus one monitor connection per node (`nodes`) and two more (recovery opens its
/// connections per pass); panics with the last measurement after 20 s.
pub async fn assert_back_to_baseline(
    what: &str,
    pid: u32,
    backend_ports: &[u16],
    base: Usage,
    pooled: usize,
) -> Usage {
    let backend_cap = pooled + backend_ports.len() + 2;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = usage(pid, backend_ports);
        let ok = now.other_fds <= base.other_fds + FD_SLACK
            && now.backend_fds <= backend_cap
            && now.rss_kib <= base.rss_kib + RSS_SLACK_KIB;
        if ok {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the proxy's resources did not return to baseline: now {now:?}, \
             baseline {base:?}, {pooled} pooled connections"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An engine's fault-suite bed: what the phases need of it. The phases themselves (run
/// the clients, inject the fault, check the data and the resources) are the same for
/// both engines.
pub trait FaultBed: Sized {
    /// Starts the 16 workload clients (with `write_concern = 'all'` when asked).
    fn clients(&self, write_concern_all: bool) -> Running;
    /// Every shard's current primary.
    fn primaries(&self) -> Vec<&Node>;
    /// The workload's shared state (seeded total, acknowledged ids).
    fn shared(&self) -> &Shared;
    /// With the clients gone, the proxy's resources, checked against `base` when given.
    async fn resources(&mut self, what: &str, base: Option<Usage>) -> Usage;
    /// Shard `index` of the topology.
    fn shard(&self, index: usize) -> &Shard;
    /// The proxy process.
    fn proxy(&mut self) -> &mut FaultProxy;

    /// The faults both engines go through, each a [`FaultBed::phase`] against `base`:
    /// replica kill -9 and SIGSTOP, shard primary SIGSTOP and kill -9, proxy SIGSTOP and
    /// kill -9 (then restarted). Returns the restarted proxy's baseline.
    async fn common_faults(&mut self, base: Usage) -> Usage {
        let bed = self;
        bed.phase(
            "replica kill -9",
            false,
            Some(base),
            async |bed: &mut Self| {
                let replica = bed.shard(1).replica(0);
                replica.kill9().await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
                replica.restart().await.unwrap();
            },
        )
        .await;

        bed.phase(
            "replica SIGSTOP",
            false,
            Some(base),
            async |bed: &mut Self| {
                let replica = bed.shard(0).replica(0);
                freeze(replica, true);
                tokio::time::sleep(Duration::from_secs(2)).await;
                freeze(replica, false);
            },
        )
        .await;

        bed.phase(
            "primary SIGSTOP",
            false,
            Some(base),
            async |bed: &mut Self| {
                let primary = bed.shard(1).primary();
                freeze(primary, true);
                tokio::time::sleep(Duration::from_secs(2)).await;
                freeze(primary, false);
            },
        )
        .await;

        bed.phase(
            "primary kill -9",
            false,
            Some(base),
            async |bed: &mut Self| {
                let primary = bed.shard(0).primary();
                primary.kill9().await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
                primary.restart().await.unwrap();
            },
        )
        .await;

        bed.phase(
            "proxy SIGSTOP",
            false,
            Some(base),
            async |bed: &mut Self| {
                let pid = bed.proxy().pid();
                freeze_pid(pid, true);
                tokio::time::sleep(Duration::from_secs(2)).await;
                freeze_pid(pid, false);
            },
        )
        .await;

        // In-doubt transactions (branches) of the dead process are resolved by the new one's recovery.
        bed.phase("proxy kill -9", false, None, async |bed: &mut Self| {
            bed.proxy().kill9();
            report_prepared("proxy kill -9", &bed.primaries()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            bed.proxy().spawn();
        })
        .await;
        bed.baseline("restarted proxy").await
    }

    /// A phase: the clients run, `fault` happens, the clients must get transactions
    /// through again afterwards; then the invariants and the resources are checked.
    async fn phase(
        &mut self,
        what: &str,
        write_concern_all: bool,
        base: Option<Usage>,
        fault: impl AsyncFnOnce(&mut Self),
    ) {
        let started = std::time::Instant::now();
        let running = self.clients(write_concern_all);
        running
            .wait_progress(&format!("{what}: before the fault"))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        fault(self).await;
        running
            .wait_progress(&format!("{what}: after the fault"))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let tally = running.stop().await;
        eprintln!("{what}: {tally:?} in {:?}", started.elapsed());
        assert!(
            tally.transfers > 0 && tally.inserts > 0,
            "{what}: {tally:?}"
        );
        let primaries = self.primaries();
        check_data(what, &primaries, self.shared()).await;
        if let Some(base) = base {
            let now = self.resources(what, Some(base)).await;
            eprintln!("{what}: resources {now:?}");
        }
    }

    /// Warms the proxy up (pools filled, buffers grown) and measures its baseline.
    async fn baseline(&mut self, what: &str) -> Usage {
        let running = self.clients(false);
        tokio::time::sleep(Duration::from_secs(2)).await;
        running.wait_progress(what).await;
        running.stop().await;
        let primaries = self.primaries();
        check_data(what, &primaries, self.shared()).await;
        let base = self.resources(what, None).await;
        eprintln!("{what}: baseline {base:?}");
        base
    }
}
