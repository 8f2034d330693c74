//! What must hold after a run, read back through the target: sums of balances.
//!
//! The reads are plain aggregates (`sum`, `max`) so a sharding proxy can answer them by
//! merging per-shard results; values come back as text because PostgreSQL's
//! `sum(bigint)` is `numeric` and MySQL's is `DECIMAL`.

use serde::Serialize;

use crate::client::{Client, DbError};

/// The outcome of an invariant check, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invariant {
    /// Whether it held.
    pub intact: bool,
    /// The numbers compared.
    pub detail: String,
}

/// `sum(column)` of a table; an empty table sums to 0.
pub async fn sum(client: &mut Client, table: &str, column: &str) -> Result<i128, DbError> {
    let text = client
        .scalar(&format!("SELECT sum({column}) FROM {table}"))
        .await?;
    parse_integer(text.as_deref(), table, column)
}

/// `max(column)` of a table; an empty table gives 0.
pub async fn max_of(client: &mut Client, table: &str, column: &str) -> Result<u64, DbError> {
    let text = client
        .scalar(&format!("SELECT max({column}) FROM {table}"))
        .await?;
    let max = parse_integer(text.as_deref(), table, column)?;
    Ok(u64::try_from(max).unwrap_or(0))
}

fn parse_integer(text: Option<&str>, table: &str, column: &str) -> Result<i128, DbError> {
    let Some(text) = text else { return Ok(0) };
    // A DECIMAL sum may carry a zero fraction.
    let whole = text.split_once('.').map_or(text, |(whole, _)| whole);
    whole
        .parse()
        .map_err(|_| DbError::client(format!("{table}.{column}: not an integer: {text:?}")))
}

/// Transfers and read-write updates move money; they never create or destroy it.
pub async fn total_balance(client: &mut Client, expected: i128) -> Result<Invariant, DbError> {
    let total = sum(client, "sw_accounts", "balance").await?;
    Ok(Invariant {
        intact: total == expected,
        detail: format!("sum(balance) = {total}, before the run {expected}"),
    })
}

/// TPC-B adds each delta to one account, teller and branch and logs it in history, so
/// the four sums stay equal.
pub async fn tpcb(client: &mut Client) -> Result<Invariant, DbError> {
    let accounts = sum(client, "sw_accounts_tpcb", "abalance").await?;
    let branches = sum(client, "sw_branches", "bbalance").await?;
    let tellers = sum(client, "sw_tellers", "tbalance").await?;
    let history = sum(client, "sw_history", "delta").await?;
    Ok(tpcb_outcome(accounts, branches, tellers, history))
}

fn tpcb_outcome(accounts: i128, branches: i128, tellers: i128, history: i128) -> Invariant {
    Invariant {
        intact: accounts == branches && branches == tellers && tellers == history,
        detail: format!(
            "sum(abalance) = {accounts}, sum(bbalance) = {branches}, \
             sum(tbalance) = {tellers}, sum(delta) = {history}"
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sums_parse_from_numeric_and_decimal_text() {
        assert_eq!(parse_integer(Some("-42"), "t", "c").unwrap(), -42);
        assert_eq!(parse_integer(Some("123.000"), "t", "c").unwrap(), 123);
        assert_eq!(parse_integer(None, "t", "c").unwrap(), 0);
        let err = parse_integer(Some("abc"), "t", "c").unwrap_err();
        assert!(err.message.contains("t.c"), "{err}");
    }

    #[test]
    fn tpcb_needs_all_four_sums_equal() {
        assert!(tpcb_outcome(5, 5, 5, 5).intact);
        let broken = tpcb_outcome(5, 5, 4, 5);
        assert!(!broken.intact);
        assert!(broken.detail.contains("sum(tbalance) = 4"));
    }
}
