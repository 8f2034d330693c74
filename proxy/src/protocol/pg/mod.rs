//! The PostgreSQL v3 protocol as the proxy needs it: tags and SQLSTATEs named in one place
//! ([`tag`], [`sqlstate`]), frames split by tag + length ([`frame`]), borrowed readers over
//! frame bodies ([`read`]) and builders of the messages the proxy makes ([`build`]).
//!
//! We do not use a general PostgreSQL message library on the data path: forwarding needs
//! borrowed views into the receive buffer, and decoding into owned structs would allocate
//! per message.

pub mod build;
pub mod frame;
pub mod read;
pub mod sqlstate;
pub mod tag;
