//! The MySQL frontend against real MariaDB shards: login with both auth plugins, hash
//! placement by COM_QUERY and by prepared statements (checked on the shards directly),
//! transactions across shards as XA, and what the proxy answers itself.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::OnceLock;

use common::mysql::{rows_on, start_mysql, MyHarness, MySpec};
use mysql_async::prelude::*;
use shardwire_router::hash::{parse_uuid, shard_of, ShardKey};

const TWO: NonZeroU32 = match NonZeroU32::new(2) {
    Some(n) => n,
    None => unreachable!(),
};

const SCHEMA: &str = "
CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(100));
CREATE TABLE users (name VARCHAR(64) PRIMARY KEY, age INT);
CREATE TABLE devices (u CHAR(36) PRIMARY KEY, label VARCHAR(64));
CREATE TABLE settings (k VARCHAR(64) PRIMARY KEY, v VARCHAR(64));
CREATE TABLE bank (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);
CREATE TABLE notes (name VARCHAR(64) PRIMARY KEY, age INT);
";

const TABLES: &str = "
  [[databases.tables]]
  name = \"accounts\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"users\"
  shard_key = \"name\"
  key_type = \"text\"

  [[databases.tables]]
  name = \"notes\"
  shard_key = \"name\"
  key_type = \"text\"

  [[databases.tables]]
  name = \"bank\"
  shard_key = \"id\"
  key_type = \"bigint\"

  [[databases.tables]]
  name = \"devices\"
  shard_key = \"u\"
  key_type = \"uuid\"
";

fn harness() -> &'static MyHarness {
    static H: OnceLock<MyHarness> = OnceLock::new();
    H.get_or_init(|| {
        start_mysql(MySpec {
            shards: 2,
            replicas: 1,
            // Transfers hold a connection on each shard per client.
            pool_size: 24,
            proxy_extra: "",
            tables: TABLES,
            schema: SCHEMA,
        })
    })
}

fn shard_of_int(k: i64) -> usize {
    shard_of(&ShardKey::Int(k), TWO) as usize
}

#[tokio::test]
async fn a_point_query_runs_on_the_shard_of_its_key() {
    let h = harness();
    let mut conn = h.conn().await;
    for id in 1000..1020_i64 {
        conn.query_drop(format!(
            "INSERT INTO accounts (id, balance, note) VALUES ({id}, {}, 'n{id}')",
            id * 10
        ))
        .await
        .unwrap();
    }
    for id in 1000..1020_i64 {
        let shard = shard_of_int(id);
        let here = rows_on(
            h.topo.mysql(shard).primary(),
            &format!("SELECT balance FROM accounts WHERE id = {id}"),
        )
        .await;
        assert_eq!(
            here,
            vec![vec![Some((id * 10).to_string())]],
            "id {id} on shard {shard}"
        );
        let there = rows_on(
            h.topo.mysql(1 - shard).primary(),
            &format!("SELECT balance FROM accounts WHERE id = {id}"),
        )
        .await;
        assert!(there.is_empty(), "id {id} also on the other shard");
        let balance: Option<i64> = conn
            .query_first(format!("SELECT balance FROM accounts WHERE id = {id}"))
            .await
            .unwrap();
        assert_eq!(balance, Some(id * 10));
    }
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn placement_of_2000_rows_per_key_type_by_query_and_by_prepared_statement() {
    let h = harness();
    let mut conn = h.conn().await;
    let n = 2000_i64;
    // BIGINT: even ids by COM_QUERY, odd by a prepared statement.
    let insert = conn
        .prep("INSERT INTO accounts (id, balance) VALUES (?, ?)")
        .await
        .unwrap();
    for id in 0..n {
        let id = 10_000 + id;
        if id % 2 == 0 {
            conn.query_drop(format!(
                "INSERT INTO accounts (id, balance) VALUES ({id}, 7)"
            ))
            .await
            .unwrap();
        } else {
            conn.exec_drop(&insert, (id, 7)).await.unwrap();
        }
    }
    // VARCHAR keys, with quotes and non-ASCII text.
    let names: Vec<String> = (0..n).map(|i| format!("user-{i}-ö'\"x")).collect();
    let insert_user = conn
        .prep("INSERT INTO users (name, age) VALUES (?, ?)")
        .await
        .unwrap();
    for (i, name) in names.iter().enumerate() {
        if i % 2 == 0 {
            let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
            conn.query_drop(format!(
                "INSERT INTO users (name, age) VALUES ('{escaped}', {i})"
            ))
            .await
            .unwrap();
        } else {
            conn.exec_drop(&insert_user, (name.as_str(), i as i64))
                .await
                .unwrap();
        }
    }
    // UUID strings.
    let uuids: Vec<String> = (0..n)
        .map(|i| format!("{:08x}-1234-4abc-8def-{:012x}", i * 7919, i * 104_729))
        .collect();
    let insert_device = conn
        .prep("INSERT INTO devices (u, label) VALUES (?, ?)")
        .await
        .unwrap();
    for (i, u) in uuids.iter().enumerate() {
        if i % 2 == 0 {
            conn.query_drop(format!(
                "INSERT INTO devices (u, label) VALUES (\"{u}\", 'd{i}')"
            ))
            .await
            .unwrap();
        } else {
            conn.exec_drop(&insert_device, (u.as_str(), format!("d{i}")))
                .await
                .unwrap();
        }
    }
    // Every row exactly once, on its shard.
    let mut ids_on = [Vec::new(), Vec::new()];
    let mut names_on = [Vec::new(), Vec::new()];
    let mut uuids_on = [Vec::new(), Vec::new()];
    for s in 0..2 {
        let node = h.topo.mysql(s).primary();
        ids_on[s] = rows_on(
            node,
            "SELECT id FROM accounts WHERE id >= 10000 AND id < 12000",
        )
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap().parse::<i64>().unwrap())
        .collect::<Vec<_>>();
        names_on[s] = rows_on(node, "SELECT name FROM users")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect();
        uuids_on[s] = rows_on(node, "SELECT u FROM devices")
            .await
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect();
    }
    assert_eq!(ids_on[0].len() + ids_on[1].len(), n as usize);
    assert_eq!(names_on[0].len() + names_on[1].len(), n as usize);
    assert_eq!(uuids_on[0].len() + uuids_on[1].len(), n as usize);
    for s in 0..2 {
        assert!(!ids_on[s].is_empty() && !names_on[s].is_empty() && !uuids_on[s].is_empty());
        for id in &ids_on[s] {
            assert_eq!(shard_of_int(*id), s, "id {id}");
        }
        for name in &names_on[s] {
            assert_eq!(
                shard_of(&ShardKey::Text(name.as_bytes()), TWO) as usize,
                s,
                "name {name}"
            );
        }
        for u in &uuids_on[s] {
            let key = ShardKey::Uuid(parse_uuid(u).unwrap());
            assert_eq!(shard_of(&key, TWO) as usize, s, "uuid {u}");
        }
    }
    // Read back by key through the proxy, by query and by prepared statement.
    let by_id = conn
        .prep("SELECT balance FROM accounts WHERE id = ?")
        .await
        .unwrap();
    for id in (10_000..10_000 + n).step_by(37) {
        let b: Option<i64> = conn.exec_first(&by_id, (id,)).await.unwrap();
        assert_eq!(b, Some(7), "id {id}");
    }
    let by_name = conn
        .prep("SELECT age FROM users WHERE name = ?")
        .await
        .unwrap();
    for (i, name) in names.iter().enumerate().step_by(41) {
        let age: Option<i64> = conn.exec_first(&by_name, (name.as_str(),)).await.unwrap();
        assert_eq!(age, Some(i as i64), "name {name}");
        let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
        let age: Option<i64> = conn
            .query_first(format!("SELECT age FROM users WHERE name = '{escaped}'"))
            .await
            .unwrap();
        assert_eq!(age, Some(i as i64), "name {name} by query");
    }
    let by_uuid = conn
        .prep("SELECT label FROM devices WHERE u = ?")
        .await
        .unwrap();
    for (i, u) in uuids.iter().enumerate().step_by(43) {
        let label: Option<String> = conn.exec_first(&by_uuid, (u.as_str(),)).await.unwrap();
        assert_eq!(label, Some(format!("d{i}")), "uuid {u}");
    }
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn both_auth_plugins_log_in_and_a_wrong_password_gets_1045() {
    let h = harness();
    let mut native = mysql_async::Conn::new(h.opts("app", "app")).await.unwrap();
    let one: Option<i64> = native.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    native.disconnect().await.unwrap();

    let mut sha2 = mysql_async::Conn::new(h.opts("sha2", "sha2pass"))
        .await
        .unwrap_or_else(|e| panic!("caching_sha2_password login: {e}"));
    let one: Option<i64> = sha2.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    sha2.disconnect().await.unwrap();

    // A user known only by a SCRAM verifier: caching_sha2_password full authentication,
    // the password RSA-encrypted with the proxy's public key.
    let opts = h.opts("scram", "scrampass");
    let mut scram = mysql_async::Conn::new(opts)
        .await
        .unwrap_or_else(|e| panic!("caching_sha2_password full authentication: {e}"));
    let one: Option<i64> = scram.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    scram.disconnect().await.unwrap();
    // COM_RESET_CONNECTION: the session's settings are gone, the session works.
    let mut conn = h.conn().await;
    conn.query_drop("SET shardwire.read_consistency = 'eventual'")
        .await
        .unwrap();
    conn.reset().await.unwrap();
    let level: Option<String> = conn
        .query_first("SHOW shardwire.read_consistency")
        .await
        .unwrap();
    assert_eq!(level.as_deref(), Some("strong"));
    conn.disconnect().await.unwrap();

    for (user, password) in [
        ("app", "wrong"),
        ("sha2", "wrong"),
        ("scram", "wrong"),
        ("nobody", "x"),
    ] {
        let err = mysql_async::Conn::new(h.opts(user, password))
            .await
            .err()
            .unwrap_or_else(|| panic!("{user} logged in with a wrong password"));
        match err {
            mysql_async::Error::Server(e) => {
                assert_eq!(e.code, 1045, "{user}: {e:?}");
                assert!(e.message.contains("Access denied"), "{e:?}");
            }
            other => panic!("{user}: expected error 1045, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_transaction_across_shards_commits_everywhere_or_nowhere() {
    let h = harness();
    let (a, b) = two_ids_on_different_shards(50_000);
    let mut conn = h.conn().await;
    conn.query_drop("BEGIN").await.unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({a}, 1)"
    ))
    .await
    .unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({b}, 2)"
    ))
    .await
    .unwrap();
    conn.query_drop("COMMIT").await.unwrap();
    for (id, want) in [(a, "1"), (b, "2")] {
        let rows = rows_on(
            h.topo.mysql(shard_of_int(id)).primary(),
            &format!("SELECT balance FROM accounts WHERE id = {id}"),
        )
        .await;
        assert_eq!(rows, vec![vec![Some(want.to_string())]]);
    }
    // Rolled back: on neither.
    let (c, d) = two_ids_on_different_shards(60_000);
    conn.query_drop("START TRANSACTION").await.unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({c}, 1)"
    ))
    .await
    .unwrap();
    conn.query_drop(format!(
        "INSERT INTO accounts (id, balance) VALUES ({d}, 2)"
    ))
    .await
    .unwrap();
    conn.query_drop("ROLLBACK").await.unwrap();
    for id in [c, d] {
        let rows = rows_on(
            h.topo.mysql(shard_of_int(id)).primary(),
            &format!("SELECT balance FROM accounts WHERE id = {id}"),
        )
        .await;
        assert!(rows.is_empty(), "{id} survived a rollback");
    }
    // Nothing is left prepared, and the decision of the committed one was recorded.
    for s in 0..2 {
        let prepared = rows_on(h.topo.mysql(s).primary(), "XA RECOVER").await;
        assert!(prepared.is_empty(), "shard {s}: {prepared:?}");
    }
    conn.disconnect().await.unwrap();
}

/// Two ids from `start` that hash to different shards.
fn two_ids_on_different_shards(start: i64) -> (i64, i64) {
    let a = start;
    let b = (start + 1..)
        .find(|k| shard_of_int(*k) != shard_of_int(a))
        .unwrap();
    (a, b)
}

/// Reads one packet: (sequence id, payload).
async fn read_packet(s: &mut tokio::net::TcpStream) -> Option<(u8, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut header = [0u8; 4];
    s.read_exact(&mut header).await.ok()?;
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.ok()?;
    Some((header[3], payload))
}

/// The MySQL error code of an ERR payload.
fn err_code(payload: &[u8]) -> Option<u16> {
    (<[u8]>::first(payload) == Some(&0xFF)).then(|| u16::from_le_bytes([payload[1], payload[2]]))
}

/// Whether the proxy closed the connection (EOF or reset within 5 s).
async fn closed(s: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// A raw connection logged in as app/app (mysql_native_password), past the OK.
async fn raw_login(h: &MyHarness) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", h.port))
        .await
        .unwrap();
    let (_, greeting) = read_packet(&mut s).await.unwrap();
    // Salt: 8 bytes after the version and connection id, then 12 after the reserved bytes.
    let version_end = 1 + greeting[1..].iter().position(|b| *b == 0).unwrap();
    let mut salt = greeting[version_end + 5..version_end + 13].to_vec();
    let rest = version_end + 13 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    salt.extend_from_slice(&greeting[rest..rest + 12]);
    let scramble = mysql_common::scramble::scramble_native(&salt, b"app").unwrap();
    let caps: u32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0000_0008 | 0x0001_0000;
    let mut payload = Vec::new();
    payload.extend_from_slice(&caps.to_le_bytes());
    payload.extend_from_slice(&(1u32 << 24).to_le_bytes());
    payload.push(45);
    payload.extend_from_slice(&[0; 23]);
    payload.extend_from_slice(b"app\0");
    payload.push(20);
    payload.extend_from_slice(&scramble);
    payload.extend_from_slice(b"app\0mysql_native_password\0");
    let mut packet = vec![payload.len() as u8, (payload.len() >> 8) as u8, 0, 1];
    packet.extend_from_slice(&payload);
    s.write_all(&packet).await.unwrap();
    let (_, ok) = read_packet(&mut s).await.unwrap();
    assert_eq!(<[u8]>::first(&ok), Some(&0x00), "login: {ok:?}");
    s
}

#[tokio::test]
async fn bad_input_gets_an_error_and_a_close_and_others_keep_working() {
    use tokio::io::AsyncWriteExt;
    let h = harness();
    let mut bystander = h.conn().await;

    // Garbage instead of a handshake response (an HTTP request).
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", h.port))
        .await
        .unwrap();
    read_packet(&mut s).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (_, reply) = read_packet(&mut s).await.expect("an error packet");
    assert_eq!(err_code(&reply), Some(1043), "{reply:?}");
    assert!(closed(&mut s).await);

    // A short garbage handshake response.
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", h.port))
        .await
        .unwrap();
    read_packet(&mut s).await.unwrap();
    s.write_all(&[5, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0x01])
        .await
        .unwrap();
    let (_, reply) = read_packet(&mut s).await.expect("an error packet");
    assert_eq!(err_code(&reply), Some(1043), "{reply:?}");
    assert!(closed(&mut s).await);

    // A command announcing 16 MiB that never comes.
    let mut s = raw_login(h).await;
    s.write_all(&[0xff, 0xff, 0xff, 0x00]).await.unwrap();
    let (_, reply) = read_packet(&mut s).await.expect("an error packet");
    assert_eq!(err_code(&reply), Some(1153), "{reply:?}");
    assert!(closed(&mut s).await);

    // A command with a wrong sequence id.
    let mut s = raw_login(h).await;
    s.write_all(&[
        9, 0, 0, 5, 0x03, b'S', b'E', b'L', b'E', b'C', b'T', b' ', b'1',
    ])
    .await
    .unwrap();
    let (_, reply) = read_packet(&mut s).await.expect("an error packet");
    assert_eq!(err_code(&reply), Some(1156), "{reply:?}");
    assert!(closed(&mut s).await);

    // An unknown command: an error, and the session goes on.
    let mut s = raw_login(h).await;
    s.write_all(&[1, 0, 0, 0, 0x7f]).await.unwrap();
    let (_, reply) = read_packet(&mut s).await.expect("an error packet");
    assert_eq!(err_code(&reply), Some(1047), "{reply:?}");
    s.write_all(&[1, 0, 0, 0, 0x0e]).await.unwrap(); // COM_PING
    let (_, reply) = read_packet(&mut s).await.expect("an OK packet");
    assert_eq!(<[u8]>::first(&reply), Some(&0x00));

    let one: Option<i64> = bystander.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    bystander.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_mysql_client_runs_a_scripted_session() {
    let h = harness();
    let script = "
        SELECT 'hello' AS greeting;
        INSERT INTO settings (k, v) VALUES ('cli', 'one');
        BEGIN;
        UPDATE settings SET v = 'two' WHERE k = 'cli';
        COMMIT;
        SELECT v FROM settings WHERE k = 'cli';
        SET shardwire.read_consistency = 'eventual';
        SHOW shardwire.read_consistency;
        SELECT no_such_column FROM settings;
    ";
    let out = std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{}", h.port),
            "-uapp",
            "-papp",
            "--batch",
            "--skip-column-names",
            "--force",
            "app",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "hello\ntwo\neventual\n", "stderr: {stderr}");
    assert!(stderr.contains("1054"), "the bad column's error: {stderr}");
    // caching_sha2_password through the client's plugin (an auth switch from the
    // greeting's mysql_native_password).
    let out = std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{}", h.port),
            "-usha2",
            "-psha2pass",
            "--batch",
            "--skip-column-names",
            "-e",
            "SELECT 'sha2 ok'",
            "app",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "sha2 ok\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The row is on shard 0 (settings is not sharded).
    let rows = rows_on(
        h.topo.mysql(0).primary(),
        "SELECT v FROM settings WHERE k = 'cli'",
    )
    .await;
    assert_eq!(rows, vec![vec![Some("two".to_string())]]);
}

#[tokio::test]
async fn concurrent_transfers_across_shards_keep_the_total() {
    let h = harness();
    let accounts = 20_i64;
    let mut setup = h.conn().await;
    for id in 0..accounts {
        setup
            .query_drop(format!(
                "INSERT INTO bank (id, balance) VALUES ({id}, 1000)"
            ))
            .await
            .unwrap();
    }
    setup.disconnect().await.unwrap();
    // Each client makes a fixed number of transfers, locking the lower account id first the
    // way a careful application does: no lock cycle can form, so no transfer has to wait out
    // `transaction_lock_timeout` and the run's length does not depend on the machine's speed.
    // Contention stays real (8 clients on 20 rows, half of the transfers cross shards).
    const TRANSFERS_PER_CLIENT: u64 = 40;
    let mut clients = Vec::new();
    for c in 0..8_i64 {
        let opts = h.opts("app", "app");
        clients.push(tokio::spawn(async move {
            let mut conn = mysql_async::Conn::new(opts).await.unwrap();
            let mut committed = 0_u64;
            let mut retried = 0_u64;
            let mut i = c;
            while committed < TRANSFERS_PER_CLIENT {
                i += 7;
                let from = (i * 13) % accounts;
                let to = (i * 17 + 3) % accounts;
                if from == to {
                    continue;
                }
                let (first, first_delta, second, second_delta) = if from < to {
                    (from, -5, to, 5)
                } else {
                    (to, 5, from, -5)
                };
                let result: Result<(), mysql_async::Error> = async {
                    conn.query_drop("BEGIN").await?;
                    conn.query_drop(format!(
                        "UPDATE bank SET balance = balance + ({first_delta}) WHERE id = {first}"
                    ))
                    .await?;
                    conn.query_drop(format!(
                        "UPDATE bank SET balance = balance + ({second_delta}) WHERE id = {second}"
                    ))
                    .await?;
                    conn.query_drop("COMMIT").await
                }
                .await;
                match result {
                    Ok(()) => committed += 1,
                    Err(mysql_async::Error::Server(e))
                        if matches!(e.code, 1205 | 1213 | 1402 | 1614) && retried < 20 =>
                    {
                        retried += 1;
                        conn.query_drop("ROLLBACK").await.unwrap();
                    }
                    Err(e) => panic!("transfer failed: {e:?}"),
                }
            }
            conn.disconnect().await.unwrap();
            committed
        }));
    }
    let mut committed = 0;
    for c in clients {
        committed += c.await.unwrap();
    }
    assert_eq!(committed, 8 * TRANSFERS_PER_CLIENT);
    let mut total = 0_i64;
    for s in 0..2 {
        let node = h.topo.mysql(s).primary();
        let rows = rows_on(node, "SELECT COALESCE(SUM(balance), 0) FROM bank").await;
        total += rows[0][0].clone().unwrap().parse::<i64>().unwrap();
        let prepared = rows_on(node, "XA RECOVER").await;
        assert!(prepared.is_empty(), "shard {s}: {prepared:?}");
    }
    assert_eq!(
        total,
        1000 * accounts,
        "money was created or lost ({committed} transfers)"
    );
}

#[tokio::test]
async fn lock_tables_keeps_the_connection_until_unlock_tables() {
    let h = harness();
    let mut a = h.conn().await;
    a.query_drop("LOCK TABLES settings WRITE").await.unwrap();
    let opts = h.opts("app", "app");
    let b = tokio::spawn(async move {
        let mut b = mysql_async::Conn::new(opts).await.unwrap();
        let v: Option<String> = b
            .query_first("SELECT v FROM settings WHERE k = 'locked'")
            .await
            .unwrap();
        b.disconnect().await.unwrap();
        v
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !b.is_finished(),
        "another session read a table locked for writing"
    );
    // The lock holder's statements run on the connection that holds the lock.
    a.query_drop("INSERT INTO settings (k, v) VALUES ('locked', 'x')")
        .await
        .unwrap();
    a.query_drop("UNLOCK TABLES").await.unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), b)
        .await
        .expect("the reader waits for UNLOCK TABLES, not longer")
        .unwrap();
    assert_eq!(seen.as_deref(), Some("x"));
    a.disconnect().await.unwrap();
}

/// Reads packets until an EOF (0xFE, short) or ERR; returns the last one.
async fn read_until_eof(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    loop {
        let (_, p) = read_packet(s).await.expect("a packet");
        if (<[u8]>::first(&p) == Some(&0xFE) && p.len() < 9) || err_code(&p).is_some() {
            return p;
        }
    }
}

#[tokio::test]
async fn long_data_routes_and_reaches_the_shard_of_its_key() {
    use tokio::io::AsyncWriteExt;
    let h = harness();
    let mut s = raw_login(h).await;
    let send = |seq: u8, payload: &[u8]| {
        let mut packet = vec![payload.len() as u8, (payload.len() >> 8) as u8, 0, seq];
        packet.extend_from_slice(payload);
        packet
    };
    // COM_STMT_PREPARE
    let sql = b"INSERT INTO notes (name, age) VALUES (?, ?)";
    let mut payload = vec![0x16];
    payload.extend_from_slice(sql);
    s.write_all(&send(0, &payload)).await.unwrap();
    let (_, ok) = read_packet(&mut s).await.unwrap();
    assert_eq!(<[u8]>::first(&ok), Some(&0x00), "{ok:?}");
    let id = [ok[1], ok[2], ok[3], ok[4]];
    assert_eq!(u16::from_le_bytes([ok[7], ok[8]]), 2, "two parameters");
    read_until_eof(&mut s).await; // parameter definitions
                                  // The key arrives as long data, in two pieces.
    let name = "long-data-key-ünïcode";
    let (first, second) = name.as_bytes().split_at(6);
    for piece in [first, second] {
        let mut payload = vec![0x18];
        payload.extend_from_slice(&id);
        payload.extend_from_slice(&0u16.to_le_bytes());
        payload.extend_from_slice(piece);
        s.write_all(&send(0, &payload)).await.unwrap();
    }
    // COM_STMT_EXECUTE: no NULLs, types bound (VAR_STRING, LONGLONG), age = 77.
    let mut payload = vec![0x17];
    payload.extend_from_slice(&id);
    payload.push(0);
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.push(0);
    payload.push(1);
    payload.extend_from_slice(&[0xfd, 0, 0x08, 0]);
    payload.extend_from_slice(&77i64.to_le_bytes());
    s.write_all(&send(0, &payload)).await.unwrap();
    let (_, ok) = read_packet(&mut s).await.unwrap();
    assert_eq!(<[u8]>::first(&ok), Some(&0x00), "execute: {ok:?}");
    let shard = shard_of(&ShardKey::Text(name.as_bytes()), TWO) as usize;
    let sql = format!("SELECT age FROM notes WHERE name = '{name}'");
    let here = rows_on(h.topo.mysql(shard).primary(), &sql).await;
    assert_eq!(here, vec![vec![Some("77".to_string())]]);
    let there = rows_on(h.topo.mysql(1 - shard).primary(), &sql).await;
    assert!(there.is_empty());
}

#[tokio::test]
async fn show_warnings_is_about_the_sessions_last_statement() {
    let h = harness();
    let mut conn = h.conn().await;
    let v: Option<i64> = conn
        .query_first("SELECT CAST('12x' AS SIGNED)")
        .await
        .unwrap();
    assert_eq!(v, Some(12));
    let warnings: Vec<(String, u32, String)> = conn.query("SHOW WARNINGS").await.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].1, 1292, "{warnings:?}");
    // The next statement has none.
    let _: Option<i64> = conn.query_first("SELECT 1").await.unwrap();
    let warnings: Vec<(String, u32, String)> = conn.query("SHOW WARNINGS").await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    // Inside a transaction: the branch that ran the statement.
    conn.query_drop("BEGIN").await.unwrap();
    let _: Option<i64> = conn
        .query_first("SELECT CAST('7y' AS SIGNED)")
        .await
        .unwrap();
    let warnings: Vec<(String, u32, String)> = conn.query("SHOW WARNINGS").await.unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    conn.query_drop("COMMIT").await.unwrap();
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn kill_query_from_another_connection_interrupts_a_running_statement() {
    let h = harness();
    let mut victim = h.conn().await;
    let id = victim.id();
    let started = std::time::Instant::now();
    let running = tokio::spawn(async move {
        let result: Result<Option<i64>, _> = victim.query_first("SELECT SLEEP(20)").await;
        (result, victim)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut killer = h.conn().await;
    killer.query_drop(format!("KILL QUERY {id}")).await.unwrap();
    let (result, mut victim) = tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("the statement was not interrupted")
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // MariaDB ends an interrupted SLEEP early with 1 (or error 1317).
    match result {
        Ok(v) => assert_eq!(v, Some(1)),
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1317, "{e:?}"),
        Err(e) => panic!("{e:?}"),
    }
    // The victim's session goes on.
    let one: Option<i64> = victim.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    let unknown = killer.query_drop("KILL QUERY 999999").await.unwrap_err();
    assert!(unknown.to_string().contains("1094"), "{unknown}");
    victim.disconnect().await.unwrap();
    killer.disconnect().await.unwrap();
}

#[tokio::test]
async fn a_transaction_opened_inside_a_procedure_keeps_its_connection() {
    let h = harness();
    h.topo
        .mysql(0)
        .primary()
        .execute(
            "CREATE PROCEDURE opens_txn() BEGIN START TRANSACTION; \
             INSERT INTO settings (k, v) VALUES ('procedure', 'x'); END",
        )
        .await
        .unwrap();
    let mut conn = h.conn().await;
    conn.query_drop("CALL opens_txn()").await.unwrap();
    // Still the same server transaction: the row is visible here, not yet elsewhere.
    let mine: Option<String> = conn
        .query_first("SELECT v FROM settings WHERE k = 'procedure'")
        .await
        .unwrap();
    assert_eq!(mine.as_deref(), Some("x"));
    let outside = rows_on(
        h.topo.mysql(0).primary(),
        "SELECT v FROM settings WHERE k = 'procedure'",
    )
    .await;
    assert!(outside.is_empty(), "committed before COMMIT");
    conn.query_drop("COMMIT").await.unwrap();
    let outside = rows_on(
        h.topo.mysql(0).primary(),
        "SELECT v FROM settings WHERE k = 'procedure'",
    )
    .await;
    assert_eq!(outside, vec![vec![Some("x".to_string())]]);
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn session_state_rules_of_mysql_hold_through_the_proxy() {
    let h = harness();
    let mut conn = h.conn().await;
    // autocommit = 0 and a schema change: it commits implicitly and runs outside XA.
    conn.query_drop("SET autocommit = 0").await.unwrap();
    conn.query_drop("INSERT INTO settings (k, v) VALUES ('ac0', 'kept')")
        .await
        .unwrap();
    conn.query_drop("CREATE TABLE IF NOT EXISTS ddl_in_ac0 (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let committed = rows_on(
        h.topo.mysql(0).primary(),
        "SELECT v FROM settings WHERE k = 'ac0'",
    )
    .await;
    assert_eq!(
        committed,
        vec![vec![Some("kept".to_string())]],
        "DDL commits the open transaction"
    );
    conn.query_drop("ROLLBACK").await.unwrap();
    conn.query_drop("SET autocommit = 1").await.unwrap();
    // COMMIT AND CHAIN opens the next transaction at once.
    conn.query_drop("BEGIN").await.unwrap();
    conn.query_drop("COMMIT AND CHAIN").await.unwrap();
    conn.query_drop("INSERT INTO settings (k, v) VALUES ('chained', 'x')")
        .await
        .unwrap();
    conn.query_drop("ROLLBACK").await.unwrap();
    let chained = rows_on(
        h.topo.mysql(0).primary(),
        "SELECT v FROM settings WHERE k = 'chained'",
    )
    .await;
    assert!(
        chained.is_empty(),
        "the INSERT after COMMIT AND CHAIN was inside a transaction"
    );
    // SET TRANSACTION READ ONLY: only the next transaction.
    conn.query_drop("SET TRANSACTION READ ONLY").await.unwrap();
    conn.query_drop("BEGIN").await.unwrap();
    let refused = conn
        .query_drop("INSERT INTO settings (k, v) VALUES ('ro', 'x')")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("READ ONLY"), "{refused}");
    conn.query_drop("COMMIT").await.unwrap();
    conn.query_drop("BEGIN").await.unwrap();
    conn.query_drop("INSERT INTO settings (k, v) VALUES ('rw', 'x')")
        .await
        .unwrap();
    conn.query_drop("COMMIT").await.unwrap();
    // User variables: assignments that build on each other replay in order.
    conn.query_drop("SET @n = 0").await.unwrap();
    conn.query_drop("SET @n = @n + 1").await.unwrap();
    conn.query_drop("SET @n = @n + 1").await.unwrap();
    for _ in 0..5 {
        let n: Option<i64> = conn.query_first("SELECT @n").await.unwrap();
        assert_eq!(n, Some(2));
    }
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn several_statements_need_client_multi_statements() {
    use tokio::io::AsyncWriteExt;
    let h = harness();
    // raw_login negotiates CLIENT_MULTI_STATEMENTS; turn it off with COM_SET_OPTION.
    let mut s = raw_login(h).await;
    s.write_all(&[3, 0, 0, 0, 0x1b, 1, 0]).await.unwrap();
    let (_, eof) = read_packet(&mut s).await.unwrap();
    assert_eq!(<[u8]>::first(&eof), Some(&0xFE), "{eof:?}");
    let sql = b"\x03SELECT 1; SELECT 2";
    let mut packet = vec![sql.len() as u8, 0, 0, 0];
    packet.extend_from_slice(sql);
    s.write_all(&packet).await.unwrap();
    let (_, reply) = read_packet(&mut s).await.unwrap();
    assert_eq!(err_code(&reply), Some(1064), "{reply:?}");
}

#[tokio::test]
async fn admin_console_in_mysql_result_sets_and_reload_errors() {
    let h = harness();
    let mut admin = h.conn().await;
    let clients: Vec<mysql_async::Row> = admin.query("SHOW shardwire.clients").await.unwrap();
    let columns: Vec<String> = clients[0]
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    assert_eq!(
        columns,
        [
            "id",
            "protocol",
            "user",
            "database",
            "address",
            "state",
            "connected_s",
            "requests"
        ]
    );
    let mine = clients
        .iter()
        .filter(|r| {
            r.get::<String, _>(1).as_deref() == Some("mysql")
                && r.get::<String, _>(5).as_deref() == Some("active")
        })
        .count();
    assert!(mine >= 1, "the asking connection is listed as active");
    // RELOAD re-reads the harness's config file: unchanged, it succeeds and the session
    // goes on; an invalid file is refused with error 1105 naming the key, and the running
    // config stays.
    admin.query_drop("RELOAD shardwire").await.unwrap();
    let after: Vec<mysql_async::Row> = admin.query("SHOW shardwire.shards").await.unwrap();
    assert_eq!(after.len(), 2);
    std::fs::write(
        &h.config_path,
        h.config_toml.replace("pool_size = 24", "pool_size = -1"),
    )
    .unwrap();
    let refused = admin
        .query_drop("SET shardwire.reload = on")
        .await
        .unwrap_err();
    std::fs::write(&h.config_path, &h.config_toml).unwrap();
    match refused {
        mysql_async::Error::Server(e) => {
            assert_eq!(e.code, 1105, "{}", e.message);
            assert!(e.message.contains("proxy.pool_size"), "{}", e.message);
            assert!(e.message.contains("running one stays"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let still: Vec<u64> = admin.query("SELECT 1").await.unwrap();
    assert_eq!(still, [1]);
    let mut plain = mysql_async::Conn::new(h.opts("sha2", "sha2pass"))
        .await
        .unwrap();
    for statement in [
        "RELOAD shardwire",
        "SET shardwire.reload = 1",
        "SHOW shardwire.pools",
    ] {
        match plain.query_drop(statement).await.unwrap_err() {
            mysql_async::Error::Server(e) => assert_eq!(e.code, 1227, "{statement}: {}", e.message),
            other => panic!("{statement}: {other:?}"),
        }
    }
    plain.disconnect().await.unwrap();
    admin.disconnect().await.unwrap();
}

#[tokio::test]
async fn max_client_connections_refuses_with_1040_while_others_go_on() {
    let h = harness();
    // A proxy of its own on the same shards, so the limit cannot refuse the other tests
    // of this binary.
    let limited = h.config_toml.replacen(
        "pool_size = 24",
        "pool_size = 24\nmax_client_connections = 2",
        1,
    );
    let config = shardwire_conf::Config::from_toml_str(&limited).unwrap();
    let proxy = shardwire::server::start(config).await.unwrap();
    let opts = h
        .opts("app", "app")
        .tcp_port(proxy.mysql_addr.unwrap().port());
    let mut first = mysql_async::Conn::new(opts.clone()).await.unwrap();
    let mut second = mysql_async::Conn::new(opts.clone()).await.unwrap();
    match mysql_async::Conn::new(opts.clone()).await {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1040, "{}", e.message);
            assert!(
                e.message.contains("max_client_connections"),
                "{}",
                e.message
            );
        }
        other => panic!(
            "expected error 1040, got {:?}",
            other.map(|_| "a connection")
        ),
    }
    // The connections already there go on; a freed slot is usable again.
    for conn in [&mut first, &mut second] {
        let one: Vec<u64> = conn.query("SELECT 1").await.unwrap();
        assert_eq!(one, [1]);
    }
    second.disconnect().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut third = loop {
        match mysql_async::Conn::new(opts.clone()).await {
            Ok(conn) => break conn,
            Err(e) => assert!(
                std::time::Instant::now() < deadline,
                "no slot after a close: {e}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    third.query_drop("SELECT 1").await.unwrap();
    third.disconnect().await.unwrap();
    first.disconnect().await.unwrap();
}
