//! The merge loop of a scattered read: every shard's answer in, one result set out.
//!
//! Streamed plans keep one head row per shard and always send the least (a k-way merge:
//! memory is one row per shard, whatever the result size); the next row is read from
//! the shard whose head was sent, so a slow client leaves rows in the shards' sockets.
//! Grouped plans absorb every partial row (memory: one entry per group), then drain the
//! merged groups in client-sized pieces. The first failure is the client's error: before
//! any row it replaces the result set, after rows it takes the next row's place (MySQL
//! clients accept an ERR there); the other shards' answers are abandoned.

use std::cmp::Ordering;

use shardwire_router::MergeSpec;

use super::shard::{Failure, ShardAnswer};
use crate::frontend::mysql::session::Session;
use crate::merge::mysql::MyMerge;
use crate::merge::{Emit, MergeError, Values};
use crate::protocol::mysql::build;
use crate::protocol::mysql::errcode;

/// Output is written to the client once this much is pending.
const FLUSH_AT: usize = 64 * 1024;

/// What to merge and how to answer.
pub(super) struct Job<'a> {
    /// The merge.
    pub spec: &'a MergeSpec,
    /// The shard SQL.
    pub sql: &'a str,
    /// Execution-time values of the plan.
    pub values: &'a (dyn Values + Sync),
    /// Binary rows (a `COM_STMT_EXECUTE` answer).
    pub binary: bool,
}

/// Why the loop stopped early.
enum Stop {
    /// A shard or the merge failed: tell the client.
    Failed(Failure),
    /// The client is gone.
    ClientGone,
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Failed(f)
    }
}

fn merge_failure(e: MergeError) -> Failure {
    let code = errcode::from_pg_sqlstate(e.sqlstate);
    Failure::Server {
        code: code.code,
        sqlstate: code.sqlstate.to_string(),
        message: e.message,
    }
}

impl Session {
    /// Runs `job` on `shards` and answers the client; every answer is ended (read or
    /// abandoned) when this returns. `false` when the client went away.
    pub(super) async fn drive(&mut self, shards: &mut [ShardAnswer<'_>], job: Job<'_>) -> bool {
        let mut seq = 1u8;
        let result = self.merge_all(shards, &job, &mut seq).await;
        let failure = match result {
            Ok(()) => None,
            Err(Stop::ClientGone) => {
                for shard in shards.iter_mut() {
                    shard.abandon().await;
                }
                return false;
            }
            Err(Stop::Failed(f)) => Some(f),
        };
        for shard in shards.iter_mut() {
            shard.abandon().await;
        }
        match failure {
            None => {
                let status = self.status_flags();
                build::end_of_rows(&mut self.out, &mut seq, self.caps, 0, status);
            }
            Some(Failure::Server {
                code,
                sqlstate,
                message,
            }) => build::err(
                &mut self.out,
                &mut seq,
                self.caps,
                code,
                &sqlstate,
                &message,
            ),
            Some(Failure::Lost(message)) => {
                let e = errcode::BACKEND_LOST;
                build::err(
                    &mut self.out,
                    &mut seq,
                    self.caps,
                    e.code,
                    e.sqlstate,
                    &message,
                );
            }
        }
        true
    }

    async fn merge_all(
        &mut self,
        shards: &mut [ShardAnswer<'_>],
        job: &Job<'_>,
        seq: &mut u8,
    ) -> Result<(), Stop> {
        for shard in shards.iter_mut() {
            shard.send(job.sql).await?;
        }
        let mut columns: Option<Vec<Vec<u8>>> = None;
        for shard in shards.iter_mut() {
            let defs = shard.columns().await?;
            if columns.as_ref().is_some_and(|c| c.len() != defs.len()) {
                return Err(Stop::Failed(Failure::Lost(format!(
                    "shardwire: shard {} answered with another number of columns",
                    shard.shard
                ))));
            }
            columns.get_or_insert(defs);
        }
        let columns = columns.unwrap_or_default();
        let refs: Vec<&[u8]> = columns.iter().map(Vec::as_slice).collect();
        let mut merge =
            MyMerge::new(job.spec, &refs, job.values, job.binary).map_err(merge_failure)?;
        merge.write_columns(&mut self.out, seq);
        if !self.deprecate_eof() {
            let status = self.status_flags();
            build::eof(&mut self.out, seq, self.caps, 0, status);
        }
        if merge.grouped() {
            self.grouped(shards, &mut merge, seq).await
        } else {
            self.streamed(shards, &mut merge, seq).await
        }
    }

    /// The k-way merge of sorted shard answers.
    async fn streamed(
        &mut self,
        shards: &mut [ShardAnswer<'_>],
        merge: &mut MyMerge,
        seq: &mut u8,
    ) -> Result<(), Stop> {
        let mut heads: Vec<Option<Vec<u8>>> = Vec::with_capacity(shards.len());
        for shard in shards.iter_mut() {
            heads.push(next_body(shard, merge).await?);
        }
        while !merge.done() {
            let mut best: Option<usize> = None;
            for (i, head) in heads.iter().enumerate() {
                let Some(row) = head else { continue };
                let better = match best.and_then(|b| heads.get(b)).and_then(Option::as_ref) {
                    None => true,
                    Some(current) => merge.compare(row, current) == Ordering::Less,
                };
                if better {
                    best = Some(i);
                }
            }
            let Some(b) = best else { break };
            let Some(row) = heads.get_mut(b).and_then(Option::take) else {
                break;
            };
            if merge
                .emit(&row, &mut self.out, seq)
                .map_err(merge_failure)?
                == Emit::Done
            {
                break;
            }
            self.flush_if_full().await?;
            if let (Some(shard), Some(head)) = (shards.get_mut(b), heads.get_mut(b)) {
                *head = next_body(shard, merge).await?;
            }
        }
        Ok(())
    }

    /// Absorbs every shard's partial groups, then sends the merged ones.
    async fn grouped(
        &mut self,
        shards: &mut [ShardAnswer<'_>],
        merge: &mut MyMerge,
        seq: &mut u8,
    ) -> Result<(), Stop> {
        for shard in shards.iter_mut() {
            while let Some(row) = next_body(shard, merge).await? {
                merge.absorb(&row).map_err(merge_failure)?;
            }
        }
        while merge
            .drain(&mut self.out, seq, FLUSH_AT)
            .map_err(merge_failure)?
        {
            self.flush_if_full().await?;
        }
        Ok(())
    }

    async fn flush_if_full(&mut self) -> Result<(), Stop> {
        if self.out.len() >= FLUSH_AT {
            self.flush().await.map_err(|_| Stop::ClientGone)?;
        }
        Ok(())
    }
}

/// The shard's next row as the merge reads it.
async fn next_body(shard: &mut ShardAnswer<'_>, merge: &MyMerge) -> Result<Option<Vec<u8>>, Stop> {
    match shard.next_row().await? {
        None => Ok(None),
        Some(payload) => merge
            .shard_row(&payload)
            .map(Some)
            .map_err(|e| Stop::Failed(merge_failure(e))),
    }
}
