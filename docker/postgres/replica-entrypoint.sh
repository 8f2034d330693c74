#!/bin/bash
# Entrypoint of a shard replica (a hot standby streaming from its primary).
#
# On first start (empty data directory) it waits for the primary, clones it with
# `pg_basebackup -R` (which writes standby.signal and primary_conninfo), then runs the
# command it was given (`postgres -c ...`). Later starts reuse the existing clone.
#
# Environment: PRIMARY_HOST, PRIMARY_PORT (default 5432), REPLICATION_USER,
# REPLICATION_PASSWORD, PGDATA (set by the postgres image).
set -euo pipefail

: "${PRIMARY_HOST:?PRIMARY_HOST must be set}"
: "${REPLICATION_USER:?REPLICATION_USER must be set}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = 0 ]; then
    # Started as root: hand the data directory to postgres and continue as postgres.
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec gosu postgres "$0" "$@"
fi

# The walreceiver (libpq) reads the replication password from here as well.
pgpass="$HOME/.pgpass"
printf '*:*:*:%s:%s\n' "$REPLICATION_USER" "$REPLICATION_PASSWORD" > "$pgpass"
chmod 600 "$pgpass"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "replica: waiting for ${PRIMARY_HOST}:${PRIMARY_PORT}"
    for _ in $(seq 1 120); do
        if pg_isready --quiet --host "$PRIMARY_HOST" --port "$PRIMARY_PORT"; then
            break
        fi
        sleep 1
    done
    pg_isready --host "$PRIMARY_HOST" --port "$PRIMARY_PORT"

    echo "replica: cloning ${PRIMARY_HOST}:${PRIMARY_PORT} into $PGDATA"
    # A failed clone must not leave a half-written directory that a restart would take
    # for a finished one.
    if ! pg_basebackup --host "$PRIMARY_HOST" --port "$PRIMARY_PORT" \
            --username "$REPLICATION_USER" --no-password \
            --pgdata "$PGDATA" --write-recovery-conf \
            --wal-method stream --checkpoint fast; then
        find "$PGDATA" -mindepth 1 -delete
        echo "replica: pg_basebackup failed" >&2
        exit 1
    fi
    chmod 700 "$PGDATA"
fi

exec "$@"
