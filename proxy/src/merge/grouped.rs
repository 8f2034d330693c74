//! Grouped mode: shard rows are partial aggregates. [`Grouped::absorb`] folds each into
//! its group (a hash map keyed by the canonical `Value`-role columns); once every shard is
//! done, [`Grouped::drain`] computes the outputs (`avg`), applies `HAVING`, sorts by
//! `ORDER BY` in memory (memory is bounded by the groups anyway) and writes the rows
//! through `DISTINCT`, `OFFSET` and `LIMIT`, a budget of bytes at a time.

use std::cmp::Ordering;
use std::collections::HashMap;

use bytes::BytesMut;
use shardwire_router::{ColumnRole, MergeSpec, Output, OutputRef};

use super::aggregate::{average, Acc, ColumnPlan};
use super::describe::{check_format, client_format, Field};
use super::error::{code, MergeError};
use super::exec::{self, Values};
use super::having::{compile, Cond, OutputMeta};
use super::order::{require_ordered, Key};
use super::rows;
use super::types::{oid, Kind};
use super::values::{self, Value};
use super::window::{Emit, Window};

/// One merged group's outputs, encoded.
type Row = Vec<Option<Vec<u8>>>;

/// The state of a grouped merge.
pub(crate) struct Grouped {
    columns: Vec<ColumnPlan>,
    /// Indexes of the `Value`-role columns: a group's identity.
    key_columns: Vec<usize>,
    outputs: Vec<Output>,
    metas: Vec<OutputMeta>,
    visible: usize,
    having: Option<Cond>,
    keys: Vec<Key>,
    groups: HashMap<Vec<u8>, usize>,
    accs: Vec<Vec<Acc>>,
    /// Finished rows, in order, once draining started; `next` is the next to write.
    finished: Option<Vec<Row>>,
    next: usize,
    window: Window,
}

impl Grouped {
    /// Checks the plan against the shard's fields; returns the state and the fields the
    /// client sees.
    pub(crate) fn new(
        spec: &MergeSpec,
        fields: &[Field],
        client_formats: &[i16],
        values: &dyn Values,
        window: Window,
    ) -> Result<(Grouped, Vec<Field>), MergeError> {
        if fields.len() != spec.columns.len() {
            return Err(MergeError::new(
                code::INTERNAL_ERROR,
                format_args!(
                    "shard rows have {} columns where the merge expects {}",
                    fields.len(),
                    spec.columns.len()
                ),
            ));
        }
        if client_formats.len() > 1 && client_formats.len() != spec.visible {
            return Err(MergeError::new(
                code::PROTOCOL_VIOLATION,
                format_args!(
                    "bind message has {} result formats but query has {} columns",
                    client_formats.len(),
                    spec.visible
                ),
            ));
        }
        if spec.visible > spec.outputs.len() {
            return Err(MergeError::misuse("more visible outputs than outputs"));
        }
        let columns = spec
            .columns
            .iter()
            .zip(fields)
            .map(|(role, field)| ColumnPlan::new(*role, field))
            .collect::<Result<Vec<_>, _>>()?;
        let mut metas = Vec::with_capacity(spec.outputs.len());
        let mut client_fields = Vec::with_capacity(spec.visible);
        for (j, output) in spec.outputs.iter().enumerate() {
            let format = if j < spec.visible {
                Some(check_format(client_format(client_formats, j))?)
            } else {
                None
            };
            let (meta, field) = describe_output(*output, &columns, fields, format)?;
            metas.push(meta);
            client_fields.extend(field);
        }
        let having = spec
            .having
            .as_ref()
            .map(|c| compile(c, &metas, values))
            .transpose()?;
        let mut keys = Vec::with_capacity(spec.order_by.len());
        for key in &spec.order_by {
            let index = match &key.output {
                OutputRef::Index(i) if *i < metas.len() => *i,
                OutputRef::Ordinal(r) => exec::ordinal(values, r, spec.visible)?,
                other => {
                    return Err(MergeError::new(
                        code::INTERNAL_ERROR,
                        format_args!("sort key {other:?} outside the {} outputs", metas.len()),
                    ))
                }
            };
            let meta = metas
                .get(index)
                .ok_or_else(|| MergeError::misuse("sort key index"))?;
            require_ordered(meta.kind, "ORDER BY", &meta.name, meta.type_oid)?;
            keys.push(Key {
                index,
                descending: key.descending,
                nulls_first: key.nulls_first,
                kind: meta.kind,
                binary: meta.binary,
            });
        }
        let key_columns = spec
            .columns
            .iter()
            .enumerate()
            .filter(|(_, role)| **role == ColumnRole::Value)
            .map(|(i, _)| i)
            .collect();
        let grouped = Grouped {
            columns,
            key_columns,
            outputs: spec.outputs.clone(),
            metas,
            visible: spec.visible,
            having,
            keys,
            groups: HashMap::new(),
            accs: Vec::new(),
            finished: None,
            next: 0,
            window,
        };
        Ok((grouped, client_fields))
    }

    /// Folds one shard row into its group.
    pub(crate) fn absorb(&mut self, row: &[u8]) -> Result<(), MergeError> {
        if self.finished.is_some() {
            return Err(MergeError::misuse("absorb after drain"));
        }
        let cells = rows::split(row, self.columns.len())?;
        let mut identity = Vec::new();
        values::identity(
            self.key_columns.iter().map(|&i| {
                let plan = &self.columns[i];
                (plan.kind, plan.binary, cells.get(i).copied().flatten())
            }),
            &mut identity,
        );
        let next = self.accs.len();
        let group = *self.groups.entry(identity).or_insert(next);
        if group == next {
            self.accs
                .push(self.columns.iter().map(ColumnPlan::start).collect());
        }
        let accs = self
            .accs
            .get_mut(group)
            .ok_or_else(|| MergeError::misuse("group index"))?;
        for ((acc, plan), cell) in accs.iter_mut().zip(&self.columns).zip(cells) {
            acc.absorb(plan, cell)?;
        }
        Ok(())
    }

    /// Writes merged rows until `budget` bytes were written (at least one row per call);
    /// `true` while more remain. After an error nothing more is written.
    pub(crate) fn drain(&mut self, out: &mut BytesMut, budget: usize) -> Result<bool, MergeError> {
        if self.finished.is_none() {
            let finished = self.finish();
            self.finished = Some(Vec::new());
            self.finished = Some(finished?);
        }
        let rows = self.finished.as_deref().unwrap_or_default();
        let start = out.len();
        while let Some(row) = rows.get(self.next) {
            if self.window.done() {
                break;
            }
            self.next += 1;
            let visible = row.get(..self.visible).unwrap_or_default();
            let emit = self.window.admit(|| {
                let mut identity = Vec::new();
                values::identity(
                    self.metas
                        .iter()
                        .zip(visible)
                        .map(|(m, cell)| (m.kind, m.binary, cell.as_deref())),
                    &mut identity,
                );
                Ok(identity)
            })?;
            if emit == Emit::Sent {
                rows::write_row(out, visible.iter().map(Option::as_deref));
            }
            if out.len() - start >= budget {
                // At least one row per call, so a zero budget still makes progress.
                break;
            }
        }
        let more = self.next < rows.len() && !self.window.done();
        if !more {
            self.finished = Some(Vec::new());
            self.next = 0;
        }
        Ok(more)
    }

    /// Computes every group's outputs, keeps those `HAVING` accepts, in `ORDER BY` order.
    fn finish(&mut self) -> Result<Vec<Row>, MergeError> {
        self.groups = HashMap::new();
        let mut accs = std::mem::take(&mut self.accs);
        if accs.is_empty() && self.key_columns.is_empty() {
            // Aggregates without GROUP BY give one row even over no rows.
            accs.push(self.columns.iter().map(ColumnPlan::start).collect());
        }
        let mut rows = Vec::with_capacity(accs.len());
        for group in accs {
            let row = self.outputs_of(&group)?;
            let keep = match &self.having {
                None => true,
                Some(c) => c.eval(&row, &self.metas)? == Some(true),
            };
            if keep {
                rows.push(row);
            }
        }
        self.sort(rows)
    }

    /// One group's outputs, encoded.
    fn outputs_of(&self, group: &[Acc]) -> Result<Row, MergeError> {
        let merged = group
            .iter()
            .zip(&self.columns)
            .map(|(acc, plan)| acc.finish(plan))
            .collect::<Result<Vec<_>, _>>()?;
        self.outputs
            .iter()
            .zip(&self.metas)
            .map(|(output, meta)| match *output {
                Output::Column(i) => Ok(merged.get(i).cloned().flatten()),
                Output::Avg { sum, count } => match (group.get(sum), group.get(count)) {
                    (Some(s), Some(c)) => {
                        let decimals = self.columns.get(sum).and_then(|p| p.decimals);
                        Ok(average(s, c, decimals)?.map(|a| a.encode(meta.binary)))
                    }
                    _ => Err(MergeError::misuse("avg column index")),
                },
            })
            .collect()
    }

    /// Sorts rows by the keys (stable: equal rows keep their order).
    fn sort(&self, rows: Vec<Row>) -> Result<Vec<Row>, MergeError> {
        if self.keys.is_empty() || rows.len() < 2 {
            return Ok(rows);
        }
        let mut order: Vec<usize> = (0..rows.len()).collect();
        {
            let decoded = rows
                .iter()
                .map(|row| {
                    self.keys
                        .iter()
                        .map(|k| k.decode(row.get(k.index).and_then(Option::as_deref)))
                        .collect::<Result<Vec<Option<Value<'_>>>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            order.sort_by(|&a, &b| {
                let (Some(ra), Some(rb)) = (decoded.get(a), decoded.get(b)) else {
                    return Ordering::Equal;
                };
                self.keys
                    .iter()
                    .zip(ra.iter().zip(rb))
                    .map(|(k, (x, y))| k.order(x.as_ref(), y.as_ref()))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            });
        }
        let mut slots: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
        Ok(order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect())
    }

    /// Rows sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.window.sent()
    }

    /// Whether `LIMIT` is reached.
    pub(crate) fn done(&self) -> bool {
        self.window.done()
    }
}

/// An output's meta data and, if visible (`format` given), its field for the client.
fn describe_output(
    output: Output,
    columns: &[ColumnPlan],
    fields: &[Field],
    format: Option<i16>,
) -> Result<(OutputMeta, Option<Field>), MergeError> {
    match output {
        Output::Column(i) => {
            let (plan, field) = columns
                .get(i)
                .zip(fields.get(i))
                .ok_or_else(|| MergeError::misuse("output column index"))?;
            if format.is_some_and(|f| f != field.format) {
                return Err(MergeError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format_args!(
                        "column \"{}\" came from the shards in another format than requested",
                        field.display_name()
                    ),
                ));
            }
            let meta = OutputMeta {
                kind: plan.kind,
                binary: plan.binary,
                name: field.display_name(),
                type_oid: field.type_oid,
            };
            Ok((meta, format.map(|_| field.clone())))
        }
        Output::Avg { sum, count } => {
            let roles = (
                columns.get(sum).map(|c| c.role),
                columns.get(count).map(|c| c.role),
            );
            let (Some(plan), Some(field), (Some(ColumnRole::Sum), Some(ColumnRole::Count))) =
                (columns.get(sum), fields.get(sum), roles)
            else {
                return Err(MergeError::misuse(
                    "avg over columns that are not sum and count",
                ));
            };
            let float = matches!(plan.kind, Kind::Float4 | Kind::Float8);
            let (kind, type_oid, typlen) = if float {
                (Kind::Float8, oid::FLOAT8, 8)
            } else {
                (Kind::Numeric, oid::NUMERIC, -1)
            };
            let meta = OutputMeta {
                kind,
                binary: format == Some(1),
                name: field.display_name(),
                type_oid,
            };
            let field = format.map(|format| Field {
                name: field.name.clone(),
                table_oid: 0,
                attnum: 0,
                type_oid,
                typlen,
                typmod: -1,
                format,
                kind,
                decimals: None,
            });
            Ok((meta, field))
        }
    }
}
