//! Transactions across shards against two real PostgreSQL shards: lazy enlistment, one
//! phase for one written shard, two-phase commit with the decision in the backends for
//! several, rollback everywhere on failure. Facts are checked on the shards directly:
//! rows, and that no `sw_` prepared transaction is left behind.

#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroU32;
use std::sync::OnceLock;

use common::{Harness, Spec};
use shardwire_router::hash::{shard_of, ShardKey};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 0,
            pool_size: 20,
            proxy_extra: "transaction_lock_timeout = \"1s\"",
            tables: "\n  [[databases.tables]]\n  name = \"accounts\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n\n  [[databases.tables]]\n  name = \"uniq\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n\n  [[databases.tables]]\n  name = \"regions\"\n  reference = true\n",
            admin: true,
            schema: "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= -1000000));
                     CREATE TABLE uniq (id bigint PRIMARY KEY, code int UNIQUE DEFERRABLE INITIALLY DEFERRED);
                     CREATE TABLE regions (code text PRIMARY KEY, name text NOT NULL);",
        })
    })
}

fn shard(key: i64) -> usize {
    shard_of(&ShardKey::Int(key), NonZeroU32::new(2).unwrap()) as usize
}

/// Keys 1.. split by shard: (on shard 0, on shard 1).
fn keys(n: usize) -> (Vec<i64>, Vec<i64>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut k = 1;
    while a.len() < n || b.len() < n {
        if shard(k) == 0 {
            a.push(k)
        } else {
            b.push(k)
        }
        k += 1;
    }
    a.truncate(n);
    b.truncate(n);
    (a, b)
}

/// Keys reserved per test so tests do not collide: [base, base + 1000).
fn keys_from(base: i64, n: usize) -> (Vec<i64>, Vec<i64>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut k = base;
    while a.len() < n || b.len() < n {
        if shard(k) == 0 {
            a.push(k)
        } else {
            b.push(k)
        }
        k += 1;
    }
    a.truncate(n);
    b.truncate(n);
    (a, b)
}

async fn on_shard(i: usize, sql: &str) -> Option<String> {
    harness()
        .topo
        .pg(i)
        .primary()
        .query_value(sql)
        .await
        .unwrap()
}

/// Prepared `sw_` transactions left behind. Waits 3.5 s and counts those older than 3 s:
/// whatever the calling test left is counted, the two-phase commits other tests of this
/// binary have in flight (milliseconds old) are not.
async fn prepared_left() -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let mut n = 0;
    for i in 0..2 {
        n += on_shard(
            i,
            "SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'sw\\_%' \
             AND prepared < now() - interval '3 seconds'",
        )
        .await
        .unwrap()
        .parse::<i64>()
        .unwrap();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_across_shards_commits_on_both() {
    let (a, b) = keys_from(1000, 1);
    let (a, b) = (a[0], b[0]);
    let c = harness().client().await;
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({a}, 100); INSERT INTO accounts (id, balance) VALUES ({b}, 100)"
    ))
    .await
    .unwrap_err(); // two shards in one query string outside a transaction: refused
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({a}, 100)"
    ))
    .await
    .unwrap();
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({b}, 100)"
    ))
    .await
    .unwrap();
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!(
        "UPDATE accounts SET balance = balance - 30 WHERE id = {a}"
    ))
    .await
    .unwrap();
    c.batch_execute(&format!(
        "UPDATE accounts SET balance = balance + 30 WHERE id = {b}"
    ))
    .await
    .unwrap();
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        on_shard(0, &format!("SELECT balance FROM accounts WHERE id = {a}"))
            .await
            .as_deref(),
        Some("70")
    );
    assert_eq!(
        on_shard(1, &format!("SELECT balance FROM accounts WHERE id = {b}"))
            .await
            .as_deref(),
        Some("130")
    );
    assert_eq!(prepared_left().await, 0);
    // The decision row of that 2PC exists until recovery collects it (or never existed
    // if recovery already ran): either way, nothing is prepared.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_and_failures_leave_nothing_on_any_shard() {
    let (a, b) = keys_from(2000, 2);
    let c = harness().client().await;
    // ROLLBACK after writing both shards.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({}, 1)",
        a[0]
    ))
    .await
    .unwrap();
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({}, 1)",
        b[0]
    ))
    .await
    .unwrap();
    c.batch_execute("ROLLBACK").await.unwrap();
    // An error on the second shard: COMMIT answers ROLLBACK.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({}, 1)",
        a[1]
    ))
    .await
    .unwrap();
    let err = c
        .batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({}, -5000000)",
            b[1]
        ))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "23514");
    let err = c
        .batch_execute(&format!("SELECT * FROM accounts WHERE id = {}", a[1]))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "25P02");
    c.batch_execute("COMMIT").await.unwrap();
    for k in a.iter().chain(&b) {
        let s = shard(*k);
        assert_eq!(
            on_shard(s, &format!("SELECT count(*) FROM accounts WHERE id = {k}"))
                .await
                .as_deref(),
            Some("0"),
            "key {k}"
        );
    }
    assert_eq!(prepared_left().await, 0);
    // The session is usable afterwards.
    c.batch_execute(&format!(
        "INSERT INTO accounts (id, balance) VALUES ({}, 1)",
        a[0]
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepare_failure_rolls_back_everywhere_with_the_original_error() {
    let (a, b) = keys_from(3000, 2);
    let c = harness().client().await;
    c.batch_execute(&format!(
        "INSERT INTO uniq (id, code) VALUES ({}, 777)",
        b[0]
    ))
    .await
    .unwrap();
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!("INSERT INTO uniq (id, code) VALUES ({}, 1)", a[0]))
        .await
        .unwrap();
    // Deferred: the duplicate is only found when shard 1 prepares.
    c.batch_execute(&format!(
        "INSERT INTO uniq (id, code) VALUES ({}, 777)",
        b[1]
    ))
    .await
    .unwrap();
    let err = c.batch_execute("COMMIT").await.unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "23505", "{err}");
    assert_eq!(
        on_shard(
            shard(a[0]),
            &format!("SELECT count(*) FROM uniq WHERE id = {}", a[0])
        )
        .await
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        on_shard(
            shard(b[1]),
            &format!("SELECT count(*) FROM uniq WHERE id = {}", b[1])
        )
        .await
        .as_deref(),
        Some("0")
    );
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_on_another_shard_join_without_two_phase_commit() {
    let (a, b) = keys(1);
    let c = harness().client().await;
    c.batch_execute("BEGIN").await.unwrap();
    c.query(&format!("SELECT * FROM accounts WHERE id = {}", b[0]), &[])
        .await
        .unwrap();
    c.batch_execute(&format!("INSERT INTO accounts (id, balance) VALUES ({}, 5) ON CONFLICT (id) DO UPDATE SET balance = 5", a[0])).await.unwrap();
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        on_shard(
            0,
            &format!("SELECT balance FROM accounts WHERE id = {}", a[0])
        )
        .await
        .as_deref(),
        Some("5")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transfers_keep_the_total() {
    let (a, b) = keys_from(10_000, 10);
    let ids: Vec<i64> = a.into_iter().chain(b).collect();
    let setup = harness().client().await;
    for id in &ids {
        setup
            .batch_execute(&format!(
                "INSERT INTO accounts (id, balance) VALUES ({id}, 1000)"
            ))
            .await
            .unwrap();
    }
    let total = |ids: Vec<i64>| async move {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let mut sum = 0i64;
        for s in 0..2 {
            sum += on_shard(
                s,
                &format!(
                    "SELECT coalesce(sum(balance), 0) FROM accounts WHERE id IN ({})",
                    list.join(",")
                ),
            )
            .await
            .unwrap()
            .parse::<i64>()
            .unwrap();
        }
        sum
    };
    assert_eq!(total(ids.clone()).await, 20_000);
    // Lock waits across shards are cut by the proxy's transaction_lock_timeout (1s here):
    // deadlocks no single shard can see become errors, and the client rolls back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut tasks = Vec::new();
    for worker in 0..16u64 {
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let c = harness().client().await;
            let (mut ok, mut failed) = (0, 0);
            let mut x = worker * 7919 + 1;
            while std::time::Instant::now() < deadline {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let from = ids[(x >> 33) as usize % ids.len()];
                let to = ids[(x >> 13) as usize % ids.len()];
                if from == to {
                    continue;
                }
                let amount = (x % 50) as i64 + 1;
                let result = async {
                    c.batch_execute("BEGIN").await?;
                    c.batch_execute(&format!(
                        "UPDATE accounts SET balance = balance - {amount} WHERE id = {from}"
                    ))
                    .await?;
                    c.batch_execute(&format!(
                        "UPDATE accounts SET balance = balance + {amount} WHERE id = {to}"
                    ))
                    .await?;
                    c.batch_execute("COMMIT").await
                }
                .await;
                match result {
                    Ok(()) => ok += 1,
                    Err(_) => {
                        failed += 1;
                        c.batch_execute("ROLLBACK").await.unwrap();
                    }
                }
            }
            (ok, failed)
        }));
    }
    let mut committed = 0;
    for t in tasks {
        let (ok, _failed) = t.await.unwrap();
        committed += ok;
    }
    assert!(committed > 50, "only {committed} transfers committed");
    assert_eq!(total(ids).await, 20_000);
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_row_insert_is_split_and_atomic() {
    let (a, b) = keys_from(20_000, 3);
    let c = harness().client().await;
    let rows: Vec<String> = a.iter().chain(&b).map(|k| format!("({k}, 10)")).collect();
    let tag = c
        .execute(
            &format!(
                "INSERT INTO accounts (id, balance) VALUES {}",
                rows.join(", ")
            ),
            &[],
        )
        .await;
    // The extended protocol refuses a split (tokio-postgres' execute is extended).
    assert!(tag.is_err());
    let done = c
        .simple_query(&format!(
            "INSERT INTO accounts (id, balance) VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
    let count = done.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
        _ => None,
    });
    assert_eq!(count, Some(6));
    for k in a.iter().chain(&b) {
        assert_eq!(
            on_shard(
                shard(*k),
                &format!("SELECT balance FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("10")
        );
    }
    // One bad row (the CHECK fails on one shard only): no row lands anywhere.
    let (a2, b2) = keys_from(21_000, 2);
    let err = c
        .batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({}, 1), ({}, 1), ({}, 1), ({}, -99999999)",
            a2[0], a2[1], b2[0], b2[1]
        ))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "23514");
    for k in a2.iter().chain(&b2) {
        assert_eq!(
            on_shard(
                shard(*k),
                &format!("SELECT count(*) FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("0")
        );
    }
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_without_a_key_ddl_and_reference_writes_reach_every_shard() {
    let c = harness().client().await;
    // DDL on a configured table: every shard, atomically (an unconfigured table would
    // be unsharded and live on shard 0 only). Not on `accounts`: other tests of this
    // binary keep rows of it locked, and the DDL's table lock would wait for them.
    c.batch_execute("CREATE INDEX regions_name ON regions (name)")
        .await
        .unwrap();
    for i in 0..2 {
        assert_eq!(
            on_shard(
                i,
                "SELECT count(*) FROM pg_class WHERE relname = 'regions_name'"
            )
            .await
            .as_deref(),
            Some("1")
        );
    }
    // A reference table: the same row on every shard, one row reported.
    let done = c
        .simple_query("INSERT INTO regions (code, name) VALUES ('ber', 'Berlin')")
        .await
        .unwrap();
    assert!(done
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(1))));
    for i in 0..2 {
        assert_eq!(
            on_shard(i, "SELECT name FROM regions WHERE code = 'ber'")
                .await
                .as_deref(),
            Some("Berlin")
        );
    }
    // UPDATE without a shard key: every shard, counts summed.
    let (a, b) = keys_from(30_000, 2);
    for k in a.iter().chain(&b) {
        c.batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({k}, 7)"
        ))
        .await
        .unwrap();
    }
    let done = c
        .simple_query(
            "UPDATE accounts SET balance = 8 WHERE id >= 30000 AND id < 31000 AND balance = 7",
        )
        .await
        .unwrap();
    assert!(
        done.iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(4))),
        "{done:?}"
    );
    for k in a.iter().chain(&b) {
        assert_eq!(
            on_shard(
                shard(*k),
                &format!("SELECT balance FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("8")
        );
    }
    // A failing DDL on one shard leaves no shard changed.
    harness()
        .topo
        .pg(1)
        .primary()
        .execute("CREATE INDEX only_on_one ON regions (code, name)")
        .await
        .unwrap();
    let err = c
        .batch_execute("CREATE INDEX only_on_one ON regions (code, name)")
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "42P07");
    assert_eq!(
        on_shard(
            0,
            "SELECT count(*) FROM pg_class WHERE relname = 'only_on_one'"
        )
        .await
        .as_deref(),
        Some("0")
    );
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_csv_is_split_by_key_and_atomic() {
    use std::io::Write;
    let h = harness();
    let copy = |data: String| {
        let mut child = std::process::Command::new("psql")
            .args([
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                &h.url(),
                "-c",
                "COPY accounts (balance, id) FROM STDIN WITH (FORMAT csv, HEADER true)",
            ])
            .env("PGPASSWORD", "app")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(data.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let (a, b) = keys_from(40_000, 50);
    let mut data = String::from("balance,id\n");
    for k in a.iter().chain(&b) {
        data.push_str(&format!("\"{}\",{k}\n", k % 97));
    }
    let out = copy(data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("COPY 100"));
    for k in a.iter().chain(&b) {
        let want = (k % 97).to_string();
        assert_eq!(
            on_shard(
                shard(*k),
                &format!("SELECT balance FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some(want.as_str()),
            "key {k}"
        );
    }
    // A bad key on one row: nothing from this COPY lands on any shard.
    let (a, b) = keys_from(41_000, 5);
    let mut data = String::from("balance,id\n");
    for k in a.iter().chain(&b) {
        data.push_str(&format!("1,{k}\n"));
    }
    data.push_str("1,not-a-number\n");
    let out = copy(data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not-a-number"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for k in a.iter().chain(&b) {
        assert_eq!(
            on_shard(
                shard(*k),
                &format!("SELECT count(*) FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("0")
        );
    }
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drivers_binding_parameters_write_across_shards_too() {
    let (a, b) = keys_from(50_000, 3);
    let mut c = harness().client().await;
    for k in a.iter().chain(&b) {
        c.execute("INSERT INTO accounts (id, balance) VALUES ($1, 5)", &[k])
            .await
            .unwrap();
    }
    // Extended protocol, no shard key: every shard, one summed count.
    let n = c
        .execute(
            "UPDATE accounts SET balance = balance + $1 WHERE id >= $2 AND id < $3",
            &[&10i64, &50_000i64, &51_000i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 6);
    // Inside a transaction, with RETURNING rows from both shards.
    let tx = c.build_transaction().start().await.unwrap();
    let rows = tx
        .query(
            "UPDATE accounts SET balance = balance * 2 WHERE id = ANY($1) RETURNING id, balance",
            &[&vec![a[0], b[0]]],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.get::<_, i64>(1) == 30));
    tx.commit().await.unwrap();
    assert_eq!(
        on_shard(
            shard(b[0]),
            &format!("SELECT balance FROM accounts WHERE id = {}", b[0])
        )
        .await
        .as_deref(),
        Some("30")
    );
    assert_eq!(
        on_shard(
            shard(b[1]),
            &format!("SELECT balance FROM accounts WHERE id = {}", b[1])
        )
        .await
        .as_deref(),
        Some("15")
    );
    // A failure on one shard rolls back the others.
    let err = c
        .execute(
            "UPDATE accounts SET balance = balance - $1 WHERE id >= 50000 AND id < 51000",
            &[&20i64],
        )
        .await;
    assert!(err.is_ok(), "{err:?}");
    let err = c
        .execute(
            "UPDATE accounts SET balance = $1 WHERE id >= 50000 AND id < 51000",
            &[&-99_999_999i64],
        )
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "23514");
    assert_eq!(
        on_shard(
            shard(a[1]),
            &format!("SELECT balance FROM accounts WHERE id = {}", a[1])
        )
        .await
        .as_deref(),
        Some("-5")
    );
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_mixed_in_and_savepoints_cannot_split_a_transaction() {
    let (a, b) = keys_from(60_000, 1);
    let (a, b) = (a[0], b[0]);
    let c = harness().client().await;
    for k in [a, b] {
        c.batch_execute(&format!(
            "INSERT INTO accounts (id, balance) VALUES ({k}, 1)"
        ))
        .await
        .unwrap();
    }
    // COMMIT in the same query string as a statement for another shard: refused, the
    // transaction stays whole and is rolled back.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!("UPDATE accounts SET balance = 2 WHERE id = {a}"))
        .await
        .unwrap();
    let err = c
        .simple_query(&format!(
            "UPDATE accounts SET balance = 2 WHERE id = {b}; COMMIT"
        ))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "0A000", "{err}");
    c.batch_execute("ROLLBACK").await.unwrap();
    for k in [a, b] {
        assert_eq!(
            on_shard(
                shard(k),
                &format!("SELECT balance FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("1")
        );
    }
    // A savepoint pins the transaction to the shards it has.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!("UPDATE accounts SET balance = 3 WHERE id = {a}"))
        .await
        .unwrap();
    c.batch_execute("SAVEPOINT s1").await.unwrap();
    let err = c
        .batch_execute(&format!("UPDATE accounts SET balance = 3 WHERE id = {b}"))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "0A000", "{err}");
    c.batch_execute("ROLLBACK").await.unwrap();
    // And a transaction already on two shards refuses savepoints.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute(&format!("UPDATE accounts SET balance = 4 WHERE id = {a}"))
        .await
        .unwrap();
    c.batch_execute(&format!("UPDATE accounts SET balance = 4 WHERE id = {b}"))
        .await
        .unwrap();
    let err = c.batch_execute("SAVEPOINT s2").await.unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "0A000", "{err}");
    c.batch_execute("ROLLBACK").await.unwrap();
    for k in [a, b] {
        assert_eq!(
            on_shard(
                shard(k),
                &format!("SELECT balance FROM accounts WHERE id = {k}")
            )
            .await
            .as_deref(),
            Some("1")
        );
    }
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_across_shards_ends_in_an_error_even_when_the_client_sends_begin() {
    let (a, b) = keys_from(70_000, 2);
    let setup = harness().client().await;
    for k in a.iter().chain(&b) {
        setup
            .batch_execute(&format!(
                "INSERT INTO accounts (id, balance) VALUES ({k}, 1)"
            ))
            .await
            .unwrap();
    }
    let t1 = harness().client().await;
    let t2 = harness().client().await;
    // BEGIN through the extended protocol reaches the first shard as the client sent it.
    t1.execute("BEGIN", &[]).await.unwrap();
    t2.execute("BEGIN", &[]).await.unwrap();
    let set = |k: i64| format!("UPDATE accounts SET balance = balance + 1 WHERE id = {k}");
    t1.execute(&set(a[0]), &[]).await.unwrap(); // T1 starts on shard 0
    t2.execute(&set(b[0]), &[]).await.unwrap(); // T2 starts on shard 1
    t1.execute(&set(b[1]), &[]).await.unwrap(); // T1 joins shard 1
    t2.execute(&set(a[1]), &[]).await.unwrap(); // T2 joins shard 0
                                                // Each now waits on its own first shard for the other: no shard sees a cycle.
    let began = std::time::Instant::now();
    let (s1, s2) = (set(a[1]), set(b[1]));
    let (r1, r2) = tokio::join!(t1.execute(&s1, &[]), t2.execute(&s2, &[]));
    assert!(
        began.elapsed() < std::time::Duration::from_secs(10),
        "the deadlock hung"
    );
    let timed_out = [&r1, &r2]
        .iter()
        .filter(
            |r| matches!(r, Err(e) if e.as_db_error().map(|d| d.code().code()) == Some("55P03")),
        )
        .count();
    assert!(timed_out >= 1, "{r1:?} {r2:?}");
    t1.batch_execute("ROLLBACK").await.unwrap();
    t2.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(prepared_left().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extended_rollback_ends_a_transaction_the_proxy_failed() {
    let (a, _) = keys_from(80_000, 1);
    let a = a[0];
    let c = harness().client().await;
    c.batch_execute("BEGIN").await.unwrap();
    c.execute(
        &format!("INSERT INTO accounts (id, balance) VALUES ({a}, 1)"),
        &[],
    )
    .await
    .unwrap();
    // Refused by the proxy (a read across shards inside a transaction): the client's
    // transaction is failed, the server's is not.
    let err = c
        .query("SELECT count(*) FROM accounts", &[])
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "0A000", "{err}");
    let err = c
        .execute(&format!("SELECT * FROM accounts WHERE id = {a}"), &[])
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().unwrap().code().code(), "25P02", "{err}");
    // ROLLBACK through the extended protocol (how JDBC and Npgsql send it) ends it.
    c.execute("ROLLBACK", &[]).await.unwrap();
    assert_eq!(
        on_shard(
            shard(a),
            &format!("SELECT count(*) FROM accounts WHERE id = {a}")
        )
        .await
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        c.query_one("SELECT 1::int", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}
