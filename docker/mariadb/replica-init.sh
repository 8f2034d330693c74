#!/bin/bash
# Runs once, from /docker-entrypoint-initdb.d, when a MariaDB shard replica's data
# directory is created: points the replica at its primary and starts GTID replication
# from the primary's first transaction (an empty gtid_slave_pos), so the replica receives
# the users, database and tables made by primary-init.sql.
#
# CHANGE MASTER and START SLAVE are not binary-logged, so the replica's own binlog stays
# free of local GTIDs that gtid_strict_mode would reject. The entrypoint's temporary server
# is stopped after this script; the real server restarts the replication threads itself.
#
# Environment: PRIMARY_HOST, PRIMARY_PORT (default 3306), REPLICATION_USER,
# REPLICATION_PASSWORD, MARIADB_ROOT_PASSWORD.
set -euo pipefail

: "${PRIMARY_HOST:?PRIMARY_HOST must be set}"
: "${REPLICATION_USER:?REPLICATION_USER must be set}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"
PRIMARY_PORT="${PRIMARY_PORT:-3306}"

# The temporary server listens on the default socket only.
MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-}" mariadb --protocol=socket -uroot <<SQL
SET SESSION sql_log_bin = 0;
CHANGE MASTER TO
    MASTER_HOST = '${PRIMARY_HOST}',
    MASTER_PORT = ${PRIMARY_PORT},
    MASTER_USER = '${REPLICATION_USER}',
    MASTER_PASSWORD = '${REPLICATION_PASSWORD}',
    MASTER_USE_GTID = slave_pos,
    MASTER_CONNECT_RETRY = 5;
START SLAVE;
SQL
echo "replica: replicating from ${PRIMARY_HOST}:${PRIMARY_PORT} (MASTER_USE_GTID=slave_pos)"
