//! Client-facing protocol front ends. Each turns its protocol's frames into router calls
//! and backend traffic; today only PostgreSQL.

pub mod pg;
