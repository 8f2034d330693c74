//! Wire-protocol vocabulary: message tags, error codes, frame splitting, and readers and
//! builders for the few messages the proxy must look inside or make. Everything else is
//! forwarded as opaque frames.

/// The MySQL client/server protocol (frontend and MariaDB backends).
pub mod mysql;
/// Reading and writing MySQL packets on sockets.
pub mod mysql_stream;
pub mod pg;
