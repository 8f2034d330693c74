//! Where a PostgreSQL read goes: the shared replica choice
//! ([`crate::frontend::replica_choice`]) over this shard's monitor and replica pools.

use super::session::Session;
use crate::frontend::replica_choice::{choose_replica, ShardReplicas};

impl Session {
    /// The replica to serve a read on `shard`, or None for the primary. `hinted` says
    /// whether the statement carries `/* shardwire:primary */`; it is only looked at when
    /// a replica is possible at all, so `strong` reads cost no text scan.
    pub(super) async fn choose_replica(
        &mut self,
        shard: u32,
        hinted: impl FnOnce() -> bool,
    ) -> Option<usize> {
        let required = self.positions.required(shard);
        let replicas = self.db.shard(shard).map(|rt| ShardReplicas {
            monitor: &rt.monitor,
            in_flight: rt
                .replicas
                .iter()
                .map(|pool| {
                    let status = pool.status();
                    status.size.saturating_sub(status.available) as u32
                })
                .collect(),
        });
        choose_replica(&self.settings, required, replicas, hinted).await
    }
}
