//! The open-file limit: every client connection and every pooled server connection is a
//! file descriptor, and distributions start processes with a soft limit of 1,024, far
//! below the 10,000 clients a proxy is expected to hold. At start the soft limit is raised
//! to the hard limit; when even that is below what the config may need, a warning says
//! how many connections fit and how to raise it, instead of `accept` failing later.

use shardwire_conf::Config;

/// Descriptors kept for listeners, monitors, logs and the runtime.
const RESERVED: u64 = 64;

/// Raises the soft open-file limit to the hard limit and warns when the config may need
/// more. Returns the limit now in effect.
pub fn raise(config: &Config) -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open-file limit");
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        } else {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                soft = limit.rlim_cur,
                hard = limit.rlim_max,
                "cannot raise the open-file limit"
            );
        }
    }
    let available = limit.rlim_cur;
    let needed = needed_descriptors(config);
    match needed {
        Some(needed) if needed > available => tracing::warn!(
            limit = available,
            needed,
            "the open-file limit is below what max_client_connections and the pools need; \
             clients past the limit will be refused at accept: raise it (ulimit -n, \
             LimitNOFILE= in the systemd unit, or --ulimit nofile= for docker)"
        ),
        None => tracing::info!(
            limit = available,
            clients = available.saturating_sub(pool_descriptors(config) + RESERVED),
            "open-file limit (no max_client_connections set)"
        ),
        _ => {}
    }
    Some(available)
}

/// Server connections all pools may open.
fn pool_descriptors(config: &Config) -> u64 {
    let nodes: usize = config
        .databases
        .iter()
        .flat_map(|db| &db.shards)
        .map(|s| 1 + s.replicas.len())
        .sum();
    // Pools plus one monitor connection per node.
    nodes as u64 * (u64::from(config.proxy.pool_size) + 1)
}

/// What the config may need: every allowed client, every pooled connection, the reserve.
fn needed_descriptors(config: &Config) -> Option<u64> {
    let clients = u64::from(config.proxy.max_client_connections?);
    Some(clients + pool_descriptors(config) + RESERVED)
}
