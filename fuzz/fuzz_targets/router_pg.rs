//! The PostgreSQL router over arbitrary text: `sql \0 params` (see `split_input`).
//! Normalizing, routing, rendering, preparing and resolving never panic, and every shard
//! number is in range.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shardwire_fuzz::{route, router};
use shardwire_router::{Dialect, Router};

fuzz_target!(|data: &[u8]| {
    // One router for the whole run, as the proxy shares one per database: the plan cache
    // carries state from one input to the next.
    static ROUTER: OnceLock<Router> = OnceLock::new();
    route(ROUTER.get_or_init(|| router(Dialect::Postgres)), data);
});
