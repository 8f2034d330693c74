//! Explicit transactions on the MySQL frontend, as XA branches.
//!
//! A shard joins the client's transaction with the first statement that needs it: the
//! proxy takes a primary connection and opens the branch with `XA START`, naming it by
//! the transaction, the shard, and the decision shard — the first shard enlisted, since
//! an XA branch is named before anyone knows which shards will write. COMMIT goes through
//! the `txn` coordinator: one written shard commits with `XA COMMIT … ONE PHASE`; more
//! use `XA PREPARE`, the decision row in the decider's branch, and `XA COMMIT` of the
//! decider as the commit point. Phase two runs on the connection that prepared, because
//! MariaDB lets another connection finish a prepared branch only after this one
//! disconnects.

use shardwire_txn::commit::{self, Failure, Outcome, Participant, Point};
use shardwire_txn::{Gid, TxnId};

use super::backend::{checkout, checkout_node, ConnError};
use super::session::Settings;
use crate::backend::mysql::answer::{Answer, ServerErr};
use crate::backend::mysql::pool::{discard, PooledMyConn};
use crate::backend::pg::ServerError;
use crate::cluster::MyDatabaseRuntime;
use crate::consistency::{gtid_position, Lsn};
use crate::frontend::pg::distributed::{failpoint, next_txn};

/// The decision table on every MySQL primary (created at startup).
pub const DECISION_TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS shardwire_2pc_decisions (\
     txid VARCHAR(64) NOT NULL PRIMARY KEY, \
     participants VARCHAR(1024) NOT NULL, \
     decided_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB";

/// XA error: the xid is unknown (MariaDB `ER_XAER_NOTA`).
const XAER_NOTA: u16 = 1397;

/// One shard's branch.
pub(super) struct Branch {
    /// Its shard.
    pub shard: u32,
    /// The connection the branch runs on.
    pub conn: PooledMyConn,
    /// Its xid.
    pub gid: Gid,
    /// Whether a statement that may write ran on it.
    pub wrote: bool,
    /// The branch capped `innodb_lock_wait_timeout`; its end puts the value back.
    pub restores_lock_wait: bool,
}

/// The client's open transaction.
pub(super) struct ClientTxn {
    /// Its id.
    pub id: TxnId,
    /// Branches in enlistment order; the first is the decider.
    pub branches: Vec<Branch>,
    /// `START TRANSACTION READ ONLY`.
    pub read_only: bool,
    /// Savepoints in creation order, replayed on shards that join later.
    pub savepoints: Vec<String>,
    /// The transaction cannot commit any more (a branch was lost).
    pub doomed: Option<String>,
    /// The shard of the last statement (where `SHOW WARNINGS` looks).
    pub last_shard: Option<u32>,
    /// A `SET TRANSACTION …` the client sent for this transaction, run ahead of each
    /// branch's start.
    pub characteristics: Option<String>,
}

impl ClientTxn {
    /// A transaction with no branch yet; `characteristics` is the client's
    /// `SET TRANSACTION …` for it, if any.
    pub fn new(read_only: bool, characteristics: Option<String>) -> ClientTxn {
        ClientTxn {
            characteristics,
            id: next_txn(),
            branches: Vec::new(),
            read_only,
            savepoints: Vec::new(),
            doomed: None,
            last_shard: None,
        }
    }

    /// The decision shard: the first enlisted.
    fn decider(&self) -> Option<u32> {
        self.branches.first().map(|b| b.shard)
    }

    /// Whether `shard` is enlisted.
    pub fn has_branch(&self, shard: u32) -> bool {
        self.branches.iter().any(|b| b.shard == shard)
    }

    /// The branch on `shard`, enlisting the shard if needed: a `READ ONLY` transaction
    /// runs on `replica` when one is given, as a plain read-only transaction (nothing to
    /// commit in two phases); every other transaction runs on the primary as an XA branch.
    pub async fn branch_on(
        &mut self,
        db: &MyDatabaseRuntime,
        shard: u32,
        replica: Option<usize>,
        settings: &Settings,
    ) -> Result<&mut Branch, BranchError> {
        if let Some(i) = self.branches.iter().position(|b| b.shard == shard) {
            return Ok(&mut self.branches[i]);
        }
        if self.read_only {
            let mut conn = checkout_node(db, shard, replica, settings).await?;
            let start = match &self.characteristics {
                Some(set) => format!("{set}; START TRANSACTION READ ONLY"),
                None => "START TRANSACTION READ ONLY".to_string(),
            };
            let answer = conn.query(&start).await?;
            if let Some(err) = answer.error {
                discard(conn);
                return Err(BranchError::Refused(err));
            }
            let gid = Gid {
                txn: self.id,
                participant: shard,
                decision: shard,
            };
            self.branches.push(Branch {
                shard,
                conn,
                gid,
                wrote: false,
                restores_lock_wait: false,
            });
            let last = self.branches.len() - 1;
            return Ok(&mut self.branches[last]);
        }
        let mut conn = checkout(db, shard, settings).await?;
        let gid = Gid {
            txn: self.id,
            participant: shard,
            decision: self.decider().unwrap_or(shard),
        };
        // Lock waits end in an error rather than hang: a cycle across shards is a
        // deadlock no single server can see. A shorter timeout the client set stays.
        // The session's own value is kept aside and put back when the branch ends, so
        // the connection serves its next client unchanged.
        let mut begin = match db.transaction_lock_timeout_secs {
            0 => String::new(),
            secs => format!(
                "SET @shardwire_lock_wait = @@innodb_lock_wait_timeout, \
                 SESSION innodb_lock_wait_timeout = LEAST(@@innodb_lock_wait_timeout, {secs}); "
            ),
        };
        if let Some(set) = &self.characteristics {
            begin.push_str(set);
            begin.push_str("; ");
        }
        begin.push_str(&format!("XA START '{gid}'"));
        for savepoint in &self.savepoints {
            begin.push_str(&format!("; SAVEPOINT `{}`", savepoint.replace('`', "``")));
        }
        let answer = conn.query(&begin).await?;
        if let Some(err) = answer.error {
            discard(conn);
            return Err(BranchError::Refused(err));
        }
        self.branches.push(Branch {
            shard,
            conn,
            gid,
            wrote: false,
            restores_lock_wait: db.transaction_lock_timeout_secs > 0,
        });
        let last = self.branches.len() - 1;
        Ok(&mut self.branches[last])
    }

    /// Commits through the coordinator; also returns the GTID each branch's commit
    /// reported (the session's new positions).
    pub async fn commit(self) -> (Outcome, Vec<(u32, Lsn)>) {
        if self.read_only {
            // Nothing was written: each branch ends on its own.
            self.end_read_only("COMMIT").await;
            return (Outcome::Committed { two_phase: false }, Vec::new());
        }
        if let Some(reason) = self.doomed.clone() {
            self.abandon().await;
            let failure = Failure::Refused {
                code: "XA100".into(),
                message: reason,
            };
            return (Outcome::RolledBack(failure), Vec::new());
        }
        if self.branches.len() > 1 {
            failpoint("begun");
        }
        let decider = self.decider();
        let mut participants: Vec<XaParticipant> =
            self.branches.into_iter().map(XaParticipant::new).collect();
        let outcome = commit::commit_deciding(self.id, &mut participants, decider, |point| {
            failpoint(match point {
                Point::PreparedSome => "prepared_some",
                Point::PreparedAll => "prepared_all",
                Point::Decided => "decided",
                Point::CommittingRest => "committing_rest",
            })
        })
        .await;
        let positions = participants
            .iter_mut()
            .filter_map(|p| {
                let gtid = p.branch.conn.last_gtid.take()?;
                let position = gtid_position(std::str::from_utf8(&gtid).ok()?)?;
                Some((p.branch.shard, position))
            })
            .collect();
        for p in participants {
            p.release();
        }
        (outcome, positions)
    }

    /// Ends the plain transactions of a `READ ONLY` transaction's branches.
    async fn end_read_only(self, sql: &str) {
        for mut branch in self.branches {
            match branch.conn.query(sql).await {
                Ok(answer) if answer.error.is_none() && !branch.conn.in_transaction() => {}
                _ => discard(branch.conn),
            }
        }
    }

    /// Rolls every branch back.
    pub async fn rollback(self) {
        if self.read_only {
            self.end_read_only("ROLLBACK").await;
            return;
        }
        let mut participants: Vec<XaParticipant> =
            self.branches.into_iter().map(XaParticipant::new).collect();
        commit::rollback(&mut participants).await;
        for p in participants {
            p.release();
        }
    }

    /// Rolls back, for a client that left or reset.
    pub async fn abandon(self) {
        self.rollback().await;
    }
}

/// Why a shard could not join the transaction.
#[derive(Debug, thiserror::Error)]
pub(super) enum BranchError {
    /// No connection.
    #[error("{0}")]
    Conn(#[from] ConnError),
    /// `XA START` was refused.
    #[error("{}", .0.message)]
    Refused(ServerErr),
}

impl From<ServerError> for BranchError {
    fn from(e: ServerError) -> Self {
        BranchError::Conn(ConnError::Server(e))
    }
}

/// A branch as the coordinator sees it.
struct XaParticipant {
    branch: Branch,
    /// `XA END` done.
    ended: bool,
    /// The branch is finished (committed or rolled back) or its connection is unusable.
    settled: bool,
}

impl XaParticipant {
    fn new(branch: Branch) -> XaParticipant {
        XaParticipant {
            branch,
            ended: false,
            settled: false,
        }
    }

    /// Returns the connection to the pool, or drops it if the branch is not settled.
    fn release(self) {
        if !self.settled || self.branch.conn.broken || self.branch.conn.in_transaction() {
            discard(self.branch.conn);
        }
    }

    async fn run(&mut self, sql: &str) -> Result<Answer, Failure> {
        match self.branch.conn.query(sql).await {
            Ok(answer) => match answer.error {
                None => Ok(answer),
                Some(err) => Err(refused(err)),
            },
            Err(e) => {
                self.branch.conn.broken = true;
                Err(Failure::Lost(e.to_string()))
            }
        }
    }

    async fn end(&mut self) -> Result<(), Failure> {
        if !self.ended {
            let sql = format!("XA END '{}'", self.branch.gid);
            self.run(&sql).await?;
            self.ended = true;
        }
        Ok(())
    }

    /// `sql` (the statement that ends the branch) followed by putting the session's lock
    /// wait timeout back, in the same round trip; it runs only if `sql` succeeded.
    fn finishing(&self, sql: String) -> String {
        if self.branch.restores_lock_wait {
            format!("{sql}; SET SESSION innodb_lock_wait_timeout = @shardwire_lock_wait")
        } else {
            sql
        }
    }

    /// `XA END '…'; ` when the branch is not ended yet: sent ahead of the next XA command
    /// in one COM_QUERY (the server stops at the first error, so nothing runs after a
    /// failed XA END).
    fn end_prefix(&self) -> String {
        if self.ended {
            String::new()
        } else {
            format!("XA END '{}'; ", self.branch.gid)
        }
    }
}

fn refused(err: ServerErr) -> Failure {
    let code = if err.code == XAER_NOTA {
        // The coordinator's "prepared transaction does not exist".
        commit::UNDEFINED_OBJECT.to_string()
    } else {
        format!("{}:{}", err.code, err.sqlstate)
    };
    Failure::Refused {
        code,
        message: err.message,
    }
}

impl Participant for XaParticipant {
    fn shard(&self) -> u32 {
        self.branch.shard
    }

    fn wrote(&self) -> bool {
        self.branch.wrote
    }

    async fn prepare(
        &mut self,
        gid: &Gid,
        decision: Option<(&TxnId, &[u32])>,
    ) -> Result<(), Failure> {
        debug_assert_eq!(gid.to_string(), self.branch.gid.to_string());
        if let Some((txn, shards)) = decision {
            let list: Vec<String> = shards.iter().map(u32::to_string).collect();
            let sql = format!(
                "INSERT INTO shardwire_2pc_decisions (txid, participants) VALUES ('{txn}', '{}')",
                list.join(",")
            );
            self.run(&sql).await?;
        }
        // XA END and XA PREPARE in one round trip; an error stops the rest.
        let sql = format!("{}XA PREPARE '{}'", self.end_prefix(), self.branch.gid);
        self.run(&sql).await?;
        self.ended = true;
        Ok(())
    }

    async fn commit_prepared(&mut self, _gid: &Gid) -> Result<(), Failure> {
        let sql = self.finishing(format!("XA COMMIT '{}'", self.branch.gid));
        self.run(&sql).await?;
        self.settled = true;
        Ok(())
    }

    async fn rollback_prepared(&mut self, _gid: &Gid) -> Result<(), Failure> {
        let sql = self.finishing(format!("XA ROLLBACK '{}'", self.branch.gid));
        self.run(&sql).await?;
        self.settled = true;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), Failure> {
        let sql = self.finishing(format!(
            "{}XA COMMIT '{}' ONE PHASE",
            self.end_prefix(),
            self.branch.gid
        ));
        self.run(&sql).await?;
        self.ended = true;
        self.settled = true;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), Failure> {
        // A branch the server already rolled back (deadlock, lock wait timeout with
        // innodb_rollback_on_timeout) refuses XA END with an XA_RB* error and then
        // accepts XA ROLLBACK.
        let _ = self.end().await;
        let sql = self.finishing(format!("XA ROLLBACK '{}'", self.branch.gid));
        let result = self.run(&sql).await;
        if result.is_ok() {
            self.settled = true;
        }
        result.map(drop)
    }
}
