//! The MySQL client/server protocol as the proxy needs it, for the MySQL frontend (the
//! proxy as a server) and the MariaDB backend connection (the proxy as a client).
//!
//! - [`packet`]: framing (3-byte length + sequence id; 0xFFFFFF-byte payloads continue in
//!   the next packet), with the size limit checked on the announced length, before
//!   anything is buffered.
//! - [`lenenc`]: length-encoded integers and strings, and the bounds-checked [`Cursor`]
//!   every reader uses.
//! - [`consts`] and [`errcode`]: capability and status flags, command bytes, column
//!   types, error numbers with their SQLSTATEs, named in one place; the mapping from the
//!   router's PostgreSQL-style SQLSTATEs to MySQL errors.
//! - [`build`], [`handshake`], [`resultset`]: the packets the proxy makes itself.
//! - [`read`], [`handshake`], [`execute`]: borrowed readers for the few packets the proxy
//!   must look inside. Every reader returns [`Malformed`] on short or bad input, never
//!   panics: these bytes come from clients and servers.
//! - [`response`]: where a backend's answer to one command ends, packet by packet, so
//!   single-shard traffic is forwarded as packets and never decoded into rows.
//!
//! Protocol features the proxy does not negotiate are not handled here: compression,
//! `CLIENT_OPTIONAL_RESULTSET_METADATA`, `CLIENT_QUERY_ATTRIBUTES`, MariaDB's metadata
//! cache and bulk execution. A frontend or backend must keep those capability bits off.

pub mod build;
pub mod consts;
pub mod errcode;
pub mod execute;
pub mod handshake;
pub mod lenenc;
pub mod packet;
pub mod read;
pub mod response;
pub mod resultset;

pub use lenenc::{Cursor, Malformed};
