//! No secret reaches the log at any level but trace: the real binary runs at
//! `RUST_LOG=debug` while clients log in over both protocols (good and wrong passwords,
//! SCRAM and caching_sha2 full authentication), move a session token between
//! connections and run a slow statement with a literal; then the log is searched for
//! every one of those secrets. The same run checks the warning about a config file
//! others can read, and that failed logins are logged with their source.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use shardwire_testbed::Topology;

const PG_PASSWORD: &str = "Pw-7f3a9c-pg-secret";
const MY_PASSWORD: &str = "Pw-51be02-my-secret";
const SHA2_PASSWORD: &str = "Pw-c0ffee-sha2-secret";
const LITERAL: &str = "Lit-9d8e7f-in-a-slow-query";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_or_literal_is_logged_at_debug() {
    let topo = Topology::builder()
        .pg_shards(1)
        .mysql_shards(1)
        .fast(true)
        .start()
        .await
        .unwrap_or_else(|e| panic!("testbed: {e}"));
    let pg_port = shardwire_testbed::lease_port().unwrap();
    let my_port = shardwire_testbed::lease_port().unwrap();
    let toml = format!(
        "[proxy]\npostgres_listen = \"127.0.0.1:{}\"\nmysql_listen = \"127.0.0.1:{}\"\n\
         slow_query_threshold = \"100ms\"\n\n\
         [[users]]\nname = \"sec\"\npassword = \"{PG_PASSWORD}\"\n\n\
         [[users]]\nname = \"mysec\"\npassword = \"{MY_PASSWORD}\"\n\n\
         [[users]]\nname = \"sha2sec\"\npassword = \"{SHA2_PASSWORD}\"\nmysql_auth = \"caching_sha2_password\"\n\n\
         [[databases]]\nname = \"app\"\nprotocol = \"postgres\"\nbackend_user = \"postgres\"\n{}\n\
         [[databases]]\nname = \"appmy\"\nprotocol = \"mysql\"\nbackend_user = \"app\"\nbackend_password = \"app\"\n{}",
        pg_port.port(),
        my_port.port(),
        topo.pg_shards()[0].config_stanza(0),
        topo.mysql_shards()[0].config_stanza(0),
    );
    let dir = std::env::temp_dir().join(format!("shardwire-secrets-{}", pg_port.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("shardwire.toml");
    std::fs::write(&config, &toml).unwrap();
    // Readable by everyone, as a careless deploy leaves it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log_path = dir.join("proxy.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shardwire"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let pg_conn = |user: &str, password: &str| {
        format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=app",
            pg_port.port()
        )
    };
    // The proxy is up once a login works.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (a, conn) = loop {
        match tokio_postgres::connect(&pg_conn("sec", PG_PASSWORD), tokio_postgres::NoTls).await {
            Ok(pair) => break pair,
            Err(e) => assert!(Instant::now() < deadline, "proxy not up: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::spawn(conn);
    // A wrong password, a session token handed to another connection, a slow statement
    // with a literal.
    assert!(
        tokio_postgres::connect(&pg_conn("sec", "Pw-wrong-guess"), tokio_postgres::NoTls)
            .await
            .is_err()
    );
    a.batch_execute("CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, v text)")
        .await
        .unwrap();
    a.batch_execute("INSERT INTO notes VALUES (1, 'x') ON CONFLICT DO NOTHING")
        .await
        .unwrap();
    let token: String = a
        .query_one("SHOW shardwire.session_token", &[])
        .await
        .unwrap()
        .get(0);
    let (b, conn) = tokio_postgres::connect(&pg_conn("sec", PG_PASSWORD), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    b.batch_execute(&format!("SET shardwire.session_token = '{token}'"))
        .await
        .unwrap();
    b.simple_query(&format!("SELECT '{LITERAL}', pg_sleep(0.3)"))
        .await
        .unwrap();
    // MySQL: native password, caching_sha2 full authentication (RSA), a wrong password.
    let my_opts = |user: &str, password: &str| {
        mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(my_port.port())
            .user(Some(user))
            .pass(Some(password))
            .db_name(Some("appmy"))
            .prefer_socket(false)
    };
    let mut m = mysql_async::Conn::new(my_opts("mysec", MY_PASSWORD))
        .await
        .unwrap();
    m.query_drop(format!("SELECT '{LITERAL}', SLEEP(0.3)"))
        .await
        .unwrap();
    let mut s = mysql_async::Conn::new(my_opts("sha2sec", SHA2_PASSWORD))
        .await
        .unwrap();
    s.query_drop("SELECT 1").await.unwrap();
    assert!(mysql_async::Conn::new(my_opts("mysec", "Pw-wrong-guess"))
        .await
        .is_err());
    m.disconnect().await.unwrap();
    s.disconnect().await.unwrap();
    drop((a, b));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();

    let text = std::fs::read_to_string(&log_path).unwrap();
    // The log did record these events, at debug and above.
    assert!(text.contains("client connected"), "{text}");
    assert!(text.contains("slow query"), "{text}");
    assert!(text.contains("readable by every user"), "{text}");
    assert!(text.contains("chmod 600"), "{text}");
    // Each wrong password is logged with its source and the source's count.
    for protocol in ["postgres", "mysql"] {
        assert!(
            text.lines().any(|l| l.contains("authentication failed")
                && l.contains("failures_last_minute")
                && l.contains("127.0.0.1")
                && l.contains(protocol)),
            "no failed-login line for {protocol}:\n{text}"
        );
    }
    for secret in [
        PG_PASSWORD,
        MY_PASSWORD,
        SHA2_PASSWORD,
        "Pw-wrong-guess",
        token.as_str(),
        LITERAL,
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} appears in the debug log:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
