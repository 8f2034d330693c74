//! `shardwire demo`: real PostgreSQL shards with replicas from the test bed, example
//! sharded tables, and a proxy on them; prints how to connect and stops everything on
//! Ctrl-C.

use shardwire_conf::Config;
use shardwire_testbed::Topology;

const TABLES: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL DEFAULT 0);
CREATE TABLE users (email text PRIMARY KEY, name text);
CREATE TABLE events (id uuid PRIMARY KEY, kind text, at timestamptz DEFAULT now());
CREATE TABLE countries (code text PRIMARY KEY, name text);
";

/// Runs the demo until Ctrl-C.
pub async fn demo(
    shards: usize,
    replicas: usize,
    mysql: bool,
    port: u16,
    admin_port: u16,
) -> Result<(), String> {
    if mysql {
        return Err("--mysql: the MySQL frontend is not available yet".into());
    }
    println!("starting {shards} PostgreSQL shard(s) x (1 primary + {replicas} replica(s))...");
    let topo = Topology::builder()
        .pg_shards(shards)
        .pg_replicas(replicas)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let mut toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin_port}\"\n\n[[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n"
    );
    for shard in topo.pg_shards() {
        shard
            .primary()
            .execute(TABLES)
            .await
            .map_err(|e| e.to_string())?;
        let replicas: Vec<String> = shard
            .replicas()
            .iter()
            .map(|r| format!("\"{}\"", r.config_addr()))
            .collect();
        toml.push_str(&format!(
            "\n  [[databases.shards]]\n  primary = \"{}\"\n  replicas = [{}]\n",
            shard.primary().config_addr(),
            replicas.join(", ")
        ));
    }
    toml.push_str(
        "\n  [[databases.tables]]\n  name = \"accounts\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n\
         \n  [[databases.tables]]\n  name = \"users\"\n  shard_key = \"email\"\n  key_type = \"text\"\n\
         \n  [[databases.tables]]\n  name = \"events\"\n  shard_key = \"id\"\n  key_type = \"uuid\"\n\
         \n  [[databases.tables]]\n  name = \"countries\"\n  reference = true\n",
    );
    let config = Config::from_toml_str(&toml).map_err(|e| e.to_string())?;
    let handle = shardwire::server::start(config).await?;
    println!("\nshardwire is listening. Connect with:\n");
    println!("  psql \"postgres://app:app@127.0.0.1:{port}/app\"\n");
    println!("Metrics: curl http://127.0.0.1:{admin_port}/metrics\n");
    println!("The config in use:\n{toml}");
    for shard in topo.pg_shards() {
        println!(
            "shard {}: psql -h 127.0.0.1 -p {} -U postgres app",
            shard.index(),
            shard.primary().port()
        );
        for (r, replica) in shard.replicas().iter().enumerate() {
            println!(
                "shard {} replica {r}: psql -h 127.0.0.1 -p {} -U postgres app",
                shard.index(),
                replica.port()
            );
        }
    }
    println!("\nPress Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping...");
    drop(handle);
    drop(topo);
    Ok(())
}
