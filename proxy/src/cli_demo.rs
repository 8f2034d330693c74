//! `shardwire demo`: real PostgreSQL shards with replicas from the test bed (and, with
//! `--mysql`, MariaDB shards with replicas too), example sharded tables, and a proxy on
//! them; prints how to connect and stops everything on Ctrl-C.

use shardwire_conf::Config;
use shardwire_testbed::{Shard, Topology};

const PG_TABLES: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL DEFAULT 0);
CREATE TABLE users (email text PRIMARY KEY, name text);
CREATE TABLE events (id uuid PRIMARY KEY, kind text, at timestamptz DEFAULT now());
CREATE TABLE countries (code text PRIMARY KEY, name text);
";

const MYSQL_TABLES: &str = "
CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100) NOT NULL, balance BIGINT NOT NULL DEFAULT 0);
CREATE TABLE users (email VARCHAR(255) PRIMARY KEY, name VARCHAR(100));
CREATE TABLE events (id CHAR(36) PRIMARY KEY, kind VARCHAR(50), at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE countries (code VARCHAR(2) PRIMARY KEY, name VARCHAR(100));
";

/// The same sharding for both databases.
const TABLE_CONFIG: &str = "
  [[databases.tables]]
  name = \"accounts\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"users\"
  shard_key = \"email\"
  key_type = \"text\"

  [[databases.tables]]
  name = \"events\"
  shard_key = \"id\"
  key_type = \"uuid\"

  [[databases.tables]]
  name = \"countries\"
  reference = true
";

/// Where the demo listens.
pub struct Ports {
    /// The PostgreSQL frontend.
    pub postgres: u16,
    /// The MySQL frontend, when MariaDB shards are started too.
    pub mysql: Option<u16>,
    /// `/metrics`.
    pub admin: u16,
}

/// Runs the demo until Ctrl-C.
pub async fn demo(shards: usize, replicas: usize, ports: Ports) -> Result<(), String> {
    let mysql_shards = if ports.mysql.is_some() { shards } else { 0 };
    println!("starting {shards} PostgreSQL shard(s) x (1 primary + {replicas} replica(s))...");
    if mysql_shards > 0 {
        println!("starting {shards} MariaDB shard(s) x (1 primary + {replicas} replica(s))...");
    }
    let topo = Topology::builder()
        .pg_shards(shards)
        .pg_replicas(replicas)
        .mysql_shards(mysql_shards)
        .mysql_replicas(replicas)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let mysql_listen = ports
        .mysql
        .map(|p| format!("mysql_listen = \"127.0.0.1:{p}\"\n"))
        .unwrap_or_default();
    let mut toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:{}\"\n{mysql_listen}admin_listen = \"127.0.0.1:{}\"\n\n\
         [[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n",
        ports.postgres, ports.admin
    );
    add_shards(&mut toml, topo.pg_shards(), PG_TABLES).await?;
    toml.push_str(TABLE_CONFIG);
    if mysql_shards > 0 {
        toml.push_str(
            "\n[[databases]]\nname = \"appmy\"\nprotocol = \"mysql\"\n\
             backend_user = \"app\"\nbackend_password = \"app\"\n",
        );
        add_shards(&mut toml, topo.mysql_shards(), MYSQL_TABLES).await?;
        toml.push_str(TABLE_CONFIG);
    }
    let config = Config::from_toml_str(&toml).map_err(|e| e.to_string())?;
    let handle = shardwire::server::start(config).await?;
    println!("\nshardwire is listening. Connect with:\n");
    println!(
        "  psql \"postgres://app:app@127.0.0.1:{}/app\"",
        ports.postgres
    );
    if let Some(port) = ports.mysql {
        println!("  mariadb -h 127.0.0.1 -P {port} -u app -papp appmy");
    }
    println!("\nMetrics: curl http://127.0.0.1:{}/metrics\n", ports.admin);
    println!("The config in use:\n{toml}");
    for shard in topo.pg_shards() {
        println!(
            "PostgreSQL shard {}: psql -h 127.0.0.1 -p {} -U postgres app",
            shard.index(),
            shard.primary().port()
        );
        for (r, replica) in shard.replicas().iter().enumerate() {
            println!(
                "PostgreSQL shard {} replica {r}: psql -h 127.0.0.1 -p {} -U postgres app",
                shard.index(),
                replica.port()
            );
        }
    }
    for shard in topo.mysql_shards() {
        println!(
            "MariaDB shard {}: mariadb -h 127.0.0.1 -P {} -u app -papp app",
            shard.index(),
            shard.primary().port()
        );
        for (r, replica) in shard.replicas().iter().enumerate() {
            println!(
                "MariaDB shard {} replica {r}: mariadb -h 127.0.0.1 -P {} -u app -papp app",
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

/// Creates the example tables on every primary and lists the shards in the config.
async fn add_shards(toml: &mut String, shards: &[Shard], ddl: &str) -> Result<(), String> {
    for shard in shards {
        shard
            .primary()
            .execute(ddl)
            .await
            .map_err(|e| e.to_string())?;
        toml.push_str(&shard.config_stanza(usize::MAX));
    }
    Ok(())
}
