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
