//! Where a PostgreSQL read goes: the shared replica choice
//! ([`crate::frontend::replica_choice`]) over this shard's monitor and replica pools.

use super::session::Session;
use crate::frontend::replica_choice::choose_replica;

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
        choose_replica(&self.settings, required, self.db.shard(shard), hinted).await
    }
}
