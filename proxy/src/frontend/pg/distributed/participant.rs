//! The PostgreSQL participant of the two-phase-commit coordinator: a session's server
//! connection inside the client's transaction on one shard.

use shardwire_txn::commit::{Failure, Participant};
use shardwire_txn::{Gid, TxnId};

use super::super::exchange::PRIMARY_POSITION_SQL;
use crate::backend::control::{self, Answer};
use crate::backend::pg::ServerConn;
use crate::protocol::pg::sqlstate;

/// The decision table on every shard primary (created by recovery at startup).
/// Schema-qualified: the client's `search_path` is replayed on the connection.
pub const DECISION_TABLE: &str = "public.shardwire_2pc_decisions";

/// One shard's connection as a 2PC participant.
pub struct PgParticipant<'c> {
    /// The connection, inside the client's transaction.
    pub conn: &'c mut ServerConn,
    /// Its shard.
    pub shard: u32,
    /// Whether the client's transaction wrote there.
    pub wrote: bool,
    /// Ask for the WAL position after committing (the shard has replicas a `session`
    /// read could use: read-your-writes needs the commit's position).
    pub capture: bool,
    /// The position captured after the commit.
    pub position: Option<String>,
}

impl PgParticipant<'_> {
    /// Runs control statements and checks that the last one answered `tag`.
    async fn expect(&mut self, statements: &[&str], tag: &str) -> Result<(), Failure> {
        let answer = control::run(self.conn, statements)
            .await
            .map_err(Failure::Lost)?;
        check(&answer, tag)
    }

    /// A commit, followed (pipelined) by the position query when positions are wanted.
    async fn commit_with_position(&mut self, commit: &str, tag: &str) -> Result<(), Failure> {
        if !self.capture {
            return self.expect(&[commit], tag).await;
        }
        let answer = control::run(self.conn, &[commit, PRIMARY_POSITION_SQL])
            .await
            .map_err(Failure::Lost)?;
        match answer.tags.first() {
            // Committed: an error of the position query after it changes nothing.
            Some(t) if t == tag => {
                self.position = answer.first_value().map(str::to_string);
                Ok(())
            }
            // Not committed: the server's error, or the tag it answered instead.
            _ => check(&answer, tag),
        }
    }
}

/// An answer whose last tag is not `tag` (e.g. `ROLLBACK` for a `PREPARE TRANSACTION` in
/// a failed transaction) is a refusal, with the server's error when it sent one.
fn check(answer: &Answer, tag: &str) -> Result<(), Failure> {
    if let Some((code, message)) = answer.error_fields() {
        return Err(Failure::Refused { code, message });
    }
    match answer.tags.last() {
        Some(t) if t == tag => Ok(()),
        other => Err(Failure::Refused {
            code: sqlstate::TRANSACTION_ROLLBACK.to_string(),
            message: format!(
                "shardwire: the transaction was rolled back on a shard ({tag} answered {})",
                other.map_or("nothing", String::as_str)
            ),
        }),
    }
}

impl Participant for PgParticipant<'_> {
    fn shard(&self) -> u32 {
        self.shard
    }

    fn wrote(&self) -> bool {
        self.wrote
    }

    async fn prepare(
        &mut self,
        gid: &Gid,
        decision: Option<(&TxnId, &[u32])>,
    ) -> Result<(), Failure> {
        let prepare = format!("PREPARE TRANSACTION '{gid}'");
        match decision {
            Some((txn, shards)) => {
                let list: Vec<String> = shards.iter().map(u32::to_string).collect();
                let record = format!(
                    "INSERT INTO {DECISION_TABLE} (txid, participants) VALUES ('{txn}', '{{{}}}')",
                    list.join(",")
                );
                self.expect(&[&record, &prepare], "PREPARE TRANSACTION")
                    .await
            }
            None => self.expect(&[&prepare], "PREPARE TRANSACTION").await,
        }
    }

    async fn commit_prepared(&mut self, gid: &Gid) -> Result<(), Failure> {
        self.commit_with_position(&format!("COMMIT PREPARED '{gid}'"), "COMMIT PREPARED")
            .await
    }

    async fn rollback_prepared(&mut self, gid: &Gid) -> Result<(), Failure> {
        self.expect(
            &[&format!("ROLLBACK PREPARED '{gid}'")],
            "ROLLBACK PREPARED",
        )
        .await
    }

    async fn commit(&mut self) -> Result<(), Failure> {
        self.commit_with_position("COMMIT", "COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), Failure> {
        self.expect(&["ROLLBACK"], "ROLLBACK").await
    }
}
