//! Micro-benchmarks of the router's hot paths (DESIGN §11 budget: a raw-frame proxy
//! spends ~40 µs of CPU per query, so routing must stay a small share of it).
//!
//! - `route_simple/cached/*`: a simple-protocol query whose shape is in the plan cache
//!   (normalize + cache lookup + resolve): target ≤ 2 µs.
//! - `route_simple/cold/*`: the same with an empty cache (normalize + plan + insert +
//!   resolve): target ≤ 15 µs.
//! - `bind/resolve`: resolving a prepared plan from a binary Bind parameter.
//! - `hash/shard_of/*`: the sharding function alone.
//!
//! Run with `cargo bench -p shardwire-router --bench route`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::num::NonZeroU32;

use criterion::{BatchSize, Criterion};
use shardwire_router::hash::{parse_uuid, shard_of, ShardKey};
use shardwire_router::{oid, Dialect, KeyType, ParamValue, Router, Schema};

const POINT_SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213";

fn insert_10_rows() -> String {
    let rows: Vec<String> = (0..10)
        .map(|i| format!("(7, {i}, 'row {i}', 12.5)"))
        .collect();
    format!(
        "INSERT INTO pgbench_accounts (aid, bid, filler, abalance) VALUES {}",
        rows.join(", ")
    )
}

fn router() -> Router {
    let schema = Schema::new(NonZeroU32::new(4).unwrap())
        .with_sharded("pgbench_accounts", "aid", KeyType::Bigint)
        .with_reference("pgbench_branches");
    Router::new(schema, Dialect::Postgres)
}

fn route_simple(c: &mut Criterion) {
    let insert = insert_10_rows();
    let mut group = c.benchmark_group("route_simple");
    for (name, sql) in [("point_select", POINT_SELECT), ("insert_10_rows", &insert)] {
        let warm = router();
        warm.route_simple(sql).unwrap();
        group.bench_function(format!("normalize_only/{name}"), |b| {
            b.iter(|| shardwire_router::normalize(black_box(sql)))
        });
        group.bench_function(format!("cached/{name}"), |b| {
            b.iter(|| warm.route_simple(black_box(sql)).unwrap())
        });
        group.bench_function(format!("cold/{name}"), |b| {
            b.iter_batched_ref(
                router,
                |cold| cold.route_simple(black_box(sql)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn bind(c: &mut Criterion) {
    let router = router();
    let plan = router
        .prepare(
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
            &[oid::INT8],
        )
        .unwrap();
    let key = 48213i64.to_be_bytes();
    let params = [ParamValue::binary(&key, oid::INT8)];
    c.bench_function("bind/resolve", |b| {
        b.iter(|| plan.resolve(&[], black_box(&params)).unwrap())
    });
}

fn hash(c: &mut Criterion) {
    let shards = NonZeroU32::new(4).unwrap();
    let uuid = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let mut group = c.benchmark_group("hash/shard_of");
    group.bench_function("bigint", |b| {
        b.iter(|| shard_of(black_box(&ShardKey::Int(48213)), shards))
    });
    group.bench_function("text_16_bytes", |b| {
        b.iter(|| shard_of(black_box(&ShardKey::Text(b"user-0000048213x")), shards))
    });
    group.bench_function("uuid", |b| {
        b.iter(|| shard_of(black_box(&ShardKey::Uuid(uuid)), shards))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    route_simple(&mut criterion);
    bind(&mut criterion);
    hash(&mut criterion);
    criterion.final_summary();
}
