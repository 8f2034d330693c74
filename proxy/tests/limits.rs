//! Client limits on both frontends, each crossed against real databases: the login
//! timeout (slowloris), the idle and idle-in-transaction timeouts, per-user connection
//! limits and the maximum message size. Each test starts a proxy of its own (with the
//! limit under test) on the binary's shared shards, and checks that the client past the
//! limit gets the documented error while other clients go on.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::mysql::{start_mysql, MyHarness, MySpec};
use common::raw::{sqlstate, Raw};
use common::{start, Harness, Spec};
use shardwire::server::ProxyHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PG_SCHEMA: &str = "CREATE TABLE items (id bigint PRIMARY KEY, v text)";
const MY_SCHEMA: &str = "CREATE TABLE items (id bigint PRIMARY KEY, v text)";

fn pg() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        start(Spec {
            shards: 1,
            replicas: 0,
            pool_size: 8,
            proxy_extra: "",
            tables: "",
            schema: PG_SCHEMA,
            admin: false,
        })
    })
}

fn my() -> &'static MyHarness {
    static H: OnceLock<MyHarness> = OnceLock::new();
    H.get_or_init(|| {
        start_mysql(MySpec {
            shards: 1,
            replicas: 0,
            pool_size: 8,
            proxy_extra: "",
            tables: "",
            schema: MY_SCHEMA,
        })
    })
}

/// A proxy of this test's own on the harness's shards, with `extra` `[proxy]` lines and
/// `user_extra` lines for the `app` user.
async fn proxy_with(config_toml: &str, extra: &str, user_extra: &str) -> ProxyHandle {
    let mut toml = config_toml.replacen("[proxy]\n", &format!("[proxy]\n{extra}\n"), 1);
    if !user_extra.is_empty() {
        toml = toml.replacen(
            "name = \"app\"\npassword = \"app\"\n",
            &format!("name = \"app\"\npassword = \"app\"\n{user_extra}\n"),
            1,
        );
    }
    let config = shardwire_conf::Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}"));
    shardwire::server::start(config).await.unwrap()
}

async fn pg_client(port: u16) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let conn_str = format!("host=127.0.0.1 port={port} user=app password=app dbname=app");
    let (client, connection) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The FATAL a raw connection receives next: (SQLSTATE, message text).
async fn next_error(raw: &mut Raw) -> (String, String) {
    loop {
        let (tag, body) = raw.read_frame().await.expect("an error before the close");
        if tag == b'E' {
            return (sqlstate(&body), String::from_utf8_lossy(&body).into_owned());
        }
    }
}

#[tokio::test]
async fn pg_login_timeout_cuts_silent_and_slow_clients_while_others_log_in() {
    let h = pg();
    let proxy = proxy_with(&h.config_toml, "client_login_timeout = \"400ms\"", "").await;
    let port = proxy.postgres_addr.unwrap().port();
    let started = Instant::now();
    // One says nothing, one sends half a startup packet and stalls.
    let mut silent = Raw::connect(port).await;
    let mut slow = Raw::connect(port).await;
    slow.send(&[0, 0, 0, 40, 0, 3]).await;
    // A client that logs in normally in the meantime is not held up.
    let good = pg_client(port).await.unwrap();
    good.simple_query("SELECT 1").await.unwrap();
    for raw in [&mut silent, &mut slow] {
        let (code, message) = next_error(raw).await;
        assert_eq!(code, "57014", "{message}");
        assert!(message.contains("client_login_timeout"), "{message}");
        assert!(raw.closed().await);
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(4),
        "cut after {took:?}"
    );
    good.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn pg_idle_clients_are_cut_and_an_idle_transaction_is_rolled_back() {
    let h = pg();
    let proxy = proxy_with(
        &h.config_toml,
        "client_idle_timeout = \"700ms\"\nidle_transaction_timeout = \"700ms\"",
        "",
    )
    .await;
    let port = proxy.postgres_addr.unwrap().port();
    let mut idle = Raw::login(port).await;
    let mut in_txn = Raw::login(port).await;
    in_txn.send_frame(b'Q', b"BEGIN\0").await;
    in_txn.read_until_ready().await;
    in_txn
        .send_frame(b'Q', b"INSERT INTO items VALUES (7001, 'held')\0")
        .await;
    let (tags, codes) = in_txn.read_until_ready().await;
    assert!(codes.is_empty() && tags.contains(&b'C'), "{codes:?}");
    // A busy client is never idle for long: it keeps its connection throughout.
    let busy = pg_client(port).await.unwrap();
    let until = Instant::now() + Duration::from_millis(1600);
    while Instant::now() < until {
        busy.simple_query("SELECT 1").await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (code, message) = next_error(&mut idle).await;
    assert_eq!(code, "57P05", "{message}");
    assert!(message.contains("client_idle_timeout"), "{message}");
    assert!(idle.closed().await);
    let (code, message) = next_error(&mut in_txn).await;
    assert_eq!(code, "25P03", "{message}");
    assert!(message.contains("idle_transaction_timeout"), "{message}");
    assert!(in_txn.closed().await);
    // The transaction is gone on the shard: its row never committed, and no server
    // session is left idle in a transaction holding it.
    let shard = h.topo.pg_shards()[0].primary();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = shard
            .query("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'")
            .await
            .unwrap();
        if left[0][0].as_deref() == Some("0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a server transaction was left open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = shard
        .query("SELECT count(*) FROM items WHERE id = 7001")
        .await
        .unwrap();
    assert_eq!(rows[0][0].as_deref(), Some("0"));
    busy.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn pg_a_user_past_its_connection_limit_gets_53300_while_its_others_go_on() {
    let h = pg();
    let proxy = proxy_with(&h.config_toml, "", "max_connections = 2").await;
    let port = proxy.postgres_addr.unwrap().port();
    let first = pg_client(port).await.unwrap();
    let second = pg_client(port).await.unwrap();
    let refused = match pg_client(port).await {
        Err(e) => e,
        Ok(_) => panic!("a third connection of a user limited to 2 was accepted"),
    };
    let db = refused.as_db_error().expect("an error from the proxy");
    assert_eq!(db.code().code(), "53300", "{}", db.message());
    assert!(
        db.message()
            .contains("too many connections for role \"app\"")
            && db.message().contains("max_connections = 2"),
        "{}",
        db.message()
    );
    first.simple_query("SELECT 1").await.unwrap();
    second.simple_query("SELECT 1").await.unwrap();
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(5);
    let third = loop {
        match pg_client(port).await {
            Ok(client) => break client,
            Err(e) => assert!(Instant::now() < deadline, "no slot after a close: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    third.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn pg_a_message_past_max_message_size_ends_that_connection_only() {
    let h = pg();
    let proxy = proxy_with(&h.config_toml, "max_message_size = 65536", "").await;
    let port = proxy.postgres_addr.unwrap().port();
    let other = pg_client(port).await.unwrap();
    // Under the limit: answered.
    let fits = format!("SELECT length('{}')", "a".repeat(40_000));
    let rows = other.simple_query(&fits).await.unwrap();
    let length = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(length.as_deref(), Some("40000"));
    // Over it: refused at the header, before the body is read.
    let mut raw = Raw::login(port).await;
    raw.send(&[b'Q', 0, 1, 0x86, 0xA0]).await; // announces 100,000 bytes
    let (code, message) = next_error(&mut raw).await;
    assert_eq!(code, "08P01", "{message}");
    assert!(message.contains("65536"), "{message}");
    assert!(raw.closed().await);
    other.simple_query("SELECT 1").await.unwrap();
}

fn my_opts(port: u16) -> mysql_async::OptsBuilder {
    my().opts("app", "app").tcp_port(port)
}

/// The MySQL error number of a failed call (0 when it failed some other way).
fn my_code(e: &mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        _ => 0,
    }
}

#[tokio::test]
async fn my_idle_clients_are_cut_and_an_idle_transaction_is_rolled_back() {
    use mysql_async::prelude::Queryable;
    let h = my();
    let proxy = proxy_with(
        &h.config_toml,
        "client_idle_timeout = \"700ms\"\nidle_transaction_timeout = \"700ms\"",
        "",
    )
    .await;
    let port = proxy.mysql_addr.unwrap().port();
    let mut idle = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let mut in_txn = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    in_txn.query_drop("BEGIN").await.unwrap();
    in_txn
        .query_drop("INSERT INTO items VALUES (7101, 'held')")
        .await
        .unwrap();
    let mut busy = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let until = Instant::now() + Duration::from_millis(1600);
    while Instant::now() < until {
        busy.query_drop("SELECT 1").await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for conn in [&mut idle, &mut in_txn] {
        let e = conn.query_drop("SELECT 1").await.unwrap_err();
        assert_eq!(my_code(&e), 4031, "{e}");
    }
    // The branch was rolled back on the shard: no row, no prepared XA left.
    let shard = h.topo.mysql_shards()[0].primary();
    let rows = common::mysql::rows_on(shard, "SELECT count(*) FROM items WHERE id = 7101").await;
    assert_eq!(rows[0][0].as_deref(), Some("0"));
    let prepared = common::mysql::rows_on(shard, "XA RECOVER").await;
    assert!(prepared.is_empty(), "{prepared:?}");
    busy.query_drop("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn my_a_user_past_its_connection_limit_gets_1203_while_its_others_go_on() {
    use mysql_async::prelude::Queryable;
    let h = my();
    let proxy = proxy_with(&h.config_toml, "", "max_connections = 2").await;
    let port = proxy.mysql_addr.unwrap().port();
    let mut first = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let second = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let e = match mysql_async::Conn::new(my_opts(port)).await {
        Err(e) => e,
        Ok(_) => panic!("a third connection of a user limited to 2 was accepted"),
    };
    assert_eq!(my_code(&e), 1203, "{e}");
    assert!(e.to_string().contains("max_connections = 2"), "{e}");
    first.query_drop("SELECT 1").await.unwrap();
    second.disconnect().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut third = loop {
        match mysql_async::Conn::new(my_opts(port)).await {
            Ok(conn) => break conn,
            Err(e) => assert!(Instant::now() < deadline, "no slot after a close: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    third.query_drop("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn my_login_timeout_closes_a_client_that_never_answers_the_greeting() {
    use mysql_async::prelude::Queryable;
    let h = my();
    let proxy = proxy_with(&h.config_toml, "client_login_timeout = \"400ms\"", "").await;
    let port = proxy.mysql_addr.unwrap().port();
    let started = Instant::now();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut good = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    // The greeting arrives, then nothing more until the proxy closes.
    let mut buf = vec![0u8; 4096];
    let mut total = 0;
    let closed_at = loop {
        let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
            .await
            .expect("closed within 5 s")
            .unwrap_or(0);
        if n == 0 {
            break started.elapsed();
        }
        total += n;
    };
    assert!(total > 0, "no greeting");
    assert!(
        closed_at >= Duration::from_millis(400) && closed_at < Duration::from_secs(4),
        "closed after {closed_at:?}"
    );
    let _ = silent.write_all(b"late").await;
    good.query_drop("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn my_a_command_past_max_message_size_gets_1153_and_others_go_on() {
    use mysql_async::prelude::Queryable;
    let h = my();
    let proxy = proxy_with(&h.config_toml, "max_message_size = 65536", "").await;
    let port = proxy.mysql_addr.unwrap().port();
    let mut other = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let fits: Vec<u64> = other
        .query(format!("SELECT length('{}')", "a".repeat(40_000)))
        .await
        .unwrap();
    assert_eq!(fits, [40_000]);
    let mut big = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let e = big
        .query_drop(format!("SELECT length('{}')", "a".repeat(100_000)))
        .await
        .unwrap_err();
    assert_eq!(my_code(&e), 1153, "{e}");
    assert!(e.to_string().contains("65536"), "{e}");
    other.query_drop("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn pg_query_timeout_cancels_a_long_statement_and_the_session_goes_on() {
    let h = pg();
    let proxy = proxy_with(&h.config_toml, "query_timeout = \"500ms\"", "").await;
    let port = proxy.postgres_addr.unwrap().port();
    let client = pg_client(port).await.unwrap();
    let other = pg_client(port).await.unwrap();
    let started = Instant::now();
    let e = client
        .simple_query("SELECT pg_sleep(10)")
        .await
        .unwrap_err();
    let took = started.elapsed();
    let db = e.as_db_error().expect("an error from the server");
    assert_eq!(db.code().code(), "57014", "{}", db.message());
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "stopped after {took:?}"
    );
    // Quick statements are untouched, on this session and others.
    client.simple_query("SELECT 1").await.unwrap();
    other.query("SELECT $1::int", &[&5]).await.unwrap();
    // The extended protocol is watched too.
    let e = client
        .query("SELECT pg_sleep($1)", &[&10.0f64])
        .await
        .unwrap_err();
    assert_eq!(e.as_db_error().map(|d| d.code().code()), Some("57014"));
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn my_query_timeout_kills_a_long_statement_and_the_session_goes_on() {
    use mysql_async::prelude::Queryable;
    let h = my();
    let proxy = proxy_with(&h.config_toml, "query_timeout = \"500ms\"", "").await;
    let port = proxy.mysql_addr.unwrap().port();
    let mut conn = mysql_async::Conn::new(my_opts(port)).await.unwrap();
    let started = Instant::now();
    // An interrupted SLEEP answers 1 instead of 0 (MariaDB); a heavier statement gets
    // error 1317. Either way it stops at the limit instead of running 10 s.
    let slept: Result<Vec<u64>, _> = conn.query("SELECT SLEEP(10)").await;
    let took = started.elapsed();
    match slept {
        Ok(v) => assert_eq!(v, [1], "SLEEP was not interrupted"),
        Err(e) => assert_eq!(my_code(&e), 1317, "{e}"),
    }
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "stopped after {took:?}"
    );
    let one: Vec<u64> = conn.query("SELECT 1").await.unwrap();
    assert_eq!(one, [1]);
}
