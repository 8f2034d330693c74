//! The merge step of the pipeline (DESIGN §1): a scattered `SELECT` ran on several
//! shards, and their rows must become the rows one database holding everything would
//! have returned.
//!
//! Pure and synchronous: the executor feeds protocol message bodies from the shards and
//! gets the client's frames back; no I/O here, so every rule is unit-tested. What to do is
//! the router's [`MergeSpec`]; the engine has two modes:
//!
//! - **streamed** ([`Merge::compare`], [`Merge::emit`]): shards send rows sorted by the
//!   query's `ORDER BY`; the executor keeps one head row per shard and offers the least;
//!   the engine applies `DISTINCT`, `OFFSET`, `LIMIT` and strips hidden sort columns;
//! - **grouped** ([`Merge::absorb`], [`Merge::drain`]): shards send partial aggregates;
//!   the engine combines them per group, then computes `avg`, filters by `HAVING`, sorts
//!   and writes the result.
//!
//! Values are decoded by type in both wire formats (`values`, `numeric`, `numcmp`,
//! `float`, `datetime`), so sorting, grouping and arithmetic follow PostgreSQL's rules.
//!
//! [`mysql`] runs the same engine for the MySQL frontend: column definitions become
//! fields with MySQL's kinds (collations, `TIME`, unsigned, `DECIMAL` scales), text rows
//! become row bodies, and the merged rows go out as MySQL text or binary rows.

mod aggregate;
mod datetime;
mod describe;
mod error;
mod exec;
mod float;
#[doc(hidden)]
pub mod fuzzing;
mod grouped;
mod having;
pub mod mysql;
mod numcmp;
mod numeric;
mod order;
mod rows;
mod streamed;
mod types;
mod values;
mod window;

#[cfg(test)]
mod test_support;

#[cfg(test)]
#[path = "streamed_tests.rs"]
mod streamed_tests;

#[cfg(test)]
#[path = "grouped_tests.rs"]
mod grouped_tests;

use std::cmp::Ordering;
use std::fmt;

use bytes::BytesMut;
use shardwire_router::{MergeSpec, Output};

pub use error::{code, MergeError};
pub use exec::{ExecValue, NoValues, Values};
pub use window::Emit;

use describe::{client_format, Field};
use exec::Bound;
use grouped::Grouped;
use streamed::Streamed;
use window::Window;

/// The result-format codes to request from the shards, given the client's Bind codes
/// (none: all text; one: every column; else one per visible column).
///
/// Streamed: the client's codes cover the leading columns; with one code per column,
/// hidden columns are requested as text (with none or one code they get the same format,
/// which the engine reads too). Grouped: a shard column that is a visible output gets the
/// client's format for that output; every other column is text.
pub fn shard_formats(spec: &MergeSpec, client_formats: &[i16]) -> Vec<i16> {
    if !spec.grouped {
        if client_formats.len() <= 1 {
            return client_formats.to_vec();
        }
        let mut formats = client_formats.to_vec();
        formats.extend(std::iter::repeat_n(0, spec.hidden));
        return formats;
    }
    let mut formats = vec![0; spec.columns.len()];
    for (j, output) in spec.outputs.iter().enumerate().take(spec.visible).rev() {
        if let Output::Column(i) = output {
            if let Some(f) = formats.get_mut(*i) {
                *f = client_format(client_formats, j);
            }
        }
    }
    formats
}

/// A merge in progress: one per execution of a scattered `SELECT`.
pub struct Merge {
    client_fields: Vec<Field>,
    mode: Mode,
}

enum Mode {
    Streamed(Streamed),
    Grouped(Box<Grouped>),
}

impl Merge {
    /// Prepares a merge.
    ///
    /// `shard_description` is the RowDescription body one shard sent for the shard SQL
    /// (its format codes say each column's format); `client_formats` the client's
    /// result-format codes (simple Query: none); `values` answers the plan's
    /// [`ValueRef`](shardwire_router::ValueRef)s (`LIMIT`, `OFFSET`, `ORDER BY` positions,
    /// `HAVING` constants), which are all read here.
    pub fn new(
        spec: &MergeSpec,
        shard_description: &[u8],
        client_formats: &[i16],
        values: &dyn Values,
    ) -> Result<Merge, MergeError> {
        let fields = describe::parse(shard_description)?;
        Merge::from_fields(spec, &fields, client_formats, values)
    }

    /// Prepares a merge over shard columns already read into fields (the MySQL merge
    /// makes them from column definitions).
    pub(crate) fn from_fields(
        spec: &MergeSpec,
        fields: &[Field],
        client_formats: &[i16],
        values: &dyn Values,
    ) -> Result<Merge, MergeError> {
        let limit = match &spec.limit {
            Some(r) => exec::count(values, r, Bound::Limit)?,
            None => None,
        };
        let offset = match &spec.offset {
            Some(r) => exec::count(values, r, Bound::Offset)?.unwrap_or(0),
            None => 0,
        };
        let window = Window::new(offset, limit, spec.distinct);
        if spec.grouped {
            let (grouped, client_fields) =
                Grouped::new(spec, fields, client_formats, values, window)?;
            Ok(Merge {
                client_fields,
                mode: Mode::Grouped(Box::new(grouped)),
            })
        } else {
            let streamed = Streamed::new(spec, fields, values, window)?;
            Ok(Merge {
                client_fields: streamed.client_fields(fields),
                mode: Mode::Streamed(streamed),
            })
        }
    }

    /// Appends the client's RowDescription frame: the visible columns only. Streamed: the
    /// shard's fields less the hidden ones. Grouped: per visible output, its column's
    /// field, or for `avg` a `numeric` (`float8` over float sums) field named like the
    /// sum; formats as the client asked.
    pub fn write_row_description(&self, out: &mut BytesMut) {
        describe::write(out, &self.client_fields);
    }

    /// Whether this is a grouped merge ([`Merge::absorb`] + [`Merge::drain`]) rather than
    /// a streamed one ([`Merge::compare`] + [`Merge::emit`]).
    pub fn grouped(&self) -> bool {
        matches!(self.mode, Mode::Grouped(_))
    }

    /// Streamed: orders two shard rows (DataRow bodies) by the sort keys. A malformed row
    /// compares equal; the next [`Merge::emit`] reports it.
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        match &self.mode {
            Mode::Streamed(s) => s.compare(a, b),
            Mode::Grouped(_) => Ordering::Equal,
        }
    }

    /// Streamed: offers the next row (a DataRow body) in merged order; writes a DataRow
    /// frame to `out` if the client gets it. Check [`Merge::done`] after each call: it
    /// turns true when the last row `LIMIT` allows was sent.
    pub fn emit(&mut self, row: &[u8], out: &mut BytesMut) -> Result<Emit, MergeError> {
        match &mut self.mode {
            Mode::Streamed(s) => s.emit(row, out),
            Mode::Grouped(_) => Err(MergeError::misuse("emit on a grouped merge")),
        }
    }

    /// Grouped: folds one shard row (a DataRow body of partial aggregates) into its group.
    pub fn absorb(&mut self, row: &[u8]) -> Result<(), MergeError> {
        match &mut self.mode {
            Mode::Grouped(g) => g.absorb(row),
            Mode::Streamed(_) => Err(MergeError::misuse("absorb on a streamed merge")),
        }
    }

    /// Grouped, once every shard is done: writes result rows as DataRow frames, stopping
    /// once `budget` bytes were written (at least one row per call, so it may go over by
    /// one row); returns `true` while rows remain (flush to the client and call again).
    pub fn drain(&mut self, out: &mut BytesMut, budget: usize) -> Result<bool, MergeError> {
        match &mut self.mode {
            Mode::Grouped(g) => g.drain(out, budget),
            Mode::Streamed(_) => Err(MergeError::misuse("drain on a streamed merge")),
        }
    }

    /// Rows sent to the client so far (for `SELECT n`).
    pub fn rows_sent(&self) -> u64 {
        match &self.mode {
            Mode::Streamed(s) => s.sent(),
            Mode::Grouped(g) => g.sent(),
        }
    }

    /// Whether nothing more will be sent (`LIMIT` reached): the executor can stop reading
    /// the shards.
    pub fn done(&self) -> bool {
        match &self.mode {
            Mode::Streamed(s) => s.done(),
            Mode::Grouped(g) => g.done(),
        }
    }
}

impl fmt::Debug for Merge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merge")
            .field("grouped", &self.grouped())
            .field("columns", &self.client_fields.len())
            .field("rows_sent", &self.rows_sent())
            .finish_non_exhaustive()
    }
}
