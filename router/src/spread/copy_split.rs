//! Splitting the data of `COPY … FROM STDIN` into a sharded table between the shards.
//!
//! The client's CopyData messages are chunks of a byte stream, cut anywhere: a row may
//! span chunks, and in CSV a quoted field may hold newlines and delimiters. The
//! [`CopySplitter`] finds row ends the way PostgreSQL's `CopyReadLineText` does (a
//! newline ends a row unless backslash-escaped in text format or inside quotes in CSV;
//! `\r\n` line endings are accepted), reads each row's key field (`copy_key`), and hands
//! the row, unchanged and with its line ending, to the shard its key hashes to. Rows
//! that fit in one chunk are passed without copying.
//!
//! Choices, since every shard runs the client's own `COPY` statement: the header line
//! (`HEADER`) goes to every shard, each of which skips it; the end-of-data marker `\.`
//! alone on its line is swallowed, and whatever follows it ignored (as PostgreSQL ignores
//! it), so each shard's data simply ends with CopyDone; in text format a marker after
//! data on its line is refused (`22P04`), as PostgreSQL 18 does. A last row without a line ending is routed
//! as it is (PostgreSQL accepts it), unless it ends inside a CSV quoted field (`22P04`).
//! Old-Mac `\r` line endings are refused (`22P04`): PostgreSQL would take them, but a
//! `\r` inside unquoted data would then be ambiguous here. After an error the splitter's
//! state is undefined: the `COPY` must be abandoned.

use std::num::NonZeroU32;

use shardwire_conf::KeyType;

use super::copy_format::CopyFormat;
use super::copy_key::{key_field, FieldError};
use super::copy_plan::CopyPlan;
use crate::error::{sqlstate, RouteError};
use crate::value::{key_value_error, shard_of_text, shorten, TextOrigin};

/// Splits the data rows of one `COPY … FROM STDIN` by shard.
#[derive(Debug, Clone)]
pub struct CopySplitter {
    format: CopyFormat,
    table: String,
    key_column: String,
    key_index: usize,
    key_type: KeyType,
    shards: NonZeroU32,
    /// The row in progress, from earlier chunks.
    partial: Vec<u8>,
    /// CSV: inside a quoted field.
    in_quote: bool,
    /// CSV: the last byte was an escape character inside quotes (when escape ≠ quote).
    last_was_esc: bool,
    /// Text: the last byte was a backslash that escapes the next one.
    escaped: bool,
    /// The last byte was a `\r` that must start a `\r\n` line ending.
    carriage_return: bool,
    /// Rows seen so far, header included (PostgreSQL's line numbers).
    line: u64,
    /// The header line is still to come.
    header_pending: bool,
    /// The end-of-data marker was seen: the rest is ignored.
    done: bool,
}

impl CopySplitter {
    /// A splitter for the data of `plan`'s `COPY` over `shards` shards.
    pub fn new(plan: &CopyPlan, shards: NonZeroU32) -> CopySplitter {
        CopySplitter {
            format: plan.format.clone(),
            table: plan.table.clone(),
            key_column: plan.key_column.clone(),
            key_index: plan.key_column_index,
            key_type: plan.key_type,
            shards,
            partial: Vec::new(),
            in_quote: false,
            last_was_esc: false,
            escaped: false,
            carriage_return: false,
            line: 0,
            header_pending: plan.format.header,
            done: false,
        }
    }

    /// Feeds CopyData payload bytes (any chunking: a row may span chunks; CSV quoted
    /// fields may hold newlines and delimiters); for each complete row calls
    /// `sink(shard, row_bytes_including_newline)`, the header line once per shard.
    /// Errors: `22P02`/`22003` for a key value of the wrong shape, `22P04` for a row
    /// without the key field or a `\r` line ending, naming the line and the value.
    pub fn feed(
        &mut self,
        data: &[u8],
        sink: &mut dyn FnMut(u32, &[u8]),
    ) -> Result<(), RouteError> {
        let mut start = 0;
        for (i, &c) in data.iter().enumerate() {
            if self.done {
                return Ok(());
            }
            if !self.ends_row(c)? {
                continue;
            }
            let row = data.get(start..=i).unwrap_or(b"");
            start = i + 1;
            if self.partial.is_empty() {
                self.row(row, sink)?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(row);
                self.row(&whole, sink)?;
                whole.clear();
                self.partial = whole;
            }
        }
        if !self.done {
            self.partial
                .extend_from_slice(data.get(start..).unwrap_or(b""));
        }
        Ok(())
    }

    /// End of data: routes a last row that has no line ending. `22P04` if it ends
    /// inside a CSV quoted field or with a lone `\r`.
    pub fn finish(&mut self, sink: &mut dyn FnMut(u32, &[u8])) -> Result<(), RouteError> {
        if self.done || self.partial.is_empty() {
            return Ok(());
        }
        let line = self.line + 1;
        if self.in_quote {
            return Err(self.format_error(format_args!(
                "unterminated CSV quoted field (COPY line {line})"
            )));
        }
        if self.carriage_return {
            return Err(self.carriage_return_error());
        }
        let row = std::mem::take(&mut self.partial);
        self.row(&row, sink)
    }

    /// Advances the line scanner over byte `c`; whether `c` ends a row.
    fn ends_row(&mut self, c: u8) -> Result<bool, RouteError> {
        if self.carriage_return {
            self.carriage_return = false;
            return if c == b'\n' {
                Ok(true)
            } else {
                Err(self.carriage_return_error())
            };
        }
        let special = if self.format.csv {
            let (quote, escape) = (self.format.quote, self.format.escape);
            // As in PostgreSQL, an escape equal to the quote is just a toggle.
            let escape = (escape != quote).then_some(escape);
            if self.in_quote && Some(c) == escape {
                self.last_was_esc = !self.last_was_esc;
            }
            if c == quote && !self.last_was_esc {
                self.in_quote = !self.in_quote;
            }
            if Some(c) != escape {
                self.last_was_esc = false;
            }
            !self.in_quote
        } else if self.escaped {
            self.escaped = false;
            false
        } else {
            self.escaped = c == b'\\';
            true
        };
        if special && c == b'\r' {
            self.carriage_return = true;
        }
        Ok(special && c == b'\n')
    }

    /// Routes one complete row (line ending included, unless it is the last row).
    fn row(&mut self, row: &[u8], sink: &mut dyn FnMut(u32, &[u8])) -> Result<(), RouteError> {
        self.line += 1;
        let content = row.strip_suffix(b"\n").unwrap_or(row);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content == b"\\." {
            self.done = true;
            self.partial.clear();
            return Ok(());
        }
        if !self.format.csv && has_end_marker(content) {
            // PostgreSQL before 18 ends the data there, 18 refuses it: refuse too.
            return Err(self.format_error(format_args!(
                "end-of-copy marker \\. is not alone on its line (COPY line {})",
                self.line
            )));
        }
        if self.header_pending {
            self.header_pending = false;
            for shard in 0..self.shards.get() {
                sink(shard, row);
            }
            return Ok(());
        }
        let line = self.line;
        let shard = match key_field(content, &self.format, self.key_index) {
            Ok(None) => 0,
            Ok(Some(value)) => shard_of_text(&value, TextOrigin::Text, self.key_type, self.shards)
                .map_err(|e| {
                    let whose = format!(
                        "shard key \"{}\" of table \"{}\", COPY line {line}",
                        self.key_column, self.table
                    );
                    key_value_error(e, self.key_type, &whose)
                })?,
            Err(FieldError::Missing) => {
                return Err(self.format_error(format_args!(
                    "missing data for column \"{}\", the shard key of table \"{}\" (COPY line \
                     {line}: \"{}\")",
                    self.key_column,
                    self.table,
                    shorten(content)
                )))
            }
            Err(FieldError::Unterminated) => {
                return Err(self.format_error(format_args!(
                    "unterminated CSV quoted field (COPY line {line})"
                )))
            }
        };
        sink(shard, row);
        Ok(())
    }

    fn format_error(&self, message: std::fmt::Arguments<'_>) -> RouteError {
        RouteError::new(sqlstate::BAD_COPY_FILE_FORMAT, message)
    }

    fn carriage_return_error(&self) -> RouteError {
        self.format_error(format_args!(
            "COPY data for table \"{}\" uses carriage-return line endings (line {}), which \
             shardwire cannot split; use \\n or \\r\\n",
            self.table,
            self.line + 1
        ))
    }
}

/// Whether a text-format row holds an unescaped `\.` (an end-of-data marker).
fn has_end_marker(content: &[u8]) -> bool {
    if !content.windows(2).any(|w| w == b"\\.") {
        return false;
    }
    let mut i = 0;
    while i < content.len() {
        if content[i] == b'\\' {
            if content.get(i + 1) == Some(&b'.') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}
