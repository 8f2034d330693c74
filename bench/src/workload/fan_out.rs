//! `fan-out`: a range aggregate no single shard can answer, so a proxy sends it to every
//! shard and merges the partial counts and sums.

use super::TxnCtx;
use crate::client::{Client, DbError};

/// The statements, by index.
pub const STATEMENTS: &[&str] =
    &["SELECT count(*), sum(balance) FROM sw_accounts WHERE id BETWEEN $1 AND $1 + 1000"];

/// Aggregates a random window of ~1000 accounts (autocommit).
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    let from = ctx.key();
    client.run(0, &[from]).await
}
