//! The test bed: starts REAL PostgreSQL 15 and MariaDB topologies — shards of one primary
//! plus streaming (PostgreSQL) or GTID (MariaDB) replicas — on free loopback ports, with data
//! directories on tmpfs, for shardwire's integration tests, benchmarks and `shardwire demo`.
//!
//! It sits beside the proxy's pipeline, not in it: tests point a proxy at the addresses it
//! hands back, and check results by connecting to the nodes directly.
//!
//! ```no_run
//! # async fn demo() -> shardwire_testbed::Result<()> {
//! let topo = shardwire_testbed::Topology::builder()
//!     .pg_shards(2)
//!     .pg_replicas(1)
//!     .fast(true)
//!     .start()
//!     .await?;
//! let shard0 = topo.pg(0);
//! shard0.primary().execute("CREATE TABLE t (id int)").await?;
//! shard0.wait_caught_up(std::time::Duration::from_secs(10)).await?;
//! shard0.replica(0).query("SELECT * FROM t").await?;
//! # Ok(()) }
//! ```
//!
//! Guarantees: servers never run as root (PostgreSQL as `postgres`, MariaDB as `mysql` when
//! we are root); nothing is left running or on disk after the `Topology` is dropped, and a
//! sentinel process cleans up even when the test process is killed.

mod error;
mod mariadb;
mod node;
mod os;
mod pg;
mod ports;
mod sentinel;
mod server;
mod topology;
mod workdir;

pub use error::{Error, Result};
pub use mariadb::{APP_PASSWORD as MYSQL_APP_PASSWORD, APP_USER as MYSQL_APP_USER};
pub use node::{Engine, Node, Role, TextRow};
pub use os::is_alive;
pub use pg::SUPERUSER as PG_SUPERUSER;
pub use ports::{lease_port, PortLease};
pub use topology::{Shard, Topology, TopologyBuilder};
