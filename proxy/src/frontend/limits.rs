//! Time limits on client connections, shared by both frontends: how long a login may
//! take, how long a logged-in client may stay silent, inside or outside a transaction,
//! and how long one request may run (`[proxy]` `client_login_timeout`,
//! `client_idle_timeout`, `idle_transaction_timeout`, `query_timeout`).

use std::future::Future;
use std::time::Duration;

use shardwire_conf::ProxyConfig;

/// How long a client may wait before its next request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdleLimits {
    /// Outside a transaction; `None`: no limit.
    pub idle: Option<Duration>,
    /// Inside a transaction; `None`: no limit.
    pub in_transaction: Option<Duration>,
    /// How long one request may run; `None`: no limit.
    pub query: Option<Duration>,
}

/// Which idle limit a client ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleLimit {
    /// `client_idle_timeout`.
    Idle(Duration),
    /// `idle_transaction_timeout`.
    InTransaction(Duration),
}

impl IdleLimits {
    /// The limits of `proxy` (a zero duration means none).
    pub fn of(proxy: &ProxyConfig) -> IdleLimits {
        let limit = |d: Duration| (!d.is_zero()).then_some(d);
        IdleLimits {
            idle: limit(proxy.client_idle_timeout),
            in_transaction: limit(proxy.idle_transaction_timeout),
            query: limit(proxy.query_timeout),
        }
    }

    /// The limit that applies to a client waiting now.
    pub fn applying(&self, in_transaction: bool) -> Option<IdleLimit> {
        if in_transaction {
            self.in_transaction.map(IdleLimit::InTransaction)
        } else {
            self.idle.map(IdleLimit::Idle)
        }
    }
}

impl IdleLimit {
    /// The configuration key, for messages.
    pub fn key(self) -> &'static str {
        match self {
            IdleLimit::Idle(_) => "client_idle_timeout",
            IdleLimit::InTransaction(_) => "idle_transaction_timeout",
        }
    }

    /// How long.
    pub fn duration(self) -> Duration {
        match self {
            IdleLimit::Idle(d) | IdleLimit::InTransaction(d) => d,
        }
    }
}

/// Awaits the client's next request within `limit`; `Err` when the limit passed first.
/// Without a limit no timer is armed: the common configuration pays nothing per request.
pub async fn next_request<T>(
    limit: Option<IdleLimit>,
    read: impl Future<Output = T>,
) -> Result<T, IdleLimit> {
    match limit {
        None => Ok(read.await),
        Some(limit) => tokio::time::timeout(limit.duration(), read)
            .await
            .map_err(|_| limit),
    }
}

/// The cancel a `query_timeout` starts (boxed: sessions name it in a return type).
pub type BoxedCancel = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs `request`; with `Some((limit, cancel))`, if it is still running after `limit`,
/// `cancel` is started beside it (it interrupts the statement on its servers, which then
/// answer with an error the request forwards) and the request is awaited to its end, so
/// the client always gets a complete answer. Without a limit no timer is armed.
pub async fn with_query_timeout<T, F, C>(
    watch: Option<(Duration, F)>,
    request: impl Future<Output = T>,
) -> T
where
    F: FnOnce() -> C,
    C: Future<Output = ()> + Send + 'static,
{
    let Some((limit, cancel)) = watch else {
        return request.await;
    };
    let mut request = std::pin::pin!(request);
    tokio::select! {
        out = &mut request => out,
        _ = tokio::time::sleep(limit) => {
            // Spawned: the request keeps reading the server's answer meanwhile.
            tokio::spawn(cancel());
            request.await
        }
    }
}

/// A duration as the config spells it, for messages (`"1.5s"`, `"250ms"`).
pub fn spelled(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_no_limit_and_the_transaction_state_picks_the_limit() {
        let mut proxy = ProxyConfig::default();
        assert_eq!(IdleLimits::of(&proxy), IdleLimits::default());
        proxy.client_idle_timeout = Duration::from_secs(60);
        proxy.idle_transaction_timeout = Duration::from_millis(500);
        let limits = IdleLimits::of(&proxy);
        assert_eq!(
            limits.applying(false),
            Some(IdleLimit::Idle(Duration::from_secs(60)))
        );
        assert_eq!(
            limits.applying(true),
            Some(IdleLimit::InTransaction(Duration::from_millis(500)))
        );
        proxy.client_idle_timeout = Duration::ZERO;
        assert_eq!(IdleLimits::of(&proxy).applying(false), None);
    }

    #[tokio::test]
    async fn a_silent_client_runs_into_the_limit_and_a_prompt_one_does_not() {
        let limit = Some(IdleLimit::Idle(Duration::from_millis(20)));
        let silent = next_request(limit, std::future::pending::<()>()).await;
        assert_eq!(silent, Err(IdleLimit::Idle(Duration::from_millis(20))));
        let prompt = next_request(limit, async { 7 }).await;
        assert_eq!(prompt, Ok(7));
        assert_eq!(next_request(None, async { 8 }).await, Ok(8));
    }

    #[tokio::test]
    async fn a_slow_request_is_canceled_and_still_awaited_to_its_end() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let canceled = Arc::new(AtomicBool::new(false));
        let flag = canceled.clone();
        let slow = async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            "answered"
        };
        let cancel = move || async move { flag.store(true, Ordering::SeqCst) };
        let out = with_query_timeout(Some((Duration::from_millis(10), cancel)), slow).await;
        assert_eq!(out, "answered");
        assert!(canceled.load(Ordering::SeqCst));
        let quick_flag = Arc::new(AtomicBool::new(false));
        let flag = quick_flag.clone();
        let cancel = move || async move { flag.store(true, Ordering::SeqCst) };
        let out = with_query_timeout(Some((Duration::from_secs(5), cancel)), async { 1 }).await;
        assert_eq!(out, 1);
        assert!(!quick_flag.load(Ordering::SeqCst));
    }

    #[test]
    fn durations_are_spelled_as_in_the_config() {
        assert_eq!(spelled(Duration::from_secs(10)), "10s");
        assert_eq!(spelled(Duration::from_millis(250)), "250ms");
        assert_eq!(spelled(Duration::from_millis(1500)), "1.500s");
    }
}
