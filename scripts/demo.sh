#!/usr/bin/env bash
# Starts a local shardwire demo: real PostgreSQL shards with streaming replicas (started
# by the test bed on /dev/shm), example sharded tables, and the proxy on 127.0.0.1:6432;
# with --mysql also MariaDB shards with replicas behind the MySQL frontend on 6033.
# Ctrl-C stops everything.
#   scripts/demo.sh [--shards N] [--replicas N] [--port P] [--mysql [--mysql-port P]]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release -p shardwire --quiet
exec target/release/shardwire demo "$@"
