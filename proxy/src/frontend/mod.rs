//! Client-facing protocol front ends. Each turns its protocol's frames into router calls
//! and backend traffic.

pub mod client_stream;
pub mod limits;
pub mod mysql;
pub mod pg;
pub mod replica_choice;
pub mod slow_query;
pub mod write_concern;
