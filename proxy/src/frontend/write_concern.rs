//! Write concern (DESIGN §6), shared by both frontends: with `shardwire.write_concern`
//! above `primary`, a write or COMMIT is acknowledged only once enough replicas of each
//! written shard have replayed past the commit's position, as the replica monitor sees
//! them. If they do not within `shardwire.write_concern_timeout`, the client gets an error
//! that says plainly the transaction IS committed on the primary and how many replicas
//! confirmed: never a silent success, never a false failure.

use std::time::{Duration, Instant};

use crate::consistency::Lsn;
use crate::frontend::pg::settings::ShardwireSettings;
use crate::monitor::ShardMonitor;

/// How often the wait looks at the monitor's view again.
const RECHECK: Duration = Duration::from_millis(2);

/// Replicas that must confirm under `concern` when the shard has `replicas` of them;
/// `Err` when the concern asks for more than exist.
pub fn required_replicas(concern: &str, replicas: usize) -> Result<usize, String> {
    match concern {
        "primary" => Ok(0),
        // A majority of all the shard's nodes, the primary being one of them.
        "majority" => Ok(replicas.div_ceil(2)),
        "all" => Ok(replicas),
        n => match n.parse::<usize>() {
            Ok(n) if n <= replicas => Ok(n),
            Ok(n) => Err(format!(
                "shardwire.write_concern = {n} but the shard has only {replicas} replica(s)"
            )),
            Err(_) => Err(format!("invalid shardwire.write_concern \"{n}\"")),
        },
    }
}

/// Waits until enough of the shard's `replicas` (as `monitor` sees them) replayed
/// `position` under the session's write concern, at most `write_concern_timeout`; the
/// error to report if they did not.
pub async fn wait_for_replicas(
    monitor: &ShardMonitor,
    replicas: usize,
    shard: u32,
    position: Lsn,
    settings: &ShardwireSettings,
) -> Option<String> {
    match required_replicas(&settings.write_concern, replicas) {
        Err(msg) => Some(format!(
            "shardwire: the transaction IS committed on the primary of shard {shard}, \
             but the write concern cannot be met: {msg}"
        )),
        Ok(0) => None,
        Ok(needed) => {
            let timeout = settings.write_concern_timeout;
            let deadline = Instant::now() + timeout;
            loop {
                let view = monitor.view();
                let confirmed = view
                    .replicas
                    .iter()
                    .filter(|r| r.position.is_some_and(|p| p >= position))
                    .count();
                if confirmed >= needed {
                    return None;
                }
                if Instant::now() >= deadline {
                    return Some(format!(
                        "shardwire: the transaction IS committed on the primary of shard {shard}, \
                         but only {confirmed} of the {needed} replica(s) required by \
                         shardwire.write_concern = '{}' replayed it within {timeout:?}",
                        settings.write_concern
                    ));
                }
                tokio::time::sleep(RECHECK).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_counts_the_primary() {
        assert_eq!(required_replicas("majority", 1), Ok(1));
        assert_eq!(required_replicas("majority", 2), Ok(1));
        assert_eq!(required_replicas("majority", 3), Ok(2));
        assert_eq!(required_replicas("all", 2), Ok(2));
        assert_eq!(required_replicas("primary", 2), Ok(0));
        assert_eq!(required_replicas("2", 2), Ok(2));
        assert!(required_replicas("3", 2).is_err());
    }
}
