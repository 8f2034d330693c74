//! Test-only crash points for the two-phase-commit crash matrix: with
//! `SHARDWIRE_FAILPOINT=<name>` in the environment, the proxy process aborts the first time
//! it reaches that point, as a crash would (no cleanup, no unwinding). Names: `begun`
//! (COMMIT of a transaction open on several shards, before anything is prepared),
//! `prepared_some`, `prepared_all`, `decided` (right after the commit point),
//! `committing_rest`.

use std::sync::OnceLock;

/// The configured failpoint, read once.
fn configured() -> Option<&'static str> {
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    POINT
        .get_or_init(|| std::env::var("SHARDWIRE_FAILPOINT").ok())
        .as_deref()
}

/// Aborts the process if `name` is the configured failpoint.
pub fn failpoint(name: &str) {
    if configured() == Some(name) {
        eprintln!("shardwire: failpoint {name} reached; aborting");
        std::process::abort();
    }
}
