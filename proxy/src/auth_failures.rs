//! Failed logins per source address, over both frontends: each failure is counted in a
//! one-minute window per client IP and logged with that count, so a password-guessing
//! source stands out in the log. The 1st, 2nd, 4th, 8th… failure of a window is logged,
//! not every one: a flood of attempts cannot flood the log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long failures of one source are counted together.
const WINDOW: Duration = Duration::from_secs(60);

/// Sources kept before expired windows are swept out.
const SWEEP_AT: usize = 10_000;

/// Failure counts per source.
#[derive(Debug, Default)]
pub struct AuthFailures {
    per_source: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthFailures {
    /// The process-wide counts.
    pub fn global() -> &'static AuthFailures {
        static GLOBAL: OnceLock<AuthFailures> = OnceLock::new();
        GLOBAL.get_or_init(AuthFailures::default)
    }

    /// Counts a failed login from `source` at `now`; returns the failures of its window.
    pub fn count(&self, source: IpAddr, now: Instant) -> u32 {
        let mut map = self.per_source.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
        }
        let entry = map.entry(source).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    /// Counts and logs a failed login of `user` from `source` over `protocol`.
    pub fn record(&self, source: IpAddr, protocol: &'static str, user: &str) {
        let failures = self.count(source, Instant::now());
        if failures.is_power_of_two() {
            tracing::warn!(
                %source,
                protocol,
                user,
                failures_last_minute = failures,
                "authentication failed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_per_source_and_window() {
        let failures = AuthFailures::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let b: IpAddr = "10.0.0.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let t0 = Instant::now();
        assert_eq!(failures.count(a, t0), 1);
        assert_eq!(failures.count(a, t0 + Duration::from_secs(1)), 2);
        assert_eq!(failures.count(b, t0 + Duration::from_secs(2)), 1);
        assert_eq!(failures.count(a, t0 + Duration::from_secs(59)), 3);
        // A new window after a minute.
        assert_eq!(failures.count(a, t0 + Duration::from_secs(61)), 1);
    }
}
