//! The plan cache (issue 3, item 5): a repeated statement shape is not parsed again,
//! whatever its literals, comments or spacing; the cache stays bounded; hot plans stay.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{int, router, text};
use shardwire_router::{Dialect, Router};

#[test]
fn a_repeated_statement_shape_is_parsed_once() {
    let router = router();
    let first = router
        .route_simple("SELECT * FROM accounts WHERE id = 1")
        .unwrap();
    let second = router
        .route_simple("select * from accounts where id = 2")
        .unwrap();
    // Different case of keywords is a different text: only literals, comments and
    // spacing are normalized away.
    assert_eq!(router.stats().parses, 2);
    let third = router
        .route_simple("SELECT * FROM accounts  -- again\n WHERE id = /* two */ 2")
        .unwrap();
    assert!(Arc::ptr_eq(&first.plan, &third.plan));
    assert_eq!(third.shards, [int(2)]);
    assert_eq!(second.shards, [int(2)]);
    let stats = router.stats();
    assert_eq!(stats.parses, 2, "the third query hit the cache");
    assert_eq!(stats.simple.hits, 1);
    assert_eq!(stats.simple.misses, 2);
    assert_eq!(stats.simple.entries, 2);
}

#[test]
fn cached_plans_resolve_with_each_querys_own_literals() {
    let router = router();
    for name in ["alice", "bob", "carol", "dave"] {
        let routed = router
            .route_simple(&format!("UPDATE users SET n = n + 1 WHERE name = '{name}'"))
            .unwrap();
        assert_eq!(routed.single_shard(), Ok(text(name)), "{name}");
    }
    assert_eq!(router.stats().parses, 1);
}

#[test]
fn multi_statement_strings_are_cached_whole() {
    let router = router();
    for id in 1..=5 {
        let routed = router
            .route_simple(&format!(
                "BEGIN; UPDATE accounts SET b = 1 WHERE id = {id}; COMMIT"
            ))
            .unwrap();
        assert_eq!(routed.single_shard(), Ok(int(id)));
    }
    assert_eq!(router.stats().parses, 1);
    assert_eq!(router.stats().simple.entries, 1);
}

#[test]
fn keyword_statements_are_not_cached() {
    let router = router();
    for i in 0..10 {
        router
            .route_simple(&format!("SET application_name = 'client {i}'"))
            .unwrap();
        router.route_simple("BEGIN").unwrap();
    }
    let stats = router.stats();
    assert_eq!(stats.simple.entries, 0);
    assert_eq!(stats.parses, 0);
}

#[test]
fn the_cache_is_bounded() {
    let router = Router::with_cache_capacity(common::schema(4), Dialect::Postgres, 32);
    for i in 0..500 {
        router
            .route_simple(&format!("SELECT * FROM table_{i} WHERE id = 1"))
            .unwrap();
    }
    let stats = router.stats().simple;
    assert!(stats.entries <= 32, "{stats:?}");
    assert_eq!(stats.evictions as usize, 500 - stats.entries);
}

#[test]
fn plans_in_use_survive_eviction() {
    let router = Router::with_cache_capacity(common::schema(4), Dialect::Postgres, 320);
    let hot = "SELECT * FROM accounts WHERE id = 7";
    router.route_simple(hot).unwrap();
    for i in 0..2_000 {
        router
            .route_simple(&format!("SELECT * FROM table_{i} WHERE id = 1"))
            .unwrap();
        router.route_simple(hot).unwrap();
    }
    let parses = router.stats().parses;
    assert_eq!(parses, 2_001, "the hot statement was parsed once");
    router.route_simple(hot).unwrap();
    assert_eq!(router.stats().parses, parses);
}

#[test]
fn one_router_serves_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Router>();
    let router = Arc::new(router());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let router = Arc::clone(&router);
            std::thread::spawn(move || {
                for i in 0..500i64 {
                    let id = t * 1000 + i;
                    let routed = router
                        .route_simple(&format!("SELECT * FROM accounts WHERE id = {id}"))
                        .unwrap();
                    assert_eq!(routed.single_shard(), Ok(int(id)));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let stats = router.stats();
    assert!(stats.parses <= 4, "{stats:?}");
    assert_eq!(stats.simple.hits + stats.simple.misses, 2_000);
}
