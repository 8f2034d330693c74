//! PostgreSQL 15 nodes: finding the binaries, building the cluster template once per
//! machine, launching primaries, cloning hot standbys with `pg_basebackup`, and the SQL
//! that controls replay.
//!
//! `initdb`, `postgres` and `pg_basebackup` refuse to run as root, so under root they run
//! as the `postgres` OS user (set with setuid in the child, which keeps the postmaster's pid
//! ours to signal — `runuser` would sit in between).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use crate::error::{Context, Error, Result};
use crate::os::{self, RunAs};
use crate::ports;
use crate::server::{LaunchSpec, ServerProcess};
use crate::workdir;

/// The superuser the test bed connects as (trust authentication on 127.0.0.1).
pub const SUPERUSER: &str = "postgres";
/// The database created in every cluster.
pub const DATABASE: &str = "app";

/// Bumped when the template's contents change, so old cached templates are not reused.
const TEMPLATE_REVISION: u32 = 2;

const SETTINGS: &str = "
# shardwire test bed
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
max_prepared_transactions = 100
wal_level = replica
max_wal_senders = 20
max_replication_slots = 20
hot_standby = on
hot_standby_feedback = on
# Standbys of one primary are cloned concurrently; a fast checkpoint of one clone must not
# recycle WAL another clone is still streaming.
wal_keep_size = 256MB
shared_buffers = 32MB
log_min_messages = warning
log_line_prefix = '%m [%p] '
";

/// Where the PostgreSQL binaries are: `$SHARDWIRE_PG_BIN`, else Debian's newest
/// `/usr/lib/postgresql/<major>/bin`, else `$PATH`.
pub fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SHARDWIRE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .collect();
    majors.sort();
    if let Some((_, bin)) = majors.pop() {
        return Ok(bin);
    }
    find_in_path("postgres")
        .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default())
        .ok_or_else(|| {
            Error::new("PostgreSQL not found: install postgresql-15 (scripts/test.sh does)")
        })
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.exists())
    })
}

/// The identity PostgreSQL processes run as.
pub fn identity() -> Result<Option<RunAs>> {
    os::server_identity("postgres")
}

async fn run_tool(
    bin: &Path,
    tool: &str,
    args: &[&str],
    run_as: Option<RunAs>,
    cwd: &Path,
) -> Result<()> {
    let mut cmd = std::process::Command::new(bin.join(tool));
    cmd.args(args).current_dir(cwd);
    os::apply_identity(&mut cmd, run_as);
    let out = tokio::process::Command::from(cmd)
        .output()
        .await
        .context(format!("run {tool}"))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "{tool} {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

async fn version(bin: &Path) -> Result<String> {
    let out = tokio::process::Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .await
        .context("postgres --version")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let ver: String = text
        .split_whitespace()
        .last()
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    Ok(ver)
}

/// Returns the data directory of a ready-made cluster (initdb'd, configured, with the
/// `app` database), building it on first use. Concurrent callers in any process wait for
/// one build.
pub async fn template(bin: &Path, run_as: Option<RunAs>) -> Result<PathBuf> {
    let name = format!("pg-{}-r{TEMPLATE_REVISION}", version(bin).await?);
    let slot = match workdir::template(&name, "PG_VERSION").await? {
        workdir::Template::Ready(dir) => return Ok(dir),
        workdir::Template::Build(slot) => slot,
    };
    let (templates, building) = (slot.templates.clone(), slot.building.clone());
    workdir::make_dir(&building, 0o700)?;
    os::chown_tree(&building, run_as)?;
    run_tool(
        bin,
        "initdb",
        &[
            "-D",
            path_str(&building)?,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        run_as,
        &templates,
    )
    .await
    .context("build the PostgreSQL template")?;
    let conf = building.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).context("read postgresql.conf")?;
    text.push_str(SETTINGS);
    std::fs::write(&conf, text).context("write postgresql.conf")?;

    // Create the application database once, here, instead of in every node.
    let port = ports::lease_port()?;
    let spec = launch_spec(
        bin,
        &building,
        port.port(),
        true,
        run_as,
        &templates.join(format!("{name}.log")),
        &templates,
    );
    let server = ServerProcess::spawn(spec)?;
    let created = async {
        let client = wait_ready(&server, port.port(), "postgres", "PostgreSQL template").await?;
        client
            .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
            .await
            .context("create the app database")?;
        client
            .batch_execute("CHECKPOINT")
            .await
            .context("checkpoint")?;
        Ok::<_, Error>(())
    }
    .await;
    server.stop_with(libc::SIGINT, Duration::from_secs(30));
    created?;
    let _ = std::fs::remove_file(building.join("postmaster.pid"));
    slot.publish()
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| Error::new(format!("non-UTF-8 path {}", p.display())))
}

/// The command line of a postmaster on `port` serving `data_dir`.
pub fn launch_spec(
    bin: &Path,
    data_dir: &Path,
    port: u16,
    fast: bool,
    run_as: Option<RunAs>,
    log: &Path,
    cwd: &Path,
) -> LaunchSpec {
    let mut args = vec![
        "-D".to_string(),
        data_dir.display().to_string(),
        "-p".to_string(),
        port.to_string(),
    ];
    if fast {
        // Durability is irrelevant for throw-away test clusters; synchronous_commit stays on
        // so that WAL reaches standbys as soon as it commits.
        for setting in ["fsync=off", "full_page_writes=off"] {
            args.push("-c".to_string());
            args.push(setting.to_string());
        }
    }
    LaunchSpec {
        program: bin.join("postgres"),
        args,
        run_as,
        log: log.to_path_buf(),
        cwd: cwd.to_path_buf(),
    }
}

/// Connects as the superuser to `dbname` on `port`.
pub async fn connect(port: u16, dbname: &str) -> Result<Client> {
    let conn_str =
        format!("host=127.0.0.1 port={port} user={SUPERUSER} dbname={dbname} connect_timeout=5");
    let (client, connection) = tokio_postgres::connect(&conn_str, NoTls).await?;
    tokio::spawn(async move {
        // The connection ends when the client is dropped or the server goes away.
        let _ = connection.await;
    });
    Ok(client)
}

/// Polls until the server accepts connections; fails early if it exits.
pub async fn wait_ready(
    server: &ServerProcess,
    port: u16,
    dbname: &str,
    name: &str,
) -> Result<Client> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        server.check_running(name)?;
        match connect(port, dbname).await {
            Ok(client) => return Ok(client),
            Err(e) if tokio::time::Instant::now() > deadline => {
                return Err(e.context(format!("{name} not ready after 60 s")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Clones a hot standby of the primary on `primary_port` into `data_dir`, with a
/// replication slot named `slot` and recovery settings (`-R`).
pub async fn base_backup(
    bin: &Path,
    primary_port: u16,
    data_dir: &Path,
    slot: &str,
    run_as: Option<RunAs>,
    cwd: &Path,
) -> Result<()> {
    workdir::make_dir(data_dir, 0o700)?;
    os::chown_tree(data_dir, run_as)?;
    let port = primary_port.to_string();
    run_tool(
        bin,
        "pg_basebackup",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            SUPERUSER,
            "-D",
            path_str(data_dir)?,
            "-R",
            "-X",
            "stream",
            "-C",
            "-S",
            slot,
            "-c",
            "fast",
            "--no-sync",
        ],
        run_as,
        cwd,
    )
    .await
}

/// The primary's current WAL position, as text.
pub async fn current_lsn(client: &Client) -> Result<String> {
    let row = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?;
    Ok(row.get(0))
}

/// True once the standby has replayed up to `lsn`.
pub async fn replayed_past(client: &Client, lsn: &str) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
            &[&lsn],
        )
        .await?;
    Ok(row.get(0))
}

/// Pauses WAL replay on a standby and waits until it is paused.
pub async fn pause_replay(client: &Client) -> Result<()> {
    client.batch_execute("SELECT pg_wal_replay_pause()").await?;
    for _ in 0..1000 {
        let row = client
            .query_one("SELECT pg_get_wal_replay_pause_state()", &[])
            .await?;
        if row.get::<_, String>(0) == "paused" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(Error::new("replay did not pause within 5 s"))
}

/// Resumes WAL replay on a standby.
pub async fn resume_replay(client: &Client) -> Result<()> {
    client
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await?;
    Ok(())
}
