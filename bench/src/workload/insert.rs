//! `insert`: one row per INSERT with an id the client makes (unique per client and run),
//! autocommit — the write-heavy ingest pattern (sysbench's `oltp_insert`). Consecutive
//! ids hash to different shards, so the rows spread over all of them. One row per
//! statement because a proxy can route a prepared single-row INSERT by its bound key;
//! `--setup` exercises multi-row INSERTs split across shards.

use super::TxnCtx;
use crate::client::{Client, DbError};

/// Rows per statement.
pub const ROWS: i64 = 1;

/// The statements, by index: `$1` is the client, `$2` the row id.
pub const STATEMENTS: &[&str] =
    &["INSERT INTO sw_events (id, client, payload) VALUES ($2, $1, 'shardwire-bench event')"];

/// One single-row INSERT.
pub async fn transaction(client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
    let params = [ctx.client_no(), ctx.next_id()];
    client.run(0, &params).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::sql::param_count;

    #[test]
    fn the_statement_takes_the_client_and_one_id_per_row() {
        assert_eq!(param_count(STATEMENTS[0]), 1 + ROWS as usize);
        assert_eq!(STATEMENTS[0].matches("($").count(), ROWS as usize);
    }
}
