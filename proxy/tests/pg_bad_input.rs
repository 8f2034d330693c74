//! Bad bytes from one client get that client a protocol error and a closed connection;
//! a client connected at the same time keeps working throughout.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::raw::{sqlstate, Raw};
use common::{Harness, Spec};

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        common::start(Spec {
            shards: 2,
            replicas: 0,
            pool_size: 4,
            proxy_extra: "",
            tables: "\n  [[databases.tables]]\n  name = \"t\"\n  shard_key = \"id\"\n  key_type = \"bigint\"\n",
            admin: false,
            schema: "CREATE TABLE t (id bigint PRIMARY KEY, v text);",
        })
    })
}

/// A well-behaved client that must be unaffected.
async fn bystander_works(client: &tokio_postgres::Client, i: i64) {
    client
        .execute(
            "INSERT INTO t (id, v) VALUES ($1, 'ok') ON CONFLICT (id) DO NOTHING",
            &[&i],
        )
        .await
        .unwrap();
    let row = client
        .query_one("SELECT count(*) FROM t WHERE id = $1", &[&i])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_at_startup_gets_an_error_and_a_close() {
    let h = harness();
    let bystander = h.client().await;
    bystander_works(&bystander, 1).await;
    let mut raw = Raw::connect(h.port).await;
    raw.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (tag, body) = raw.read_frame().await.expect("an error before closing");
    assert_eq!(tag, b'E');
    assert_eq!(sqlstate(&body), "08P01");
    assert!(raw.closed().await);
    // Bytes that announce a sane length but are not a protocol.
    let mut raw = Raw::connect(h.port).await;
    raw.send(&[0, 0, 0, 12, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4])
        .await;
    let (tag, _) = raw.read_frame().await.expect("an error before closing");
    assert_eq!(tag, b'E');
    assert!(raw.closed().await);
    bystander_works(&bystander, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_announcing_two_gigabytes_is_refused() {
    let h = harness();
    let bystander = h.client().await;
    let mut raw = Raw::login(h.port).await;
    raw.send(&[b'Q', 0x7f, 0xff, 0xff, 0xff]).await;
    let (tag, body) = raw.read_frame().await.expect("an error before closing");
    assert_eq!(tag, b'E');
    assert_eq!(sqlstate(&body), "08P01");
    assert!(raw.closed().await);
    bystander_works(&bystander, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_message_tag_is_refused() {
    let h = harness();
    let bystander = h.client().await;
    let mut raw = Raw::login(h.port).await;
    raw.send_frame(b'?', b"what").await;
    let (tag, body) = raw.read_frame().await.expect("an error before closing");
    assert_eq!(tag, b'E');
    assert_eq!(sqlstate(&body), "08P01");
    assert!(raw.closed().await);
    bystander_works(&bystander, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_with_the_wrong_parameter_count_is_an_error() {
    let h = harness();
    let bystander = h.client().await;
    let mut raw = Raw::login(h.port).await;
    let mut parse = b"s1\0SELECT v FROM t WHERE id = $1\0".to_vec();
    parse.extend_from_slice(&0i16.to_be_bytes());
    raw.send_frame(b'P', &parse).await;
    // Bind with zero parameters for a statement that needs one.
    let mut bind = b"\0s1\0".to_vec();
    bind.extend_from_slice(&0i16.to_be_bytes());
    bind.extend_from_slice(&0i16.to_be_bytes());
    bind.extend_from_slice(&0i16.to_be_bytes());
    raw.send_frame(b'B', &bind).await;
    raw.send_frame(b'E', b"\0\0\0\0\0").await;
    raw.send_frame(b'S', b"").await;
    let (tags, codes) = raw.read_until_ready().await;
    assert!(tags.contains(&b'E'), "got {tags:?}");
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(
        codes[0] == "08P01" || codes[0].starts_with("22") || codes[0] == "42P02",
        "{codes:?}"
    );
    assert_eq!(tags.last(), Some(&b'Z'));
    // A malformed Bind (truncated body) ends the connection.
    raw.send_frame(b'B', b"\0s1\0\x00").await;
    raw.send_frame(b'S', b"").await;
    let (tag, body) = raw.read_frame().await.expect("an error");
    assert_eq!(tag, b'E');
    assert_eq!(sqlstate(&body), "08P01");
    assert!(raw.closed().await);
    bystander_works(&bystander, 5).await;
}
