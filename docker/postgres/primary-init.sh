#!/bin/bash
# Runs once, from /docker-entrypoint-initdb.d, when a shard primary's data directory is
# created. The postgres image runs it against its temporary, socket-only server, and the
# pg_hba.conf line added here takes effect when the real server starts afterwards.
#
# Creates the streaming-replication role, the `app` database and the example schema the
# proxy config (docker/shardwire.toml) shards. Replicas get all of it via pg_basebackup.
set -euo pipefail

: "${REPLICATION_USER:?REPLICATION_USER must be set}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v repl_user="$REPLICATION_USER" -v repl_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"repl_user" WITH REPLICATION LOGIN PASSWORD :'repl_password';
CREATE DATABASE app;
\connect app
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text, balance bigint);
CREATE TABLE countries (code text PRIMARY KEY, name text);
SQL

# Replication connections match only lines whose database field is `replication`.
echo "host replication ${REPLICATION_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
