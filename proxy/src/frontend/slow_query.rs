//! What both frontends record of each finished request ([`RequestLog`], one per logical
//! database): its duration in `query_duration_seconds`, and the slow-query log — a
//! request that took `proxy.slow_query_threshold` or longer gets one `warn` line with who sent it, how long it took and its statement
//! text with every literal replaced by `?` — strings in all their spellings (standard,
//! escaped, dollar-quoted, typed, MySQL's double-quoted and introduced ones), numbers and
//! comments — because literals may be passwords or personal data. The router's
//! normalization is not enough here: it keeps whole keyword statements (`SET`, `PREPARE`)
//! verbatim. The text is only built for slow requests.

use std::time::{Duration, Instant};

use shardwire_router::{Dialect, Router};

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

/// One logical database's record of finished requests.
#[derive(Debug)]
pub struct RequestLog {
    /// Its `query_duration_seconds` histogram.
    duration: metrics::Histogram,
    /// `proxy.slow_query_threshold` (0: no slow-query log).
    slow_threshold: Duration,
}

impl RequestLog {
    /// The record of `database`'s requests.
    pub fn new(database: &str, slow_threshold: Duration) -> RequestLog {
        RequestLog {
            duration: crate::metrics::query_duration(database),
            slow_threshold,
        }
    }

    /// Whether slow requests are logged (a session keeps a request's text only then).
    pub fn logs_slow_requests(&self) -> bool {
        !self.slow_threshold.is_zero()
    }

    /// A request that began at `started` has been answered: its duration is recorded,
    /// and it is logged if slow. `sql` gives its statement text, only asked for then.
    pub fn finished(
        &self,
        started: Instant,
        who: Requester<'_>,
        router: &Router,
        sql: impl FnOnce() -> Option<String>,
    ) {
        let elapsed = started.elapsed();
        self.duration.record(elapsed.as_secs_f64());
        if self.logs_slow_requests() && elapsed >= self.slow_threshold {
            log_slow(elapsed, who, router, sql);
        }
    }
}

fn log_slow(
    elapsed: Duration,
    who: Requester<'_>,
    router: &Router,
    sql: impl FnOnce() -> Option<String>,
) {
    let statement = sql().map_or_else(
        || "(no statement text)".to_string(),
        |s| loggable(&s, router.dialect()),
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

/// `sql` with its literals replaced by `?` and comments dropped, at most [`MAX_TEXT`]
/// bytes.
pub fn loggable(sql: &str, dialect: Dialect) -> String {
    let mut text = redact(sql, dialect);
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

/// Replaces literals with `?`. Errs on the side of hiding: an unterminated string hides
/// the rest of the text.
fn redact(sql: &str, dialect: Dialect) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len().min(MAX_TEXT + 16));
    let mut i = 0;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    while i < bytes.len() && out.len() <= MAX_TEXT {
        let b = bytes[i];
        let prev_ident = i > 0 && ident(bytes[i - 1]);
        match b {
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                out.push('?');
            }
            b'"' if dialect == Dialect::MySql => {
                i = skip_quoted(bytes, i, b'"');
                out.push('?');
            }
            b'$' if !prev_ident => match dollar_tag(bytes, i) {
                Some(tag) => {
                    i = skip_dollar_quoted(bytes, i, tag);
                    out.push('?');
                }
                None => {
                    // `$1` parameters stay.
                    let end = bytes[i + 1..]
                        .iter()
                        .position(|c| !c.is_ascii_digit())
                        .map_or(bytes.len(), |p| i + 1 + p);
                    out.push_str(&sql[i..end]);
                    i = end;
                }
            },
            b'0'..=b'9' if !prev_ident => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                out.push('?');
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                out.push(' ');
            }
            b'#' if dialect == Dialect::MySql => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                out.push(' ');
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
                out.push(' ');
            }
            _ => {
                // Copy one whole character.
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&sql[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// The index after a string opened by `quote` at `start` (doubled quotes and backslash
/// escapes stay inside).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The `$tag$` opening a dollar-quoted string at `start`, if there is one.
fn dollar_tag(bytes: &[u8], start: usize) -> Option<&[u8]> {
    let rest = &bytes[start + 1..];
    let len = rest
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    if rest[len] != b'$' || rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(&bytes[start..start + len + 2])
}

/// The index after the dollar-quoted string opened by `tag` at `start`.
fn skip_dollar_quoted(bytes: &[u8], start: usize, tag: &[u8]) -> usize {
    let body = start + tag.len();
    bytes[body..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |p| body + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> String {
        loggable(sql, Dialect::Postgres)
    }

    #[test]
    fn literals_of_every_spelling_never_reach_the_log() {
        let secrets = [
            ("ALTER ROLE bob PASSWORD 'hunter2'", "hunter2"),
            ("SET app.card = '4111111111111111'", "4111"),
            (
                "PREPARE s AS INSERT INTO t VALUES ('alice@example.com')",
                "alice",
            ),
            ("SELECT * FROM p WHERE born = DATE '1984-02-03'", "1984"),
            ("SELECT $$top secret$$, $x$also$x$", "secret"),
            ("SELECT E'it''s \\' hidden'", "hidden"),
            ("SELECT U&'d\\0061ta', X'1F', B'0101'", "0061"),
            ("SELECT 1 /* note: pin 4321 */ + 2 -- 9876", "4321"),
            ("SELECT 'unterminated and secret", "secret"),
        ];
        for (sql, secret) in secrets {
            let text = pg(sql);
            assert!(!text.contains(secret), "{sql} -> {text}");
        }
        assert!(!pg("SELECT 9876").contains("9876"));
        let mysql = loggable(
            "SET PASSWORD = \"s3cret\"; SELECT _utf8mb4'x@y', 42 # 77",
            Dialect::MySql,
        );
        for secret in ["s3cret", "x@y", "42", "77"] {
            assert!(!mysql.contains(secret), "{mysql}");
        }
    }

    #[test]
    fn the_statement_shape_stays_readable() {
        assert_eq!(
            pg("SELECT v FROM t1 WHERE id = $1 AND \"Name\" = 'x' AND n > 10"),
            "SELECT v FROM t1 WHERE id = $1 AND \"Name\" = ? AND n > ?"
        );
        assert_eq!(
            loggable("SELECT `c1` FROM t WHERE a = ?", Dialect::MySql),
            "SELECT `c1` FROM t WHERE a = ?"
        );
    }

    #[test]
    fn long_statements_are_cut_on_a_character_boundary() {
        let sql = format!("SELECT {}", "é, ".repeat(800));
        let text = pg(&sql);
        assert!(text.len() <= MAX_TEXT + 8, "{}", text.len());
        assert!(text.ends_with('…'));
    }
}
