//! shardwire: a sharding proxy for the PostgreSQL (and, later, MySQL) wire protocols.
//!
//! The pipeline (DESIGN §1): a frontend reads client frames, the session asks the router
//! (`shardwire-router`, pure) for a plan, and the executor forwards the frames to pooled
//! backend connections and streams the answers back frame by frame.

pub mod admin;
pub mod admin_http;
pub mod auth;
pub mod auth_failures;
pub mod backend;
pub mod cancel;
pub mod clients;
pub mod cluster;
pub mod config_secrets;
pub mod consistency;
pub mod fd_limit;
pub mod frontend;
pub mod live;
pub mod merge;
pub mod metrics;
pub mod monitor;
pub mod protocol;
pub mod recovery;
pub mod reload_rules;
pub mod server;
pub mod startup_check;
pub mod stream;
pub mod tls;
