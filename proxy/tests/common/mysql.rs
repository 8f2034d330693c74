//! The MySQL side of the fixtures: MariaDB shards (with replicas) from the test bed and
//! an in-process proxy with its MySQL frontend on them.

use shardwire_conf::Config;
use shardwire_testbed::Topology;

/// MariaDB shards with the proxy in front.
pub struct MyHarness {
    /// The databases.
    pub topo: Topology,
    /// Proxy MySQL port.
    pub port: u16,
    /// The config the proxy runs.
    pub config_toml: String,
    /// The file it was read from (what `RELOAD shardwire` re-reads).
    pub config_path: std::path::PathBuf,
}

/// What to start.
pub struct MySpec {
    pub shards: usize,
    pub replicas: usize,
    pub pool_size: u32,
    /// Extra `[proxy]` lines.
    pub proxy_extra: &'static str,
    /// `[[databases.tables]]` sections.
    pub tables: &'static str,
    /// SQL run on every shard primary before the proxy starts.
    pub schema: &'static str,
}

/// Users every MySQL harness has: `app`/`app` (mysql_native_password),
/// `sha2`/`sha2pass` (caching_sha2_password) and `scram`/`scrampass`, configured with
/// only a SCRAM-SHA-256 verifier (caching_sha2_password full authentication).
const USERS: &str = "[[users]]\nname = \"app\"\npassword = \"app\"\nadmin = true\n\n\
    [[users]]\nname = \"sha2\"\npassword = \"sha2pass\"\nmysql_auth = \"caching_sha2_password\"\n\n\
    [[users]]\nname = \"scram\"\nscram_sha256 = \"SCRAM-SHA-256$4096:c2hhcmR3aXJlLW15c3FsIQ==$CQOZqBR37YrqPUoMiM5OeGIRIHMm0DjxN3NTTZrPAVY=:xaYkcw96tZuH8GxzT9q7Sde7CYX2E1PvWOSQ4ii2oqA=\"\n\n";

impl MyHarness {
    /// mysql_async options for the proxy as `user`.
    pub fn opts(&self, user: &str, password: &str) -> mysql_async::OptsBuilder {
        mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some(user))
            .pass(Some(password))
            .db_name(Some("app"))
            .prefer_socket(false)
    }

    /// A connection through the proxy as `app`.
    pub async fn conn(&self) -> mysql_async::Conn {
        mysql_async::Conn::new(self.opts("app", "app"))
            .await
            .unwrap_or_else(|e| panic!("connect through the proxy: {e}"))
    }
}

/// Starts MariaDB shards and the proxy on a runtime that lives as long as the process.
pub fn start_mysql(spec: MySpec) -> MyHarness {
    super::in_background(move || async move {
        let topo = Topology::builder()
            .mysql_shards(spec.shards)
            .mysql_replicas(spec.replicas)
            .fast(true)
            .start()
            .await
            .unwrap_or_else(|e| panic!("testbed: {e}"));
        let mut toml = format!(
            "[proxy]\nmysql_listen = \"127.0.0.1:0\"\npool_size = {}\n{}\n{USERS}\
                 [[databases]]\nname = \"app\"\nprotocol = \"mysql\"\n\
                 backend_user = \"app\"\nbackend_password = \"app\"\n",
            spec.pool_size, spec.proxy_extra
        );
        for shard in topo.mysql_shards() {
            if !spec.schema.is_empty() {
                shard.primary().execute(spec.schema).await.unwrap();
            }
            toml.push_str(&shard.config_stanza(usize::MAX));
        }
        toml.push_str(spec.tables);
        let config = Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let config_path = std::env::temp_dir().join(format!(
            "shardwire-mysql-{}-{}.toml",
            std::process::id(),
            topo.mysql_shards()[0].primary().port()
        ));
        std::fs::write(&config_path, &toml).unwrap();
        let handle = shardwire::server::start_with_source(config, Some(config_path.clone()))
            .await
            .unwrap();
        let port = handle.mysql_addr.unwrap().port();
        let harness = MyHarness {
            topo,
            port,
            config_toml: toml,
            config_path,
        };
        (harness, handle)
    })
}

/// Rows of `sql` on a node, as text.
pub async fn rows_on(node: &shardwire_testbed::Node, sql: &str) -> Vec<Vec<Option<String>>> {
    node.query(sql).await.unwrap_or_else(|e| panic!("{e}"))
}
