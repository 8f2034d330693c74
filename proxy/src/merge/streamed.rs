//! Streamed mode: every shard sends its rows sorted by the query's `ORDER BY`; the
//! executor keeps one head row per shard and offers the least (by [`Streamed::compare`])
//! to [`Streamed::emit`], which applies `DISTINCT`, `OFFSET` and `LIMIT` and strips the
//! hidden trailing sort columns. Rows are copied through unchanged when nothing is hidden.

use std::cmp::Ordering;
use std::sync::OnceLock;

use bytes::BytesMut;
use shardwire_router::{MergeSpec, OutputRef};

use super::describe::Field;
use super::error::{code, MergeError};
use super::exec::{self, Values};
use super::order::{require_ordered, Key};
use super::rows;
use super::types::Kind;
use super::values;
use super::window::{Emit, Window};

/// The state of a streamed merge.
pub(crate) struct Streamed {
    /// Per shard column: kind and binary format.
    columns: Vec<(Kind, bool)>,
    /// Leading columns the client sees.
    visible: usize,
    keys: Vec<Key>,
    window: Window,
    /// The first error met while comparing, reported by the next `emit`.
    error: OnceLock<MergeError>,
}

impl Streamed {
    /// Resolves the sort keys against the shard's fields.
    pub(crate) fn new(
        spec: &MergeSpec,
        fields: &[Field],
        values: &dyn Values,
        window: Window,
    ) -> Result<Streamed, MergeError> {
        let visible = fields.len().checked_sub(spec.hidden).ok_or_else(|| {
            MergeError::new(
                code::INTERNAL_ERROR,
                format_args!(
                    "shard rows have {} columns, fewer than the {} hidden sort columns",
                    fields.len(),
                    spec.hidden
                ),
            )
        })?;
        let mut keys = Vec::with_capacity(spec.order_by.len());
        for key in &spec.order_by {
            let index = match &key.output {
                OutputRef::Index(i) if *i < visible => *i,
                OutputRef::Hidden(k) if *k < spec.hidden => visible + k,
                OutputRef::Ordinal(r) => exec::ordinal(values, r, visible)?,
                other => {
                    return Err(MergeError::new(
                        code::INTERNAL_ERROR,
                        format_args!(
                            "sort key {other:?} outside the {} shard columns",
                            fields.len()
                        ),
                    ))
                }
            };
            let field = fields
                .get(index)
                .ok_or_else(|| MergeError::misuse("sort key index"))?;
            let kind = field.kind;
            require_ordered(kind, "ORDER BY", &field.display_name(), field.type_oid)?;
            keys.push(Key {
                index,
                descending: key.descending,
                nulls_first: key.nulls_first,
                kind,
                binary: field.binary(),
            });
        }
        Ok(Streamed {
            columns: fields.iter().map(|f| (f.kind, f.binary())).collect(),
            visible,
            keys,
            window,
            error: OnceLock::new(),
        })
    }

    /// The fields the client sees.
    pub(crate) fn client_fields(&self, fields: &[Field]) -> Vec<Field> {
        fields.iter().take(self.visible).cloned().collect()
    }

    /// Orders two shard rows by the sort keys; a malformed row compares equal and its
    /// error is reported by the next [`Streamed::emit`].
    pub(crate) fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        match self.try_compare(a, b) {
            Ok(o) => o,
            Err(e) => {
                // Only the first error is kept.
                let _ = self.error.set(e);
                Ordering::Equal
            }
        }
    }

    fn try_compare(&self, a: &[u8], b: &[u8]) -> Result<Ordering, MergeError> {
        for key in &self.keys {
            let o = key.compare(rows::cell(a, key.index)?, rows::cell(b, key.index)?)?;
            if o != Ordering::Equal {
                return Ok(o);
            }
        }
        Ok(Ordering::Equal)
    }

    /// Offers the next row in merged order.
    pub(crate) fn emit(&mut self, row: &[u8], out: &mut BytesMut) -> Result<Emit, MergeError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.window.done() {
            return Ok(Emit::Done);
        }
        let width = self.columns.len();
        let end = rows::prefix_end(row, width, self.visible)?;
        let columns = &self.columns;
        let visible = self.visible;
        let emit = self.window.admit(|| {
            let cells = rows::split(row, width)?;
            let mut key = Vec::new();
            values::identity(
                columns
                    .iter()
                    .zip(cells)
                    .take(visible)
                    .map(|(&(kind, binary), cell)| (kind, binary, cell)),
                &mut key,
            );
            Ok(key)
        })?;
        if emit == Emit::Sent {
            if visible == width {
                rows::write_body(out, row);
            } else {
                let encoded = row
                    .get(2..end)
                    .ok_or_else(|| MergeError::malformed("DataRow"))?;
                rows::write_raw_row(out, visible, encoded);
            }
        }
        Ok(emit)
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
