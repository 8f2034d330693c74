//! Scattered reads on the PostgreSQL frontend: a `SELECT` the router planned as
//! [`ScatterPlan`](shardwire_router::ScatterPlan) runs on every shard concerned at once,
//! each on the node the session's consistency policy picks, and the answers are merged
//! by [`crate::merge`] while they stream in.
//!
//! Outside transactions only: a transaction is bound to one shard until distributed
//! transactions exist, so a scattered read inside one is refused with `0A000`.

mod batch;
mod drive;
mod shard_stream;
mod values;

use bytes::BytesMut;
use shardwire_router::Scattered;

use self::drive::{drive, Framing};
use self::shard_stream::{ShardFailure, ShardStream};
use self::values::LiteralValues;
use super::session::{End, Session};
use crate::backend::pool::{CheckoutError, PooledConn};
use crate::merge::Merge;
use crate::protocol::pg::build;
use crate::protocol::pg::sqlstate;

/// The refusal inside a transaction block.
const IN_TRANSACTION: &str = "shardwire: this read needs several shards, which a transaction \
     cannot span yet; run it outside the transaction block";

impl Session {
    /// Runs a simple-protocol query string that is one scattered read.
    pub(super) async fn scatter_simple(
        &mut self,
        sql: &str,
        scattered: Scattered,
    ) -> Result<(), End> {
        if self.in_transaction() || self.bound.is_some() {
            self.error(sqlstate::FEATURE_NOT_SUPPORTED, IN_TRANSACTION);
            self.ready();
            return self.flush().await;
        }
        let normalized = shardwire_router::normalize(sql);
        let shard_sql = match scattered.plan.shard_sql.render(&normalized.literals) {
            Ok(text) => text,
            Err(e) => {
                self.error(e.sqlstate, &e.message);
                self.ready();
                return self.flush().await;
            }
        };
        let mut request = BytesMut::with_capacity(shard_sql.len() + 8);
        build::query(&mut request, &shard_sql);
        let hinted = super::simple::forces_primary(sql);
        if let Some(streams) = self.open_streams(&scattered.shards, hinted, &request).await {
            let values = LiteralValues(&normalized.literals);
            let spec = &scattered.plan.merge;
            let make = |description: &[u8]| Merge::new(spec, description, &[], &values);
            let driven = drive(streams, make, Framing { describe: true }, &mut self.io).await;
            self.cancel.set(None);
            driven?;
        }
        crate::metrics::scatter_read(scattered.shards.len());
        self.ready();
        self.flush().await
    }

    /// Checks out one connection per shard (replica or primary by the session's policy),
    /// replays the session's settings where needed and sends `request` to all. `None`
    /// after reporting an error (connections already taken go back or are closed).
    async fn open_streams(
        &mut self,
        shards: &[u32],
        hinted: bool,
        request: &[u8],
    ) -> Option<Vec<ShardStream>> {
        let mut streams: Vec<ShardStream> = Vec::with_capacity(shards.len());
        let mut out = BytesMut::new();
        for &shard in shards {
            let replica = self.choose_replica(shard, || hinted).await;
            let mut conn = match self.checkout(shard, replica).await {
                Ok(conn) => conn,
                Err((code, message)) => {
                    for stream in streams {
                        stream.finish().await;
                    }
                    self.error(code, &message);
                    return None;
                }
            };
            conn.node.queries.count(crate::metrics::QueryKind::Read);
            out.clear();
            let mut requests = 1;
            if let Some(sql) = self.params.sync_sql(&conn.applied) {
                build::query(&mut out, &sql);
                conn.applied = self.params.pairs().to_vec();
                requests += 1;
            }
            out.extend_from_slice(request);
            let mut stream = ShardStream::new(shard, conn, requests);
            if let Err(failure) = stream.send(&out).await {
                for stream in streams {
                    stream.finish().await;
                }
                stream.abandon().await;
                if let Some((code, message)) = failure.lost_error() {
                    self.error(code, message);
                }
                return None;
            }
            streams.push(stream);
        }
        // A CancelRequest from the client now stops the statement on every shard.
        self.cancel
            .set_scattered(streams.iter().filter_map(ShardStream::cancel_key));
        Some(streams)
    }

    /// A connection to `shard`'s replica `replica` (the primary if `None`, or if the
    /// replica cannot be reached), or the error to report.
    pub(super) async fn checkout(
        &self,
        shard: u32,
        replica: Option<usize>,
    ) -> Result<PooledConn, (&'static str, String)> {
        let Some(shard_rt) = self.db.shard(shard) else {
            return Err((
                sqlstate::INTERNAL_ERROR,
                format!("shardwire: shard {shard} is not configured"),
            ));
        };
        let got = match replica.and_then(|r| shard_rt.replicas.get(r)) {
            Some(pool) => match pool.get().await {
                Ok(conn) => Ok(conn),
                Err(e) => {
                    tracing::warn!(node = %pool.node().name, error = %e, "replica unavailable; reading from the primary");
                    shard_rt.primary.get().await
                }
            },
            None => shard_rt.primary.get().await,
        };
        got.map_err(|e| {
            let code = match e {
                CheckoutError::Exhausted { .. } => sqlstate::TOO_MANY_CONNECTIONS,
                _ => sqlstate::CONNECTION_FAILURE,
            };
            (code, format!("shardwire: {e}"))
        })
    }
}

/// Keeps `ShardFailure` reachable for the batch module.
pub(super) type Failure = ShardFailure;
