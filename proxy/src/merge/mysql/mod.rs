//! The merge engine for the MySQL frontend: the same streamed and grouped merges as
//! PostgreSQL's ([`Merge`]), over MySQL column definitions and rows.
//!
//! - `columns`: column definitions → the engine's fields (kinds by type, flags and
//!   collation), refusals for values the proxy cannot compare, `AVG`'s definition;
//! - `collation`, `time`: MySQL's string and `TIME` comparison;
//! - `rows`: text rows in, text or binary rows out (`binary` encodes values by type);
//! - `double`: MySQL's text of doubles the proxy computes (merged `SUM`/`AVG` of
//!   floating-point values);
//! - `params`: a prepared statement's parameters as SQL literals for the shard text.
//!
//! MySQL's value semantics differ from PostgreSQL's where the engine is told so:
//! `NULL`s sort first ascending (the router's sort keys say so), strings compare under
//! their collation, `AVG` of exact numbers has the argument's scale + 4 (MariaDB's
//! `div_precision_increment`), sums of integers are `DECIMAL` (the shards' `SUM` is
//! already), and `UNSIGNED BIGINT` compares beyond `i64`.

mod binary;
pub mod collation;
mod columns;
mod double;
pub mod params;
mod rows;
pub mod time;

use std::cmp::Ordering;

use bytes::BytesMut;
use shardwire_router::{ColumnRole, MergeSpec, Output, OutputRef};

pub use collation::Collation;

use super::error::{code, MergeError};
use super::exec::{self, Values};
use super::{Emit, Merge};
use crate::protocol::mysql::lenenc;
use crate::protocol::mysql::packet::framed;
use columns::{write_avg, Column};
use rows::{body_of_text_row, RowFormat};

/// One client column: a shard column's definition, or an average made from a sum's.
#[derive(Debug, Clone, Copy)]
enum ClientColumn {
    Shard(usize),
    Avg(usize),
}

/// A merge in progress for one scattered MySQL read.
pub struct MyMerge {
    merge: Merge,
    columns: Vec<Column>,
    client: Vec<ClientColumn>,
    format: RowFormat,
    /// The engine's frames, before conversion to MySQL rows.
    frames: BytesMut,
}

impl MyMerge {
    /// Prepares a merge of shard rows described by `shard_columns` (the column
    /// definition payloads one shard sent), for a client that gets text rows, or
    /// binary rows when `binary` (an answer to `COM_STMT_EXECUTE`). `values` answers
    /// the plan's execution-time values (`LIMIT`, `OFFSET`, `HAVING` constants).
    ///
    /// Refuses (`0A000`) merges that need to order or compare values the proxy cannot:
    /// strings of an unimplemented collation, `ENUM`/`SET` order, geometry.
    pub fn new(
        spec: &MergeSpec,
        shard_columns: &[&[u8]],
        values: &dyn Values,
        binary: bool,
    ) -> Result<MyMerge, MergeError> {
        let columns = shard_columns
            .iter()
            .map(|p| Column::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let client = client_columns(spec, &columns)?;
        check(spec, &columns, &client, values)?;
        let fields: Vec<_> = columns.iter().map(|c| c.field.clone()).collect();
        let merge = Merge::from_fields(spec, &fields, &[], values)?;
        let format = RowFormat {
            binary,
            types: client
                .iter()
                .map(|c| match c {
                    ClientColumn::Shard(i) => {
                        columns.get(*i).map_or((0, 0), |c| (c.column_type, c.flags))
                    }
                    ClientColumn::Avg(i) => avg_type(columns.get(*i)),
                })
                .collect(),
            computed_double: client
                .iter()
                .map(|c| match *c {
                    ClientColumn::Shard(i) => {
                        spec.grouped
                            && spec.columns.get(i) == Some(&ColumnRole::Sum)
                            && columns.get(i).is_some_and(Column::is_float)
                    }
                    ClientColumn::Avg(i) => columns.get(i).is_some_and(Column::is_float),
                })
                .collect(),
        };
        Ok(MyMerge {
            merge,
            columns,
            client,
            format,
            frames: BytesMut::new(),
        })
    }

    /// Appends the column count and the client's column definitions from sequence id
    /// `*seq` (the EOF after them is the caller's: it depends on `DEPRECATE_EOF`).
    pub fn write_columns(&self, out: &mut BytesMut, seq: &mut u8) {
        framed(out, seq, |b| lenenc::write_int(b, self.client.len() as u64));
        for c in &self.client {
            match *c {
                ClientColumn::Shard(i) => {
                    if let Some(column) = self.columns.get(i) {
                        column.write(out, seq);
                    }
                }
                ClientColumn::Avg(i) => {
                    if let Some(sum) = self.columns.get(i) {
                        write_avg(sum, out, seq);
                    }
                }
            }
        }
    }

    /// How many columns a shard row has.
    pub fn shard_width(&self) -> usize {
        self.columns.len()
    }

    /// A shard's text row (packet payload) as the row this merge compares and takes.
    pub fn shard_row(&self, payload: &[u8]) -> Result<Vec<u8>, MergeError> {
        body_of_text_row(payload, self.columns.len())
    }

    /// Whether this is a grouped merge ([`MyMerge::absorb`] + [`MyMerge::drain`]) rather
    /// than a streamed one ([`MyMerge::compare`] + [`MyMerge::emit`]).
    pub fn grouped(&self) -> bool {
        self.merge.grouped()
    }

    /// Streamed: orders two shard rows (from [`MyMerge::shard_row`]).
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        self.merge.compare(a, b)
    }

    /// Streamed: offers the next row in merged order; a row the client gets is appended
    /// to `out` as a MySQL row packet at `*seq`.
    pub fn emit(
        &mut self,
        row: &[u8],
        out: &mut BytesMut,
        seq: &mut u8,
    ) -> Result<Emit, MergeError> {
        let emit = self.merge.emit(row, &mut self.frames)?;
        self.format.convert(&mut self.frames, out, seq)?;
        Ok(emit)
    }

    /// Grouped: folds one shard row into its group.
    pub fn absorb(&mut self, row: &[u8]) -> Result<(), MergeError> {
        self.merge.absorb(row)
    }

    /// Grouped, once every shard is done: appends merged rows until about `budget`
    /// bytes were written; `true` while rows remain.
    pub fn drain(
        &mut self,
        out: &mut BytesMut,
        seq: &mut u8,
        budget: usize,
    ) -> Result<bool, MergeError> {
        let more = self.merge.drain(&mut self.frames, budget)?;
        self.format.convert(&mut self.frames, out, seq)?;
        Ok(more)
    }

    /// Whether `LIMIT` is reached: nothing more will be sent.
    pub fn done(&self) -> bool {
        self.merge.done()
    }

    /// Rows sent so far.
    pub fn rows_sent(&self) -> u64 {
        self.merge.rows_sent()
    }
}

impl std::fmt::Debug for MyMerge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MyMerge")
            .field("merge", &self.merge)
            .field("columns", &self.client.len())
            .finish_non_exhaustive()
    }
}

/// The columns the client sees.
fn client_columns(spec: &MergeSpec, columns: &[Column]) -> Result<Vec<ClientColumn>, MergeError> {
    if !spec.grouped {
        let visible = columns.len().checked_sub(spec.hidden).ok_or_else(|| {
            MergeError::new(
                code::INTERNAL_ERROR,
                format_args!(
                    "shard rows have {} columns, fewer than the {} hidden sort columns",
                    columns.len(),
                    spec.hidden
                ),
            )
        })?;
        return Ok((0..visible).map(ClientColumn::Shard).collect());
    }
    spec.outputs
        .iter()
        .take(spec.visible)
        .map(|o| match *o {
            Output::Column(i) if i < columns.len() => Ok(ClientColumn::Shard(i)),
            Output::Avg { sum, .. } if sum < columns.len() => Ok(ClientColumn::Avg(sum)),
            _ => Err(MergeError::misuse("output outside the shard columns")),
        })
        .collect()
}

/// Refuses merges that would order or compare values the proxy cannot.
fn check(
    spec: &MergeSpec,
    columns: &[Column],
    client: &[ClientColumn],
    values: &dyn Values,
) -> Result<(), MergeError> {
    let column = |i: usize| {
        columns
            .get(i)
            .ok_or_else(|| MergeError::misuse("column index"))
    };
    if spec.distinct {
        for c in client {
            if let ClientColumn::Shard(i) = *c {
                column(i)?.require_equality("DISTINCT")?;
            }
        }
    }
    for key in &spec.order_by {
        let shard_column = if spec.grouped {
            let output = match &key.output {
                OutputRef::Index(i) => *i,
                OutputRef::Ordinal(r) => exec::ordinal(values, r, spec.visible)?,
                OutputRef::Hidden(_) => continue,
            };
            match spec.outputs.get(output) {
                Some(Output::Column(i)) => Some(*i),
                _ => None,
            }
        } else {
            let visible = client.len();
            Some(match &key.output {
                OutputRef::Index(i) => *i,
                OutputRef::Hidden(k) => visible + k,
                OutputRef::Ordinal(r) => exec::ordinal(values, r, visible)?,
            })
        };
        if let Some(i) = shard_column {
            column(i)?.require_order("ORDER BY")?;
        }
    }
    if spec.grouped {
        for (i, role) in spec.columns.iter().enumerate() {
            match role {
                ColumnRole::Value => column(i)?.require_equality("GROUP BY")?,
                ColumnRole::Min => column(i)?.require_order("MIN()")?,
                ColumnRole::Max => column(i)?.require_order("MAX()")?,
                ColumnRole::Count | ColumnRole::Sum => {}
            }
        }
    }
    Ok(())
}

/// The `(type, flags)` of an average over the sum in `sum`.
fn avg_type(sum: Option<&Column>) -> (u8, u16) {
    use crate::protocol::mysql::consts::column_type as ty;
    match sum {
        Some(c) if c.is_float() => (ty::DOUBLE, 0),
        _ => (ty::NEWDECIMAL, 0),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
