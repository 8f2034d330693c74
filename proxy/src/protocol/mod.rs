//! Wire-protocol vocabulary: message tags, error codes, frame splitting, and readers and
//! builders for the few messages the proxy must look inside or make. Everything else is
//! forwarded as opaque frames.

pub mod pg;
