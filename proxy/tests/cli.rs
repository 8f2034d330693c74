//! The `shardwire` command line: `check` logs in to every backend and exits 1 naming the
//! node that failed; a bad config file is refused with the key path at fault.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use shardwire_testbed::Topology;

fn shardwire(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardwire"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reaches_every_backend_and_names_the_one_that_fails() {
    let topo = Topology::builder()
        .pg_shards(1)
        .pg_replicas(1)
        .fast(true)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let shard = topo.pg(0);
    let dead = shardwire_testbed::lease_port().unwrap();
    let config = |replica: String| {
        format!(
            "[proxy]\npostgres_listen = \"127.0.0.1:0\"\n\n[[databases]]\nname = \"app\"\n\
             protocol = \"postgres\"\nbackend_user = \"postgres\"\n\n  [[databases.shards]]\n  \
             primary = \"{}\"\n  replicas = [\"{replica}\"]\n",
            shard.primary().config_addr()
        )
    };
    let dir = tempdir();
    let good = dir.join("good.toml");
    std::fs::write(&good, config(shard.replica(0).config_addr())).unwrap();
    let (ok, text) = shardwire(&["check", "--config", good.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(text.contains("ok      app/shard0/primary"), "{text}");
    assert!(text.contains("ok      app/shard0/replica0"), "{text}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, config(format!("127.0.0.1:{}/app", dead.port()))).unwrap();
    let (ok, text) = shardwire(&["check", "--config", bad.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(text.contains("FAILED  app/shard0/replica0"), "{text}");
    assert!(
        text.contains("1 backend(s) failed: app/shard0/replica0"),
        "{text}"
    );

    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[proxy]\npostgres_lisen = \"127.0.0.1:1\"\n").unwrap();
    let (ok, text) = shardwire(&["check", "--config", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(text.contains("proxy.postgres_lisen"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shardwire-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the demo process group when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SIGINT is the demo's Ctrl-C: it stops the proxy and the servers it started.
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_with_mysql_serves_both_frontends() {
    use std::io::{BufRead, BufReader};
    let [pg, my, admin] = [0; 3].map(|_| shardwire_testbed::lease_port().unwrap());
    let (pg_port, my_port, admin_port) = (pg.port(), my.port(), admin.port());
    drop((pg, my, admin));
    let mut child = Command::new(env!("CARGO_BIN_EXE_shardwire"))
        .args([
            "demo",
            "--mysql",
            "--shards",
            "2",
            "--replicas",
            "1",
            "--port",
            &pg_port.to_string(),
            "--mysql-port",
            &my_port.to_string(),
            "--admin-port",
            &admin_port.to_string(),
        ])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let demo = Running(child);
    let printed = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        text
    })
    .await
    .unwrap();
    let command = format!("mariadb -h 127.0.0.1 -P {my_port} -u app -papp appmy");
    assert!(printed.contains(&command), "{printed}");
    let out = Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{my_port}"),
            "-uapp",
            "-papp",
            "--batch",
            "--skip-column-names",
            "appmy",
            "-e",
            "INSERT INTO accounts (id, owner, balance) VALUES (1, 'ann', 10), (2, 'bob', 20); \
             SELECT sum(balance) FROM accounts",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "30\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("psql")
        .args([
            &format!("postgres://app:app@127.0.0.1:{pg_port}/app"),
            "-tAc",
            "SELECT count(*) FROM countries",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n");
    drop(demo);
}
