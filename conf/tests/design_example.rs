//! The configuration example of DESIGN §4, verbatim, loads to the values it describes.

use std::time::Duration;

use shardwire_conf::{Config, KeyType, NodeAddr, Protocol, ReadConsistency, TableKind, TlsVersion};

const DESIGN_EXAMPLE: &str = r#"
[proxy]
postgres_listen = "127.0.0.1:6432"   # omit to disable the PG frontend
mysql_listen    = "127.0.0.1:6033"   # omit to disable the MySQL frontend
admin_listen    = "127.0.0.1:9930"   # HTTP: /metrics (Prometheus), /health
default_read_consistency = "strong"  # strong | session | bounded | eventual
default_max_staleness = "1s"         # used by `bounded`
pool_size = 20                       # server connections per backend node
# tls_cert = "server.crt"            # client-facing TLS (hardening issue)
# tls_key  = "server.key"
# max_client_connections = 10000

[[users]]                            # who may connect to the proxy
name = "app"
password = "app"                     # or scram_sha256 = "SCRAM-SHA-256$..."
admin = true                         # may run the admin statements of §8

[[databases]]                        # a logical database that clients connect to by name
name = "app"
protocol = "postgres"                # or "mysql"
backend_user = "postgres"
backend_password = ""

  [[databases.shards]]               # shard i = i-th entry
  primary  = "127.0.0.1:15432/app"   # host:port/dbname
  replicas = ["127.0.0.1:15433/app"]

  [[databases.shards]]
  primary  = "127.0.0.1:15442/app"
  replicas = ["127.0.0.1:15443/app"]

  [[databases.tables]]
  name = "accounts"
  shard_key = "id"                   # sharded table
  key_type = "bigint"                # bigint | integer | smallint | text | uuid

  [[databases.tables]]
  name = "countries"
  reference = true                   # copy on every shard: writes to all (2PC), reads from any
"#;

fn node(text: &str) -> NodeAddr {
    text.parse().expect("valid node address")
}

#[test]
fn design_example_parses_to_the_documented_values() {
    let config = Config::from_toml_str(DESIGN_EXAMPLE).expect("DESIGN §4 example is valid");

    let proxy = &config.proxy;
    assert_eq!(
        proxy.postgres_listen,
        Some("127.0.0.1:6432".parse().expect("addr"))
    );
    assert_eq!(
        proxy.mysql_listen,
        Some("127.0.0.1:6033".parse().expect("addr"))
    );
    assert_eq!(
        proxy.admin_listen,
        Some("127.0.0.1:9930".parse().expect("addr"))
    );
    assert_eq!(proxy.default_read_consistency, ReadConsistency::Strong);
    assert_eq!(proxy.default_max_staleness, Duration::from_secs(1));
    assert_eq!(proxy.pool_size, 20);
    assert_eq!(proxy.tls_cert, None);
    assert_eq!(proxy.tls_key, None);
    assert_eq!(proxy.max_client_connections, None);
    assert_eq!(proxy.monitor_interval, Duration::from_millis(50));
    assert_eq!(proxy.max_replica_lag, None);
    assert_eq!(proxy.recovery_interval, Duration::from_secs(5));
    assert_eq!(proxy.twopc_grace, Duration::from_secs(30));
    assert_eq!(proxy.transaction_lock_timeout, Duration::from_secs(10));
    assert_eq!(proxy.pool_timeout, Duration::from_secs(5));

    assert_eq!(config.users.len(), 1);
    let user = config.user("app").expect("user app");
    assert_eq!(user.password.as_deref(), Some("app"));
    assert_eq!(user.scram_sha256, None);
    assert!(user.admin);
    assert_eq!(user.read_consistency, None);

    assert_eq!(config.databases.len(), 1);
    let db = config.database("app").expect("database app");
    assert_eq!(db.protocol, Protocol::Postgres);
    assert_eq!(db.backend_user, "postgres");
    assert_eq!(db.backend_password, "");
    assert_eq!(db.shard_count(), 2);
    assert_eq!(db.shards[0].primary, node("127.0.0.1:15432/app"));
    assert_eq!(db.shards[0].replicas, vec![node("127.0.0.1:15433/app")]);
    assert_eq!(db.shards[1].primary, node("127.0.0.1:15442/app"));
    assert_eq!(db.shards[1].replicas, vec![node("127.0.0.1:15443/app")]);

    let accounts = db.table("accounts").expect("accounts listed");
    assert_eq!(
        accounts.kind,
        TableKind::Sharded {
            shard_key: "id".into(),
            key_type: KeyType::Bigint
        }
    );
    assert_eq!(accounts.shard_key(), Some("id"));
    let countries = db.table("countries").expect("countries listed");
    assert!(countries.is_reference());
    assert_eq!(countries.shard_key(), None);
}

#[test]
fn lookups_follow_the_documented_case_rules() {
    let config = Config::from_toml_str(DESIGN_EXAMPLE).expect("valid");
    let db = config.database("app").expect("database app");
    assert_eq!(
        db.table("ACCOUNTS").map(|t| t.name.as_str()),
        Some("accounts")
    );
    assert!(db.table("orders").is_none());
    assert!(config.database("APP").is_none());
    assert!(config.user("APP").is_none());
}

#[test]
fn every_optional_key_is_read() {
    let text = r#"
        [proxy]
        mysql_listen = "[::1]:6033"
        default_read_consistency = "bounded"
        default_max_staleness = "250ms"
        pool_size = 4
        tls_cert = "server.crt"
        tls_key = "server.key"
        tls_min_version = "1.3"
        max_client_connections = 10000
        monitor_interval = "20ms"
        max_replica_lag = "2.5s"
        recovery_interval = "1m"
        twopc_grace = "90s"
        pool_timeout = "100ms"

        [[users]]
        name = "reader"
        scram_sha256 = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
        read_consistency = "eventual"
        require_tls = true

        [[databases]]
        name = "shop"
        protocol = "mysql"
        backend_user = "root"
          [[databases.shards]]
          primary = "[::1]:3306/shop"
          [[databases.tables]]
          name = "orders"
          shard_key = "customer_id"
          key_type = "int8"
    "#;
    let config = Config::from_toml_str(text).expect("valid");
    let proxy = &config.proxy;
    assert_eq!(proxy.postgres_listen, None);
    assert_eq!(
        proxy.mysql_listen,
        Some("[::1]:6033".parse().expect("addr"))
    );
    assert_eq!(proxy.default_read_consistency, ReadConsistency::Bounded);
    assert_eq!(proxy.default_max_staleness, Duration::from_millis(250));
    assert_eq!(proxy.pool_size, 4);
    assert_eq!(proxy.tls_cert.as_deref(), Some("server.crt".as_ref()));
    assert_eq!(proxy.tls_key.as_deref(), Some("server.key".as_ref()));
    assert_eq!(proxy.tls_min_version, TlsVersion::Tls13);
    assert_eq!(proxy.max_client_connections, Some(10000));
    assert_eq!(proxy.monitor_interval, Duration::from_millis(20));
    assert_eq!(proxy.max_replica_lag, Some(Duration::from_millis(2500)));
    assert_eq!(proxy.recovery_interval, Duration::from_secs(60));
    assert_eq!(proxy.twopc_grace, Duration::from_secs(90));
    assert_eq!(proxy.pool_timeout, Duration::from_millis(100));

    let user = &config.users[0];
    assert!(!user.admin);
    assert_eq!(user.read_consistency, Some(ReadConsistency::Eventual));
    assert!(user.require_tls);
    assert!(
        !format!("{user:?}").contains("c3RvcmVk"),
        "Debug hides secrets"
    );

    let db = &config.databases[0];
    assert_eq!(db.protocol, Protocol::Mysql);
    assert_eq!(db.backend_password, "");
    assert!(db.shards[0].replicas.is_empty());
    assert_eq!(db.shards[0].primary.to_string(), "[::1]:3306/shop");
    assert_eq!(
        db.tables[0].kind,
        TableKind::Sharded {
            shard_key: "customer_id".into(),
            key_type: KeyType::Bigint
        }
    );
}
