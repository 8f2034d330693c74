//! `shardwire check`: the config is valid (it loaded) and every backend node answers a
//! login as the configured backend user. Prints one line per node.

use std::sync::Arc;

use shardwire::backend::pg::{NodeInfo, ServerConn};
use shardwire_conf::{Config, Protocol};

/// Connects to every node of every PostgreSQL database; Err names the failures.
pub async fn check(config: Config) -> Result<(), String> {
    let mut failures = Vec::new();
    for db in &config.databases {
        if db.protocol != Protocol::Postgres {
            println!(
                "{}: skipped (the MySQL frontend is not available yet)",
                db.name
            );
            continue;
        }
        for (i, shard) in db.shards.iter().enumerate() {
            let replicas = shard
                .replicas
                .iter()
                .enumerate()
                .map(|(r, a)| (format!("replica{r}"), a));
            for (role, addr) in
                std::iter::once(("primary".to_string(), &shard.primary)).chain(replicas)
            {
                let node = Arc::new(NodeInfo::new(db, i, &role, addr));
                match ServerConn::connect(node.clone()).await {
                    Ok(_) => println!("ok      {} ({addr})", node.name),
                    Err(e) => {
                        println!("FAILED  {} ({addr}): {e}", node.name);
                        failures.push(node.name.clone());
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        println!("config OK; every backend answered");
        Ok(())
    } else {
        Err(format!(
            "{} backend(s) failed: {}",
            failures.len(),
            failures.join(", ")
        ))
    }
}
