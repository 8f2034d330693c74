//! `tpcb`: pgbench's TPC-B-like transaction. Account, teller and branch are sharded by
//! their own ids and history by account, so one transaction usually writes several
//! shards and a proxy commits it with 2PC.

use super::{finish, TxnCtx};
use crate::client::{Client, DbError};

const UPDATE_ACCOUNT: usize = 0;
const SELECT_ACCOUNT: usize = 1;
const UPDATE_TELLER: usize = 2;
const UPDATE_BRANCH: usize = 3;
const INSERT_HISTORY: usize = 4;

/// Tellers per branch (pgbench's).
pub const TELLERS_PER_BRANCH: i64 = 10;
/// Accounts per branch. pgbench has 100,000; ours are 10,000 so a test can load a few
/// scale units through a proxy in seconds.
pub const ACCOUNTS_PER_BRANCH: i64 = 10_000;

/// The statements, by index.
pub const STATEMENTS: &[&str] = &[
    "UPDATE sw_accounts_tpcb SET abalance = abalance + $2 WHERE aid = $1",
    "SELECT abalance FROM sw_accounts_tpcb WHERE aid = $1",
    "UPDATE sw_tellers SET tbalance = tbalance + $2 WHERE tid = $1",
    "UPDATE sw_branches SET bbalance = bbalance + $2 WHERE bid = $1",
    // The shard key (aid) is in the column list: the proxy routes INSERTs by it.
    "INSERT INTO sw_history (hid, tid, bid, aid, delta, mtime) \
     VALUES ($1, $2, $3, $4, $5, CURRENT_TIMESTAMP)",
];

/// pgbench's "TPC-B (sort of)": account, teller, branch updated by a delta, history row.
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    let aid = ctx.key_times(ACCOUNTS_PER_BRANCH);
    let bid = ctx.key();
    let tid = ctx.key_times(TELLERS_PER_BRANCH);
    let delta = ctx.int(-5000..=5000);
    let hid = ctx.next_id();
    client.batch("BEGIN").await?;
    let body = async {
        client.run(UPDATE_ACCOUNT, &[aid, delta]).await?;
        client.run(SELECT_ACCOUNT, &[aid]).await?;
        client.run(UPDATE_TELLER, &[tid, delta]).await?;
        client.run(UPDATE_BRANCH, &[bid, delta]).await?;
        client
            .run(INSERT_HISTORY, &[hid, tid, bid, aid, delta])
            .await
    }
    .await;
    finish(client, body).await
}
