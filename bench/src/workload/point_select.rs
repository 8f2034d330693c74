//! `point-select`: one primary-key read, the proxy's single-shard fast path.

use super::TxnCtx;
use crate::client::{Client, DbError};

/// The statements, by index.
pub const STATEMENTS: &[&str] = &["SELECT balance FROM sw_accounts WHERE id = $1"];

/// Reads one random account (autocommit).
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    let id = ctx.key();
    client.run(0, &[id]).await
}
