//! `ORDER BY` keys resolved against a row's columns (streamed) or outputs (grouped), and
//! the order they define: values by their kind, descending reversing values only, NULLs
//! where `nulls_first` puts them.

use std::cmp::Ordering;

use super::error::{code, MergeError};
use super::types::Kind;
use super::values::{self, Value};

/// One sort key, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    /// Shard column (streamed) or output (grouped).
    pub index: usize,
    /// `DESC`.
    pub descending: bool,
    /// NULLs before values.
    pub nulls_first: bool,
    /// How the values compare.
    pub kind: Kind,
    /// Binary format.
    pub binary: bool,
}

impl Key {
    /// Orders two decoded values (`None` = NULL) by this key.
    pub(crate) fn order(&self, a: Option<&Value<'_>>, b: Option<&Value<'_>>) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) if self.nulls_first => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) if self.nulls_first => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = values::compare(x, y);
                if self.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        }
    }

    /// Decodes and orders two cells by this key.
    pub(crate) fn compare(
        &self,
        a: Option<&[u8]>,
        b: Option<&[u8]>,
    ) -> Result<Ordering, MergeError> {
        let a = a
            .map(|v| values::decode(self.kind, self.binary, v))
            .transpose()?;
        let b = b
            .map(|v| values::decode(self.kind, self.binary, v))
            .transpose()?;
        Ok(self.order(a.as_ref(), b.as_ref()))
    }

    /// Decodes one cell for this key.
    pub(crate) fn decode<'a>(
        &self,
        cell: Option<&'a [u8]>,
    ) -> Result<Option<Value<'a>>, MergeError> {
        cell.map(|v| values::decode(self.kind, self.binary, v))
            .transpose()
    }
}

/// Fails unless values of `kind` can be ordered: `what` (`ORDER BY`, `min()` …) on column
/// `name` of type `type_oid` cannot be merged otherwise.
pub(crate) fn require_ordered(
    kind: Kind,
    what: &str,
    name: &str,
    type_oid: u32,
) -> Result<(), MergeError> {
    if kind.ordered() {
        Ok(())
    } else {
        Err(unsupported(what, name, type_oid))
    }
}

/// `what` on column `name` of type `type_oid` cannot be merged across shards.
pub(crate) fn unsupported(what: &str, name: &str, type_oid: u32) -> MergeError {
    MergeError::new(
        code::FEATURE_NOT_SUPPORTED,
        format_args!(
            "cannot merge {what} on column \"{name}\" of type oid {type_oid} across shards"
        ),
    )
}
