//! Builders shared by the merge tests: RowDescription and DataRow bodies, specs, values,
//! and a reader for the frames the engine writes.

use bytes::{BufMut, BytesMut};
use shardwire_router::{ColumnRole, MergeSpec, Output, OutputRef, SortKey, ValueRef};

use super::exec::{ExecValue, Values};

/// A RowDescription body: (name, type oid, format) per field.
pub(crate) fn description(fields: &[(&str, u32, i16)]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i16(fields.len() as i16);
    for (i, (name, oid, format)) in fields.iter().enumerate() {
        b.put_slice(name.as_bytes());
        b.put_u8(0);
        b.put_i32(16384);
        b.put_i16(i as i16 + 1);
        b.put_u32(*oid);
        b.put_i16(-1);
        b.put_i32(-1);
        b.put_i16(*format);
    }
    b.to_vec()
}

/// A DataRow body from raw cells.
pub(crate) fn row(cells: &[Option<&[u8]>]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i16(cells.len() as i16);
    for cell in cells {
        match cell {
            None => b.put_i32(-1),
            Some(v) => {
                b.put_i32(v.len() as i32);
                b.put_slice(v);
            }
        }
    }
    b.to_vec()
}

/// A DataRow body from text cells (`None` = NULL).
pub(crate) fn text_row(cells: &[Option<&str>]) -> Vec<u8> {
    let cells: Vec<Option<&[u8]>> = cells.iter().map(|c| c.map(str::as_bytes)).collect();
    row(&cells)
}

/// A DataRow body from text cells, none NULL.
pub(crate) fn tr(cells: &[&str]) -> Vec<u8> {
    let cells: Vec<Option<&str>> = cells.iter().map(|c| Some(*c)).collect();
    text_row(&cells)
}

/// The frames in `out` as (tag, body).
pub(crate) fn frames(out: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut rest = out;
    while !rest.is_empty() {
        let tag = rest[0];
        let len = i32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        frames.push((tag, rest[5..1 + len].to_vec()));
        rest = &rest[1 + len..];
    }
    frames
}

/// The DataRow frames in `out`, cells as raw bytes.
pub(crate) fn raw_rows(out: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    frames(out)
        .into_iter()
        .filter(|(tag, _)| *tag == b'D')
        .map(|(_, body)| {
            let n = i16::from_be_bytes([body[0], body[1]]) as usize;
            super::rows::split(&body, n)
                .unwrap()
                .into_iter()
                .map(|c| c.map(<[u8]>::to_vec))
                .collect()
        })
        .collect()
}

/// The DataRow frames in `out`, cells as text (`NULL` for NULL).
pub(crate) fn text_rows(out: &[u8]) -> Vec<Vec<String>> {
    raw_rows(out)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| c.map_or("NULL".to_string(), |v| String::from_utf8(v).unwrap()))
                .collect()
        })
        .collect()
}

/// An empty spec of the given mode.
pub(crate) fn spec(grouped: bool) -> MergeSpec {
    MergeSpec {
        columns: Vec::new(),
        hidden: 0,
        grouped,
        outputs: Vec::new(),
        visible: 0,
        having: None,
        distinct: false,
        order_by: Vec::new(),
        limit: None,
        offset: None,
    }
}

/// A grouped spec: shard columns by role, outputs, visible count.
pub(crate) fn grouped_spec(
    columns: &[ColumnRole],
    outputs: &[Output],
    visible: usize,
) -> MergeSpec {
    MergeSpec {
        columns: columns.to_vec(),
        outputs: outputs.to_vec(),
        visible,
        ..spec(true)
    }
}

/// An ascending sort key (NULLs last), or descending (NULLs first), PostgreSQL's defaults.
pub(crate) fn key(output: OutputRef, descending: bool) -> SortKey {
    SortKey {
        output,
        descending,
        nulls_first: descending,
    }
}

/// A constant value reference.
pub(crate) fn c(sql: &str) -> ValueRef {
    ValueRef::Const(sql.to_string())
}

/// Literals (`Literal(i)` is the i-th SQL text) and parameters (`Param(n)`).
#[derive(Default)]
pub(crate) struct TestValues {
    pub literals: Vec<&'static str>,
    pub params: Vec<(Option<Vec<u8>>, bool, u32)>,
}

impl TestValues {
    /// Only literals.
    pub(crate) fn literals(literals: &[&'static str]) -> TestValues {
        TestValues {
            literals: literals.to_vec(),
            params: Vec::new(),
        }
    }
}

impl Values for TestValues {
    fn get(&self, r: &ValueRef) -> Option<ExecValue<'_>> {
        match r {
            ValueRef::Literal(i) => self.literals.get(*i).map(|s| ExecValue::Sql(s)),
            ValueRef::Param(n) => {
                let (bytes, binary, type_oid) = self.params.get(usize::from(*n).checked_sub(1)?)?;
                Some(ExecValue::Param {
                    bytes: bytes.as_deref(),
                    binary: *binary,
                    type_oid: *type_oid,
                })
            }
            ValueRef::Const(_) => None,
        }
    }
}
