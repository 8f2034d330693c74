//! Shared fixtures of the routing tests: a four-shard schema with one sharded table per
//! key type, a reference table, and helpers that compute expected shards with the
//! sharding function itself.

#![allow(dead_code)]

use std::num::NonZeroU32;

use shardwire_router::hash::{parse_uuid, shard_of, ShardKey};
use shardwire_router::{Dialect, KeyType, RouteError, Router, Schema, Spread};

/// Shards in the test schema.
pub const SHARDS: u32 = 4;

/// The test schema: `accounts(id bigint)`, `users(name text)`, `sessions(sid uuid)`,
/// `events(k smallint)`, `orders(account_id integer)`, reference `countries`; any other
/// table is unsharded.
pub fn schema(shards: u32) -> Schema {
    Schema::new(NonZeroU32::new(shards).expect("non-zero"))
        .with_sharded("accounts", "id", KeyType::Bigint)
        .with_sharded("users", "name", KeyType::Text)
        .with_sharded("sessions", "sid", KeyType::Uuid)
        .with_sharded("events", "k", KeyType::Smallint)
        .with_sharded("orders", "account_id", KeyType::Integer)
        .with_reference("countries")
}

/// The schema of the scatter tests, with co-locatable keys: `customers(id bigint)`,
/// `orders(customer_id bigint)`, `items(customer_id integer)`, `users(name text)`,
/// reference `countries`; any other table is unsharded.
pub fn shop(shards: u32) -> Schema {
    Schema::new(NonZeroU32::new(shards).expect("non-zero"))
        .with_sharded("customers", "id", KeyType::Bigint)
        .with_sharded("orders", "customer_id", KeyType::Bigint)
        .with_sharded("items", "customer_id", KeyType::Integer)
        .with_sharded("users", "name", KeyType::Text)
        .with_reference("countries")
}

/// A PostgreSQL router over [`shop`] with [`SHARDS`] shards.
pub fn shop_router() -> Router {
    Router::new(shop(SHARDS), Dialect::Postgres)
}

/// A PostgreSQL router over [`schema`] with [`SHARDS`] shards.
pub fn router() -> Router {
    Router::new(schema(SHARDS), Dialect::Postgres)
}

fn shards() -> NonZeroU32 {
    NonZeroU32::new(SHARDS).expect("non-zero")
}

/// The shard of an integer key.
pub fn int(value: i64) -> Option<u32> {
    Some(shard_of(&ShardKey::Int(value), shards()))
}

/// The shard of a text key.
pub fn text(value: &str) -> Option<u32> {
    Some(shard_of(&ShardKey::Text(value.as_bytes()), shards()))
}

/// The shard of a uuid key.
pub fn uuid(value: &str) -> Option<u32> {
    let bytes = parse_uuid(value).expect("valid uuid");
    Some(shard_of(&ShardKey::Uuid(bytes), shards()))
}

/// Two integer keys on different shards, and one more on the first one's shard.
pub fn keys_on_two_shards() -> (i64, i64, i64) {
    let a = 1;
    let b = (2..).find(|&k| int(k) != int(a)).expect("another shard");
    let c = (b + 1..).find(|&k| int(k) == int(a)).expect("same shard");
    (a, b, c)
}

/// The one shard of a single-statement query string.
pub fn shard(router: &Router, sql: &str) -> Result<Option<u32>, RouteError> {
    router.route_simple(sql)?.single_shard()
}

/// The spread of a one-statement query string that writes several shards.
pub fn spread(router: &Router, sql: &str) -> Spread {
    let routed = router
        .route_simple(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(routed.single_shard().is_err(), "{sql}: single shard");
    routed
        .spread
        .unwrap_or_else(|| panic!("{sql}: not spread: {:?}", routed.plan.statements[0].target))
}

/// Asserts that `sql` is refused with `sqlstate` and a message containing `needle`.
pub fn assert_refused(router: &Router, sql: &str, sqlstate: &str, needle: &str) {
    match router.route_simple(sql).and_then(|r| r.single_shard()) {
        Ok(shard) => panic!("{sql}: routed to {shard:?}, expected {sqlstate}"),
        Err(err) => {
            assert_eq!(err.sqlstate, sqlstate, "{sql}: {}", err.message);
            assert!(
                err.message.contains(needle),
                "{sql}: message {:?} lacks {needle:?}",
                err.message
            );
            assert!(err.message.starts_with("shardwire: "), "{}", err.message);
        }
    }
}
