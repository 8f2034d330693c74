//! The workloads: what one transaction does, which tables it needs, and what must still
//! hold after a run.
//!
//! Each workload module owns its statements (`$n` placeholders, integer parameters) and
//! one `transaction` function; this module dispatches on [`Workload`] with a `match` so
//! every future stays a concrete, `Send` type for the runner's tasks.

mod fan_out;
mod insert;
mod invariant;
mod point_select;
mod read_write;
pub mod setup;
pub mod tables;
mod tpcb;
mod transfer;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::client::{Client, DbError};
pub use invariant::Invariant;
use tables::Table;

/// Which transaction the clients run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// One `SELECT` by primary key.
    PointSelect,
    /// Four point selects and two updates that cancel out, in one transaction.
    ReadWrite,
    /// pgbench's TPC-B-like transaction over four tables, crossing shards.
    Tpcb,
    /// Moves an amount between two accounts.
    Transfer,
    /// Appends rows with client-generated ids, autocommit.
    Insert,
    /// A range aggregate that every shard answers.
    FanOut,
}

/// Rows per `INSERT` of the insert workload.
pub const INSERT_ROWS: i64 = insert::ROWS;

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::PointSelect => "point-select",
            Workload::ReadWrite => "read-write",
            Workload::Tpcb => "tpcb",
            Workload::Transfer => "transfer",
            Workload::Insert => "insert",
            Workload::FanOut => "fan-out",
        }
    }

    /// The statements a connection prepares; transactions refer to them by index.
    pub fn statements(self) -> &'static [&'static str] {
        match self {
            Workload::PointSelect => point_select::STATEMENTS,
            Workload::ReadWrite => read_write::STATEMENTS,
            Workload::Tpcb => tpcb::STATEMENTS,
            Workload::Transfer => transfer::STATEMENTS,
            Workload::Insert => insert::STATEMENTS,
            Workload::FanOut => fan_out::STATEMENTS,
        }
    }

    /// The tables `--setup` creates and `--print-tables` describes.
    pub fn tables(self) -> &'static [&'static Table] {
        match self {
            Workload::Tpcb => &[
                &tables::BRANCHES,
                &tables::TELLERS,
                &tables::TPCB_ACCOUNTS,
                &tables::HISTORY,
            ],
            Workload::Insert => &[&tables::EVENTS],
            _ => &[&tables::ACCOUNTS],
        }
    }

    /// `--scale` when not given: accounts for most, pgbench scale units for tpcb.
    pub fn default_scale(self) -> u64 {
        match self {
            Workload::Tpcb => 1,
            _ => 10_000,
        }
    }

    /// Runs one transaction. A failed transaction has been rolled back on return.
    pub async fn transaction(self, client: &mut Client, ctx: &mut TxnCtx) -> Result<(), DbError> {
        match self {
            Workload::PointSelect => point_select::transaction(client, ctx).await,
            Workload::ReadWrite => read_write::transaction(client, ctx).await,
            Workload::Tpcb => tpcb::transaction(client, ctx).await,
            Workload::Transfer => transfer::transaction(client, ctx).await,
            Workload::Insert => insert::transaction(client, ctx).await,
            Workload::FanOut => fan_out::transaction(client, ctx).await,
        }
    }
}

/// What a run learns from the database before it starts.
#[derive(Clone, Debug)]
pub struct RunBasis {
    /// Rows (or tpcb scale units) the workload picks keys from.
    pub scale: u64,
    /// The first client number of this run: ids the clients make (`client << 40 |
    /// counter`) never collide with an earlier run's.
    pub first_client: i64,
    /// The invariant's starting value (total balance), for workloads that keep one.
    pub baseline: Option<i128>,
}

impl Workload {
    /// Reads what the run needs: the scale when not given, the next free client number
    /// and the invariant's baseline. Fails early when the tables are missing.
    pub async fn basis(self, client: &mut Client, scale: Option<u64>) -> Result<RunBasis, DbError> {
        let scale = match (scale, self) {
            (Some(scale), _) => scale,
            (None, Workload::Insert) => self.default_scale(),
            (None, Workload::Tpcb) => invariant::max_of(client, "sw_branches", "bid").await?,
            (None, _) => invariant::max_of(client, "sw_accounts", "id").await?,
        };
        if scale == 0 && self != Workload::Insert {
            return Err(DbError::client(format!(
                "the {} tables are empty: run with --setup",
                self.name()
            )));
        }
        let first_client = match self {
            Workload::Insert => next_client(client, "sw_events", "id").await?,
            Workload::Tpcb => next_client(client, "sw_history", "hid").await?,
            _ => 0,
        };
        let baseline = match self {
            Workload::ReadWrite | Workload::Transfer => {
                Some(invariant::sum(client, "sw_accounts", "balance").await?)
            }
            _ => None,
        };
        Ok(RunBasis {
            scale,
            first_client,
            baseline,
        })
    }

    /// Checks the workload's invariant after a run (`None` for workloads without one).
    pub async fn check(
        self,
        client: &mut Client,
        basis: &RunBasis,
    ) -> Result<Option<Invariant>, DbError> {
        match (self, basis.baseline) {
            (Workload::Tpcb, _) => Ok(Some(invariant::tpcb(client).await?)),
            (Workload::ReadWrite | Workload::Transfer, Some(expected)) => {
                Ok(Some(invariant::total_balance(client, expected).await?))
            }
            _ => Ok(None),
        }
    }
}

async fn next_client(client: &mut Client, table: &str, column: &str) -> Result<i64, DbError> {
    let max = invariant::max_of(client, table, column).await?;
    Ok(i64::try_from(max >> ID_BITS).unwrap_or(0) + 1)
}

/// Low bits of a client-made id that hold the client's counter.
const ID_BITS: u32 = 40;

/// One client's state across its transactions.
pub struct TxnCtx {
    rng: SmallRng,
    client_no: i64,
    counter: i64,
    scale: i64,
}

impl TxnCtx {
    /// State for client `index` of a run.
    pub fn new(basis: &RunBasis, index: usize, seed: u64) -> TxnCtx {
        let client_no = basis.first_client + index as i64;
        TxnCtx {
            rng: SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            client_no,
            counter: 0,
            scale: i64::try_from(basis.scale.max(1)).unwrap_or(i64::MAX),
        }
    }

    /// A uniformly random key in `1..=scale`.
    fn key(&mut self) -> i64 {
        self.rng.random_range(1..=self.scale)
    }

    /// A random key in `1..=scale * per_unit` (tpcb's tellers and accounts).
    fn key_times(&mut self, per_unit: i64) -> i64 {
        self.rng
            .random_range(1..=self.scale.saturating_mul(per_unit))
    }

    /// Two different keys, the lower first: updating in this order is how a careful
    /// application keeps lock cycles (which span shards here) from forming.
    fn two_keys(&mut self) -> (i64, i64) {
        if self.scale < 2 {
            return (1, 1);
        }
        loop {
            let (a, b) = (self.key(), self.key());
            if a != b {
                return (a.min(b), a.max(b));
            }
        }
    }

    fn int(&mut self, range: std::ops::RangeInclusive<i64>) -> i64 {
        self.rng.random_range(range)
    }

    fn coin(&mut self) -> bool {
        self.rng.random_bool(0.5)
    }

    /// The client's number (stored by the insert workload).
    fn client_no(&self) -> i64 {
        self.client_no
    }

    /// The next id unique to this client: `client << 40 | counter`.
    fn next_id(&mut self) -> i64 {
        self.counter += 1;
        (self.client_no << ID_BITS) | self.counter
    }
}

/// Ends a transaction: COMMIT after success, ROLLBACK after a failure (the failure is
/// what the caller sees).
/// When the ROLLBACK fails too, the error says the connection is lost, so the runner
/// makes a new one instead of reusing one in an unknown state.
async fn finish(client: &mut Client, body: Result<(), DbError>) -> Result<(), DbError> {
    let mut error = match body {
        Ok(()) => match client.batch("COMMIT").await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        },
        Err(e) => e,
    };
    if !client.rollback().await {
        error.connection_lost = true;
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(scale: u64, first_client: i64) -> RunBasis {
        RunBasis {
            scale,
            first_client,
            baseline: None,
        }
    }

    #[test]
    fn client_ids_are_disjoint_between_clients_and_runs() {
        let mut a = TxnCtx::new(&basis(10, 1), 0, 7);
        let mut b = TxnCtx::new(&basis(10, 1), 1, 7);
        let (a1, b1) = (a.next_id(), b.next_id());
        assert_eq!(a1, (1 << 40) | 1);
        assert_eq!(b1, (2 << 40) | 1);
        // A later run starts above the largest id seen.
        let first = (b1 >> ID_BITS) + 1;
        let mut c = TxnCtx::new(&basis(10, first), 0, 7);
        assert!(c.next_id() > b1);
    }

    #[test]
    fn keys_stay_in_range_and_pairs_are_ordered() {
        let mut ctx = TxnCtx::new(&basis(5, 0), 3, 1);
        for _ in 0..1000 {
            let k = ctx.key();
            assert!((1..=5).contains(&k));
            let (lo, hi) = ctx.two_keys();
            assert!(lo < hi && hi <= 5);
            assert!((1..=50).contains(&ctx.key_times(10)));
        }
    }
}
