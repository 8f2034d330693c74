//! MariaDB nodes: the server template (`mariadb-install-db` once per machine, then users and
//! the `app` database), launching primaries and GTID replicas, and replication control.
//!
//! Users made in the template: `root` (no password, from anywhere: the test bed's own
//! control connection), `repl` (replication), and `app`/`app`, an application user
//! WITHOUT the SUPER and READ_ONLY ADMIN privileges, because those bypass `read_only` on
//! replicas and would hide routing mistakes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

use crate::error::{Context, Error, Result};
use crate::os::{self, RunAs};
use crate::server::{LaunchSpec, ServerProcess};
use crate::workdir;

/// The administrative user of the test bed (no password).
pub const ROOT_USER: &str = "root";
/// The non-SUPER application user.
pub const APP_USER: &str = "app";
/// The application user's password.
pub const APP_PASSWORD: &str = "app";
/// The database created in every server.
pub const DATABASE: &str = "app";

const TEMPLATE_REVISION: u32 = 1;

const SETUP_SQL: &str = "
CREATE DATABASE app;
CREATE USER 'root'@'%' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER 'app'@'%' IDENTIFIED BY 'app';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX,
      ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, BINLOG MONITOR,
      SLAVE MONITOR, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER
   ON *.* TO 'app'@'%';
";

/// Paths of the MariaDB programs.
#[derive(Clone, Debug)]
pub struct Programs {
    /// The server.
    pub mariadbd: PathBuf,
    /// The data directory initialiser.
    pub install_db: PathBuf,
    /// The command-line client (used once, to build the template).
    pub client: PathBuf,
}

/// Finds the MariaDB programs (`$SHARDWIRE_MARIADB_BIN` overrides the directory).
pub fn programs() -> Result<Programs> {
    let dirs: Vec<PathBuf> = match std::env::var_os("SHARDWIRE_MARIADB_BIN") {
        Some(d) => vec![PathBuf::from(d)],
        None => ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]
            .iter()
            .map(PathBuf::from)
            .collect(),
    };
    let find = |name: &str| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.exists())
            .ok_or_else(|| {
                Error::new(format!(
                "MariaDB program {name} not found: install mariadb-server (scripts/test.sh does)"
            ))
            })
    };
    Ok(Programs {
        mariadbd: find("mariadbd")?,
        install_db: find("mariadb-install-db")?,
        client: find("mariadb")?,
    })
}

/// The identity mariadbd runs as.
pub fn identity() -> Result<Option<RunAs>> {
    os::server_identity("mysql")
}

fn user_arg(run_as: Option<RunAs>) -> Option<String> {
    run_as.map(|_| "--user=mysql".to_string())
}

async fn version(programs: &Programs) -> Result<String> {
    let out = tokio::process::Command::new(&programs.mariadbd)
        .arg("--version")
        .output()
        .await
        .context("mariadbd --version")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .split_whitespace()
        .find(|w| w.contains("MariaDB"))
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect())
}

/// Options every server gets, template included (charset must match so `app` is utf8mb4).
fn common_args(data_dir: &Path, run_as: Option<RunAs>) -> Vec<String> {
    let mut args = vec![
        "--no-defaults".to_string(),
        format!("--datadir={}", data_dir.display()),
        format!("--socket={}", data_dir.join("mysqld.sock").display()),
        format!("--pid-file={}", data_dir.join("mysqld.pid").display()),
        "--character-set-server=utf8mb4".to_string(),
        "--collation-server=utf8mb4_general_ci".to_string(),
        "--innodb-buffer-pool-size=32M".to_string(),
        "--innodb-log-file-size=8M".to_string(),
        // tmpfs has no O_DIRECT.
        "--innodb-flush-method=fsync".to_string(),
        "--performance-schema=OFF".to_string(),
        "--skip-name-resolve".to_string(),
    ];
    args.extend(user_arg(run_as));
    args
}

/// Returns a ready-made data directory (system tables, users, `app`), building it once per
/// machine; concurrent callers wait for one build.
pub async fn template(programs: &Programs, run_as: Option<RunAs>) -> Result<PathBuf> {
    let name = format!("mariadb-{}-r{TEMPLATE_REVISION}", version(programs).await?);
    let slot = match workdir::template(&name, "mysql").await? {
        workdir::Template::Ready(dir) => return Ok(dir),
        workdir::Template::Build(slot) => slot,
    };
    let (templates, building) = (slot.templates.clone(), slot.building.clone());
    let mut install = tokio::process::Command::new(&programs.install_db);
    install
        .arg("--no-defaults")
        .arg(format!("--datadir={}", building.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .args(user_arg(run_as))
        .current_dir(&templates);
    let out = install.output().await.context("run mariadb-install-db")?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    // Grants are off during bootstrap, so users are made by a short-lived server that
    // listens only on its socket.
    let mut args = common_args(&building, run_as);
    args.push("--skip-networking".to_string());
    let spec = LaunchSpec {
        program: programs.mariadbd.clone(),
        args,
        run_as,
        log: templates.join(format!("{name}.log")),
        cwd: templates.clone(),
    };
    let server = ServerProcess::spawn(spec)?;
    let socket = building.join("mysqld.sock");
    let setup = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            server.check_running("MariaDB template")?;
            if tokio::time::Instant::now() > deadline {
                return Err(Error::new("MariaDB template server did not start in 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        run_client(programs, &socket, SETUP_SQL).await
    }
    .await;
    server.stop_with(libc::SIGTERM, Duration::from_secs(30));
    setup.context("set up the MariaDB template")?;
    for leftover in ["mysqld.sock", "mysqld.pid"] {
        let _ = std::fs::remove_file(building.join(leftover));
    }
    slot.publish()
}

async fn run_client(programs: &Programs, socket: &Path, sql: &str) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    // The socket file can appear a moment before the server accepts on it.
    for attempt in 0..200 {
        let mut child = tokio::process::Command::new(&programs.client)
            .arg("--no-defaults")
            .arg(format!("--socket={}", socket.display()))
            .arg("-uroot")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("run the mariadb client")?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(sql.as_bytes()).await.context("send SQL")?;
        }
        let out = child.wait_with_output().await.context("mariadb client")?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if !err.contains("2002") || attempt == 199 {
            return Err(Error::new(format!("mariadb client: {err}")));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Parameters of one mariadbd node.
pub struct NodeArgs<'a> {
    /// The server binary.
    pub programs: &'a Programs,
    /// Its data directory (a copy of the template).
    pub data_dir: &'a Path,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Unique within the topology.
    pub server_id: u32,
    /// Replicas are read-only.
    pub replica: bool,
    /// Test-speed durability settings.
    pub fast: bool,
    /// OS identity.
    pub run_as: Option<RunAs>,
    /// Certificate and key files (in the data directory) to serve TLS with.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// stdout/stderr log.
    pub log: &'a Path,
    /// Working directory.
    pub cwd: &'a Path,
}

/// Copies a PEM certificate and key into a node's data directory, readable by the
/// server's user only; returns their paths for [`NodeArgs::tls`].
pub fn install_tls(
    data_dir: &Path,
    cert: &Path,
    key: &Path,
    run_as: Option<RunAs>,
) -> Result<(PathBuf, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let mut installed = Vec::new();
    for (from, name) in [(cert, "server-cert.pem"), (key, "server-key.pem")] {
        let to = data_dir.join(name);
        std::fs::copy(from, &to).context(format!("copy {}", from.display()))?;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
            .context(format!("chmod {}", to.display()))?;
        if let Some(who) = run_as {
            std::os::unix::fs::chown(&to, Some(who.uid), Some(who.gid))
                .context(format!("chown {}", to.display()))?;
        }
        installed.push(to);
    }
    let key = installed.pop().unwrap_or_default();
    let cert = installed.pop().unwrap_or_default();
    Ok((cert, key))
}

/// The command line of a mariadbd node with binlog + GTID.
pub fn launch_spec(a: &NodeArgs<'_>) -> LaunchSpec {
    let mut args = common_args(a.data_dir, a.run_as);
    args.extend([
        format!("--port={}", a.port),
        "--bind-address=127.0.0.1".to_string(),
        format!("--server-id={}", a.server_id),
        "--log-bin=mysql-bin".to_string(),
        "--relay-log=relay-bin".to_string(),
        "--log-slave-updates".to_string(),
        "--binlog-format=ROW".to_string(),
        "--gtid-strict-mode=1".to_string(),
        "--max-connections=500".to_string(),
    ]);
    if a.replica {
        args.push("--read-only=1".to_string());
    }
    if let Some((cert, key)) = &a.tls {
        args.extend([
            format!("--ssl-cert={}", cert.display()),
            format!("--ssl-key={}", key.display()),
        ]);
    }
    if a.fast {
        args.extend([
            "--innodb-flush-log-at-trx-commit=0".to_string(),
            "--sync-binlog=0".to_string(),
            "--innodb-doublewrite=0".to_string(),
        ]);
    }
    LaunchSpec {
        program: a.programs.mariadbd.clone(),
        args,
        run_as: a.run_as,
        log: a.log.to_path_buf(),
        cwd: a.cwd.to_path_buf(),
    }
}

/// Connection options for `user` on `port`, database `app`, TCP only.
pub fn opts(port: u16, user: &str, password: Option<&str>) -> OptsBuilder {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(password)
        .db_name(Some(DATABASE))
        // Otherwise mysql_async reconnects through the server's unix socket.
        .prefer_socket(false)
}

/// Connects as root.
pub async fn connect(port: u16) -> Result<Conn> {
    Ok(Conn::new(opts(port, ROOT_USER, None)).await?)
}

/// Polls until the server accepts connections; fails early if it exits.
pub async fn wait_ready(server: &ServerProcess, port: u16, name: &str) -> Result<Conn> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        server.check_running(name)?;
        match connect(port).await {
            Ok(conn) => return Ok(conn),
            Err(e) if tokio::time::Instant::now() > deadline => {
                return Err(e.context(format!("{name} not ready after 60 s")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Points a replica at its primary and starts replication from the primary's first GTID.
pub async fn start_replication(replica: &mut Conn, primary_port: u16) -> Result<()> {
    replica
        .query_drop(format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary_port}, \
             MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, \
             MASTER_CONNECT_RETRY=1"
        ))
        .await?;
    replica.query_drop("START SLAVE").await?;
    Ok(())
}

/// The primary's binlog GTID position.
pub async fn binlog_pos(primary: &mut Conn) -> Result<String> {
    let pos: Option<String> = primary.query_first("SELECT @@gtid_binlog_pos").await?;
    Ok(pos.unwrap_or_default())
}

/// Waits up to `timeout` for the replica to apply `pos`; true if it did.
pub async fn wait_for_gtid(replica: &mut Conn, pos: &str, timeout: Duration) -> Result<bool> {
    let result: Option<i64> = replica
        .exec_first(
            "SELECT MASTER_GTID_WAIT(?, ?)",
            (pos, timeout.as_secs_f64()),
        )
        .await?;
    Ok(result == Some(0))
}
