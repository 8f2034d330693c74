//! `read-write`: four point reads and two updates that cancel out (+1 and −1), in one
//! transaction; the total balance must not change.

use super::{finish, TxnCtx};
use crate::client::{Client, DbError};

const SELECT: usize = 0;
const ADD_ONE: usize = 1;
const TAKE_ONE: usize = 2;

/// The statements, by index.
pub const STATEMENTS: &[&str] = &[
    "SELECT balance FROM sw_accounts WHERE id = $1",
    "UPDATE sw_accounts SET balance = balance + 1 WHERE id = $1",
    "UPDATE sw_accounts SET balance = balance - 1 WHERE id = $1",
];

/// BEGIN; 4 × SELECT; UPDATE +1; UPDATE −1 on another account; COMMIT.
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    client.batch("BEGIN").await?;
    let body = body(client, ctx).await;
    finish(client, body).await
}

async fn body(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    for _ in 0..4 {
        let id = ctx.key();
        client.run(SELECT, &[id]).await?;
    }
    // Lower id first (see `two_keys`); which of the two gains is random.
    let (low, high) = ctx.two_keys();
    let (first, second) = if ctx.coin() {
        (ADD_ONE, TAKE_ONE)
    } else {
        (TAKE_ONE, ADD_ONE)
    };
    client.run(first, &[low]).await?;
    client.run(second, &[high]).await
}
