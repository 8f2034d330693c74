//! The rows the client gets out of the merged sequence: `DISTINCT` first (a set of the
//! visible values seen so far, so memory grows with the distinct rows only), then
//! `OFFSET`, then `LIMIT` — PostgreSQL's order.

use std::collections::HashSet;

use super::error::MergeError;

/// What happened to a row offered to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// Not sent: a duplicate under `DISTINCT`, or within `OFFSET`.
    Skipped,
    /// Sent (written to the output). [`Merge::done`](super::Merge::done) tells whether it
    /// was the last one `LIMIT` allows.
    Sent,
    /// Not sent: `LIMIT` was already reached; nothing more will be sent.
    Done,
}

/// `DISTINCT`, `OFFSET` and `LIMIT` state.
#[derive(Debug)]
pub(crate) struct Window {
    offset: u64,
    limit: Option<u64>,
    seen: Option<HashSet<Vec<u8>>>,
    sent: u64,
}

impl Window {
    /// A window skipping `offset` rows and sending at most `limit`.
    pub(crate) fn new(offset: u64, limit: Option<u64>, distinct: bool) -> Window {
        Window {
            offset,
            limit,
            seen: distinct.then(HashSet::new),
            sent: 0,
        }
    }

    /// Whether `LIMIT` is reached.
    pub(crate) fn done(&self) -> bool {
        self.limit.is_some_and(|limit| self.sent >= limit)
    }

    /// Rows sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Decides about the next row; `identity` computes its canonical visible values (only
    /// called under `DISTINCT`). On [`Emit::Sent`] the caller must write the row.
    pub(crate) fn admit(
        &mut self,
        identity: impl FnOnce() -> Result<Vec<u8>, MergeError>,
    ) -> Result<Emit, MergeError> {
        if self.done() {
            return Ok(Emit::Done);
        }
        if let Some(seen) = &mut self.seen {
            if !seen.insert(identity()?) {
                return Ok(Emit::Skipped);
            }
        }
        if self.offset > 0 {
            self.offset -= 1;
            return Ok(Emit::Skipped);
        }
        self.sent += 1;
        if self.done() {
            // Nothing more will be sent: the set is no longer needed.
            self.seen = None;
        }
        Ok(Emit::Sent)
    }
}
