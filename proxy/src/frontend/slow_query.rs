//! The slow-query log of both frontends: a request that took `proxy.slow_query_threshold`
//! or longer gets one `warn` line with who sent it, how long it took and its statement
//! text — normalized, so literals (which may be passwords or personal data) appear as
//! placeholders, and cut to a readable length. The text is only built for slow requests.

use std::time::Duration;

use shardwire_router::Router;

/// Longest statement text logged, in bytes.
const MAX_TEXT: usize = 1000;

/// Who sent a request, for its log line.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// `postgres` or `mysql`.
    pub protocol: &'static str,
    /// The client's user.
    pub user: &'a str,
    /// The logical database.
    pub database: &'a str,
}

/// Logs the request if it took `threshold` or longer (0 disables). `sql` gives its
/// statement text when it has one.
pub fn check(
    threshold: Duration,
    elapsed: Duration,
    who: Requester<'_>,
    router: &Router,
    sql: impl FnOnce() -> Option<String>,
) {
    if threshold.is_zero() || elapsed < threshold {
        return;
    }
    let statement = sql().map_or_else(
        || "(no statement text)".to_string(),
        |s| loggable(router, &s),
    );
    tracing::warn!(
        protocol = who.protocol,
        user = who.user,
        database = who.database,
        ms = elapsed.as_millis() as u64,
        statement = %statement,
        "slow query"
    );
}

/// `sql` with its literals replaced by placeholders, at most [`MAX_TEXT`] bytes.
pub fn loggable(router: &Router, sql: &str) -> String {
    let mut text = router.normalize(sql).text;
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use shardwire_router::{Dialect, Schema};

    use super::*;

    fn router() -> Router {
        Router::new(
            Schema::new(NonZeroU32::new(2).expect("non-zero")),
            Dialect::Postgres,
        )
    }

    #[test]
    fn literals_never_reach_the_log() {
        let text = loggable(
            &router(),
            "ALTER ROLE bob PASSWORD 'hunter2'; SELECT * FROM t WHERE card = '4111111111111111'",
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("4111"), "{text}");
        assert!(text.contains("SELECT") || text.contains("select"), "{text}");
    }

    #[test]
    fn long_statements_are_cut_on_a_character_boundary() {
        let sql = format!("SELECT {}", "é, ".repeat(800));
        let text = loggable(&router(), &sql);
        assert!(text.len() <= MAX_TEXT + '…'.len_utf8(), "{}", text.len());
        assert!(text.ends_with('…'));
    }
}
