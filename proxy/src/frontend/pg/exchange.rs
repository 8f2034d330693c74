//! Binding a server connection to the session and exchanging one request with it:
//! settings replay on a fresh connection, position capture, the hand-off to the pump,
//! a replica failure retried invisibly, a server failure reported as 08006.

use std::collections::VecDeque;

use bytes::BytesMut;

use super::pump::{self, Entry, PumpEnd, Until};
use super::session::{Bound, End, Session};
use crate::backend::pool::{self, CheckoutError};
use crate::cancel::ServerKey;
use crate::consistency::Lsn;
use crate::protocol::pg::build::{self, Severity};
use crate::protocol::pg::sqlstate;

/// Asks a primary for a position at least the end of every commit so far.
pub(super) const PRIMARY_POSITION_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text";
/// Asks a replica how far it has replayed (at least what the read just saw).
const REPLICA_POSITION_SQL: &str = "SELECT pg_last_wal_replay_lsn()::text";

impl Session {
    /// A `BEGIN READ ONLY` waits for its first statement: the whole transaction may then
    /// run on one replica chosen by the session's policy.
    pub(super) fn read_only_txn_pending(&self) -> bool {
        self.deferred_begin.is_some() && self.deferred_read_only && !self.failed
    }

    /// Pipelines a position query after the client's statement: on a replica, how far it
    /// has replayed (monotonic reads); on a primary after a write or commit, the WAL insert
    /// position (read-your-writes). Not on shards without replicas (nobody reads behind
    /// the primary there), and not in the middle of a transaction block (its reads stay
    /// on the primary; the COMMIT's position is the one that counts).
    pub(super) fn queue_position_capture(
        &self,
        on_replica: bool,
        writes: bool,
        mid_transaction: bool,
        out: &mut BytesMut,
        queue: &mut VecDeque<Entry>,
    ) {
        let shard_has_replicas = || {
            self.bound
                .as_ref()
                .and_then(|b| self.db.shard(b.shard))
                .is_some_and(|s| !s.replicas.is_empty())
        };
        let writes = writes && !mid_transaction && shard_has_replicas();
        let sql = if on_replica {
            // Only `session` promises monotonic reads; the others skip the extra statement.
            if self.settings.read_consistency != shardwire_conf::ReadConsistency::Session {
                return;
            }
            REPLICA_POSITION_SQL
        } else if writes {
            PRIMARY_POSITION_SQL
        } else {
            return;
        };
        build::query(out, sql);
        queue.push_back(Entry::capture());
    }

    /// Records a captured position for `shard`.
    pub(super) fn observe_position(&mut self, shard: u32, captured: Option<Lsn>) {
        let Some(lsn) = captured else {
            return;
        };
        self.positions.observe(shard, lsn);
    }

    /// Makes sure a server connection for `shard` (its primary, or replica `replica`) is
    /// bound; on a fresh one, queues the replay of the session's settings. False after
    /// reporting an error.
    pub(super) async fn bind_to(
        &mut self,
        shard: u32,
        replica: Option<usize>,
        out: &mut BytesMut,
        queue: &mut VecDeque<Entry>,
    ) -> bool {
        if let Some(bound) = self.bound.as_mut() {
            // A parked participant of a transaction across shards missed the SETs made
            // while another shard was current.
            if !self.parked.is_empty() {
                if let Some(sql) = self.params.sync_sql(&bound.conn.applied) {
                    build::query(out, &sql);
                    queue.push_back(Entry::swallow(Until::Ready));
                    bound.conn.applied = self.params.pairs().to_vec();
                }
                if bound.lock_timeout_pending {
                    bound.lock_timeout_pending = false;
                    let ms = self.db.transaction_lock_timeout_ms;
                    build::query(out, &format!("SET LOCAL lock_timeout = '{ms}ms'"));
                    queue.push_back(Entry::swallow(Until::Ready));
                }
            }
            return true;
        }
        let Some(shard_rt) = self.db.shard(shard) else {
            self.error(
                sqlstate::INTERNAL_ERROR,
                &format!("shardwire: shard {shard} is not configured"),
            );
            return false;
        };
        let pool = match replica.and_then(|r| shard_rt.replicas.get(r)) {
            Some(pool) => pool,
            None => &shard_rt.primary,
        };
        let (got, replica) = match pool.get().await {
            Err(e) if replica.is_some() => {
                tracing::warn!(node = %pool.node().name, error = %e, "replica unavailable; reading from the primary");
                (shard_rt.primary.get().await, None)
            }
            other => (other, replica),
        };
        let conn = match got {
            Ok(conn) => conn,
            Err(e) => {
                let code = match e {
                    CheckoutError::Exhausted { .. } => sqlstate::TOO_MANY_CONNECTIONS,
                    _ => sqlstate::CONNECTION_FAILURE,
                };
                self.error(code, &format!("shardwire: {e}"));
                return false;
            }
        };
        self.cancel.set(Some(ServerKey {
            node: conn.node.clone(),
            pid: conn.cancel_key.0,
            secret: conn.cancel_key.1,
        }));
        let mut bound = Bound {
            conn,
            shard,
            replica: replica.is_some(),
            wrote: false,
            lock_timeout_pending: false,
        };
        if let Some(sql) = self.params.sync_sql(&bound.conn.applied) {
            build::query(out, &sql);
            queue.push_back(Entry::swallow(Until::Ready));
            bound.conn.applied = self.params.pairs().to_vec();
        }
        self.bound = Some(bound);
        true
    }

    /// The reusable server-output buffer and response queue, emptied.
    pub(super) fn take_buffers(&mut self) -> (BytesMut, VecDeque<Entry>) {
        let mut out = std::mem::take(&mut self.server_out);
        out.clear();
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        (out, queue)
    }

    /// Sends `out` to the bound server and streams the answers to the client.
    pub(super) async fn exchange(
        &mut self,
        out: BytesMut,
        mut queue: VecDeque<Entry>,
    ) -> Result<PumpEnd, End> {
        let result = self.exchange_inner(&out, &mut queue).await;
        self.server_out = out;
        self.queue = queue;
        result
    }

    async fn exchange_inner(
        &mut self,
        out: &BytesMut,
        queue: &mut VecDeque<Entry>,
    ) -> Result<PumpEnd, End> {
        let Some(bound) = self.bound.as_mut() else {
            return Ok(PumpEnd::Done {
                error_seen: false,
                captured: None,
                held_ready: None,
            });
        };
        let (sent_before, out_before) = (self.io.sent, self.io.out.len());
        let retryable =
            |s: &Session| s.bound.as_ref().is_some_and(|b| b.replica) && s.io.sent == sent_before;
        if let Err(e) = bound.conn.writer.send_all(out).await {
            if retryable(self) {
                return Ok(self.drop_for_retry(out_before, &e.to_string()));
            }
            return self.server_lost(e.to_string()).await;
        }
        let hold = self.hold_ready;
        match pump::pump(&mut bound.conn, &mut self.io, queue, hold).await {
            PumpEnd::ClientGone => {
                if let Some(b) = self.bound.take() {
                    pool::discard(b.conn);
                }
                Err(End::Close)
            }
            PumpEnd::ServerLost(reason) if retryable(self) => {
                Ok(self.drop_for_retry(out_before, &reason))
            }
            PumpEnd::ServerLost(reason) => self.server_lost(reason).await,
            done => Ok(done),
        }
    }

    /// A replica failed before the client saw anything: forget what it produced, drop the
    /// connection, and let the caller run the request on the primary.
    fn drop_for_retry(&mut self, out_before: usize, reason: &str) -> PumpEnd {
        self.io.out.truncate(out_before);
        if let Some(b) = self.bound.take() {
            tracing::warn!(node = %b.conn.node.name, %reason, "replica failed; retrying the read on the primary");
            crate::metrics::backend_error(&b.conn.node.name, "reset");
            let mut conn = b.conn;
            conn.broken = true;
            pool::discard(conn);
        }
        self.cancel.set(None);
        PumpEnd::Retry
    }

    /// The bound server failed: tell the client, drop the connection. Inside a transaction
    /// the client's connection ends too — its transaction is gone and it must know.
    async fn server_lost(&mut self, reason: String) -> Result<PumpEnd, End> {
        let was_in_txn = self.in_transaction();
        let node = match self.bound.take() {
            Some(b) => {
                let name = b.conn.node.name.clone();
                crate::metrics::backend_error(&name, "reset");
                let mut conn = b.conn;
                conn.broken = true;
                pool::discard(conn);
                name
            }
            None => "server".to_string(),
        };
        self.cancel.set(None);
        let message = format!("shardwire: server connection to {node} lost: {reason}");
        if was_in_txn {
            self.fatal(sqlstate::CONNECTION_FAILURE, &message).await;
            return Err(End::Close);
        }
        self.deferred_begin = None;
        self.failed = false;
        build::error_response(
            &mut self.io.out,
            Severity::Error,
            sqlstate::CONNECTION_FAILURE,
            &message,
        );
        self.ready();
        self.flush().await?;
        Ok(PumpEnd::Done {
            error_seen: true,
            captured: None,
            held_ready: None,
        })
    }
}

/// The self-check behind `consistency_violations_total`: a replica that, right after
/// serving a read, has replayed less than the session required was below it during the
/// read too.
pub(super) fn check_monotonic(required: Option<Lsn>, after: Option<Lsn>) {
    if let (Some(required), Some(after)) = (required, after) {
        if after < required {
            metrics::counter!(crate::metrics::CONSISTENCY_VIOLATIONS).increment(1);
            tracing::error!(%required, served_at = %after, "read served below the session's position");
        }
    }
}
