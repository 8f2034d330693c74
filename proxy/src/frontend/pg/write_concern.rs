//! Write concern (DESIGN §6): with `shardwire.write_concern` above `primary`, a write or
//! COMMIT is acknowledged — its ReadyForQuery released — only once enough replicas of the
//! shard have replayed past the commit's position, as the replica monitor sees them. If
//! they do not within `shardwire.write_concern_timeout`, the client gets an error that
//! says plainly the transaction IS committed on the primary and how many replicas
//! confirmed: never a silent success, never a false failure.

use super::session::{End, Session};
use crate::consistency::Lsn;
use crate::frontend::write_concern::wait_for_replicas;
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::sqlstate;

impl Session {
    /// True when writes must wait for replicas.
    pub(super) fn write_concern_applies(&self) -> bool {
        self.settings.write_concern != "primary"
    }

    /// Waits for the write concern on `shard` after a write whose position was
    /// `position`, then sends the held ReadyForQuery — preceded by an error if the concern
    /// was not met in time.
    pub(super) async fn await_write_concern(
        &mut self,
        shard: u32,
        position: Option<Lsn>,
        error_seen: bool,
        status: u8,
    ) -> Result<(), End> {
        // A failed statement or an open transaction committed nothing yet.
        if !error_seen && status == b'I' {
            if let Some(position) = position {
                if let Some(message) = self.wait_for_concern(shard, position).await {
                    build::error_response(
                        &mut self.io.out,
                        Severity::Error,
                        sqlstate::WRITE_CONCERN_TIMEOUT,
                        &message,
                    );
                }
            }
        }
        build::ready_for_query(&mut self.io.out, status);
        self.flush().await
    }

    /// Waits until enough replicas of `shard` replayed `position` (the session's write
    /// concern), at most `write_concern_timeout`; the error to report if they did not.
    pub(super) async fn wait_for_concern(&self, shard: u32, position: Lsn) -> Option<String> {
        let shard_rt = self.db.shard(shard)?;
        wait_for_replicas(
            &shard_rt.monitor,
            shard_rt.replicas.len(),
            shard,
            position,
            &self.settings,
        )
        .await
    }
}
