//! Write concern on the MySQL frontend: after a write outside a transaction or a COMMIT,
//! the client's OK is held until enough replicas of each written shard replayed the
//! commit's GTID (the shared wait in `frontend::write_concern`); if they do not in time,
//! the OK becomes an error saying the transaction IS committed on the primary.

use super::reply;
use super::session::Session;
use crate::consistency::Lsn;
use crate::frontend::write_concern::wait_for_replicas;
use crate::protocol::mysql::errcode;
use crate::protocol::pg::sqlstate;

impl Session {
    /// Whether writes must wait for replicas.
    pub(super) fn write_concern_applies(&self) -> bool {
        self.shardwire.write_concern != "primary"
    }

    /// Waits for the write concern at each `(shard, position)`; when it is not met, the
    /// answer buffered since `answer_at` in the output is replaced by the error.
    pub(super) async fn await_write_concern(&mut self, positions: &[(u32, Lsn)], answer_at: usize) {
        if !self.write_concern_applies() {
            return;
        }
        for &(shard, position) in positions {
            let Some(rt) = self.db.shard(shard) else {
                continue;
            };
            let failure = wait_for_replicas(
                &rt.monitor,
                rt.replicas.len(),
                shard,
                position,
                &self.shardwire,
            )
            .await;
            if let Some(message) = failure {
                if self.out.len() >= answer_at {
                    self.out.truncate(answer_at);
                }
                let code = errcode::from_pg_sqlstate(sqlstate::WRITE_CONCERN_TIMEOUT);
                reply::err(self, 1, code, &message);
                return;
            }
        }
    }
}
