//! Shared pieces of shardwire's fuzz targets (see `FUZZING.md`): running the proxy's
//! async readers over an in-memory stream, and the router fixture both router targets use.

#![allow(missing_docs)]

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use shardwire_router::{
    oid, Dialect, KeyType, ParamSource, ParamValue, Placement, Router, Schema, SpreadAction,
};

/// Runs a future whose reads come from a byte slice: such a reader never waits, so the
/// future completes on the first poll (anything else is a bug in the harness).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("a future over an in-memory reader did not complete");
}

/// The router fixture: two shards, one sharded table per key type, one reference table
/// (the shapes `shardwire.toml` allows), as the proxy builds it from a config.
pub fn router(dialect: Dialect) -> Router {
    let schema = Schema::new(NonZeroU32::new(2).expect("non-zero"))
        .with_sharded("accounts", "id", KeyType::Bigint)
        .with_sharded("users", "name", KeyType::Text)
        .with_sharded("sessions", "sid", KeyType::Uuid)
        .with_sharded("orders", "account_id", KeyType::Bigint)
        .with_reference("countries");
    // A small cache, so that eviction runs too.
    Router::with_cache_capacity(schema, dialect, 64)
}

/// Bind parameters cut from fuzz bytes: `(bytes, binary, type)` per parameter.
pub struct FuzzParams<'a>(pub Vec<(Option<&'a [u8]>, bool, u32)>);

impl ParamSource for FuzzParams<'_> {
    fn param(&self, n: u16) -> Option<ParamValue<'_>> {
        let (bytes, binary, type_oid) = *self.0.get(usize::from(n).checked_sub(1)?)?;
        Some(ParamValue {
            bytes,
            binary,
            type_oid,
        })
    }
}

const TYPES: &[u32] = &[
    0,
    oid::INT2,
    oid::INT4,
    oid::INT8,
    oid::TEXT,
    oid::VARCHAR,
    oid::UUID,
    oid::BPCHAR,
    oid::NAME,
    oid::UNKNOWN,
    oid::INT2_ARRAY,
    oid::INT4_ARRAY,
    oid::INT8_ARRAY,
    oid::TEXT_ARRAY,
    oid::VARCHAR_ARRAY,
    oid::UUID_ARRAY,
];

/// Splits fuzz bytes into SQL text and a parameter section: `sql \0 params`. Parameters
/// are `[flags, len, bytes…]` records (flags: bit 0 binary, bit 1 NULL, bits 2.. type).
pub fn split_input(data: &[u8]) -> (&[u8], FuzzParams<'_>, Vec<u32>) {
    let (sql, mut rest) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let mut params = Vec::new();
    let mut types = Vec::new();
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (bytes, tail) = tail.split_at(n);
        let type_oid = TYPES[usize::from(flags >> 2) % TYPES.len()];
        let value = (flags & 2 == 0).then_some(bytes);
        params.push((value, flags & 1 != 0, type_oid));
        types.push(type_oid);
        rest = tail;
    }
    (sql, FuzzParams(params), types)
}

/// One router target: normalize the text in the router's dialect, route it as a simple
/// query (rendering the shard SQL of scattered reads and splitting spread inserts, as the
/// executors do), and prepare and resolve it with the fuzzed parameters.
pub fn route(router: &Router, data: &[u8]) {
    let (sql, params, types) = split_input(data);
    let Ok(sql) = std::str::from_utf8(sql) else {
        return;
    };
    // The raw normalizer in both dialects: literals are pieces of the text as written.
    for dialect in [Dialect::Postgres, Dialect::MySql] {
        let normalized = shardwire_router::normalize_for(sql, dialect);
        let range = sql.as_bytes().as_ptr_range();
        for literal in &normalized.literals {
            let at = literal.text.as_bytes().as_ptr_range();
            assert!(
                range.start <= at.start && at.end <= range.end,
                "literal outside the text"
            );
            let _ = literal.value();
        }
        let _ = normalized.statements().count();
    }
    let shards = NonZeroU32::new(router.schema().shard_count()).expect("non-zero");
    let in_range = |shard: &Option<u32>| shard.is_none_or(|s| s < shards.get());
    if let Ok(routed) = router.route_simple(sql) {
        assert!(routed.shards.iter().all(in_range), "shard out of range");
        let _ = routed.single_shard();
        let literals = &router.normalize(sql).literals;
        if let Some(scattered) = &routed.scatter {
            let _ = scattered.plan.shard_sql.render(literals);
        }
        if let Some(spread) = &routed.spread {
            if let SpreadAction::SplitInsert(split) = &spread.plan.action {
                let _ = split.split(shards, literals);
            }
        }
    }
    if let Ok(plan) = router.prepare(sql, &types) {
        if let Ok(resolved) = plan.resolve(&[], &params) {
            assert!(resolved.iter().all(in_range), "shard out of range");
        }
        for statement in &plan.statements {
            if let Ok(Placement::Many(list)) = statement.place(shards, &[], &params) {
                assert!(list.iter().all(|s| *s < shards.get()), "shard out of range");
            }
        }
    }
}
