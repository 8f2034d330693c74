//! `transfer`: moves a random amount from one account to another in one transaction —
//! across shards when the two ids hash apart, so a proxy commits it with 2PC. The total
//! balance must not change.

use super::{finish, TxnCtx};
use crate::client::{Client, DbError};

/// The statements, by index.
pub const STATEMENTS: &[&str] = &["UPDATE sw_accounts SET balance = balance + $2 WHERE id = $1"];

/// BEGIN; UPDATE the lower id; UPDATE the higher id; COMMIT.
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    let (low, high) = ctx.two_keys();
    let amount = ctx.int(1..=100);
    // The lower id is locked first whichever way the money goes.
    let low_delta = if ctx.coin() { amount } else { -amount };
    client.batch("BEGIN").await?;
    let body = async {
        client.run(0, &[low, low_delta]).await?;
        client.run(0, &[high, -low_delta]).await
    }
    .await;
    finish(client, body).await
}
