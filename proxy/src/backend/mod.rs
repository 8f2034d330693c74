//! The executor's side of the pipeline that faces the databases: raw PostgreSQL server
//! connections ([`pg`]) and per-node pools of them ([`pool`]).

pub mod control;
pub mod mysql;
pub mod pg;
pub mod pool;
