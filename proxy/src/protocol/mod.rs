//! Wire-protocol vocabulary: message tags, error codes, frame splitting, and readers and
//! builders for the few messages the proxy must look inside or make. Everything else is
//! forwarded as opaque frames.

/// The MySQL client/server protocol (frontend and MariaDB backends).
pub mod mysql;
/// Reading and writing MySQL packets on sockets.
pub mod mysql_stream;
pub mod pg;

/// How much room to add for a message `missing` bytes short, with `have` bytes of it
/// received: at most as much again as has arrived (and at least 64 KiB), never the whole
/// announced length at once. A client announcing a 64 MiB message and sending nothing
/// more must not cost 64 MiB: memory follows the bytes that actually came, and a large
/// message still grows its buffer in a logarithmic number of steps.
pub(crate) fn growth(missing: usize, have: usize) -> usize {
    const STEP: usize = 64 * 1024;
    missing.min(have.max(STEP))
}
