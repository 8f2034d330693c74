-- Runs once, from /docker-entrypoint-initdb.d, when a MariaDB shard primary's data
-- directory is created. Everything here is written to the binary log, so the replicas,
-- which replicate from the first GTID on, get the users, the database and the tables.

-- Replication account used by the replicas (docker/mariadb/replica-init.sh).
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';

CREATE DATABASE appmy;

-- The account the proxy logs in to the backends as (backend_user in shardwire.toml).
-- Deliberately without SUPER and READ_ONLY ADMIN: those bypass read_only on the replicas
-- and would hide a write routed to a replica.
--  * ALL on appmy.*: the application tables and the proxy's 2PC decision table
--    (shardwire_2pc_decisions, created on first use).
--  * XA needs no extra privilege in MariaDB: XA RECOVER lists every prepared XA
--    transaction, whoever prepared it, and a branch whose connection is gone can be
--    finished with XA COMMIT / XA ROLLBACK from another connection (what the proxy's
--    recovery does). MySQL 8's XA_RECOVER_ADMIN does not exist in MariaDB; granting it
--    fails.
--  * BINLOG MONITOR (MariaDB 10.5+ name of REPLICATION CLIENT) and SLAVE MONITOR: read
--    binlog and replica status, e.g. SHOW BINLOG STATUS / SHOW SLAVE STATUS, when
--    inspecting replication by hand as this user. The proxy's own position queries
--    (@@gtid_binlog_pos, @@gtid_slave_pos) need no privilege.
CREATE USER 'shardwire'@'%' IDENTIFIED BY 'shardwire';
GRANT ALL PRIVILEGES ON appmy.* TO 'shardwire'@'%';
GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'shardwire'@'%';

USE appmy;
CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(64), balance BIGINT);
CREATE TABLE countries (code VARCHAR(64) PRIMARY KEY, name VARCHAR(64));
