//! `shardwire check`: the config is valid (it loaded), the TLS certificate and key load
//! (when configured), and every backend node answers a login as the configured backend
//! user. Prints one line per node.

use std::sync::Arc;

use shardwire::backend::mysql::conn::MyConn;
use shardwire::backend::pg::{NodeInfo, ServerConn};
use shardwire_conf::{Config, Protocol};

/// Connects to every node of every database; Err names the failures.
pub async fn check(config: Config) -> Result<(), String> {
    let mut failures = Vec::new();
    match shardwire::tls::TlsServer::from_config(&config.proxy) {
        Ok(Some(_)) => println!("ok      client TLS certificate and key"),
        Ok(None) => {}
        Err(e) => {
            println!("FAILED  client TLS: {e}");
            failures.push("client TLS".to_string());
        }
    }
    for db in &config.databases {
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
                let login = match db.protocol {
                    Protocol::Postgres => ServerConn::connect(node.clone()).await.map(drop),
                    Protocol::Mysql => MyConn::connect(node.clone()).await.map(drop),
                };
                match login {
                    Ok(()) => println!("ok      {} ({addr})", node.name),
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
