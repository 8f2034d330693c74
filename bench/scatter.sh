#!/usr/bin/env bash
# Scattered reads over 1,000,000 rows: latency through shardwire on 2 shards vs the same
# query on one reference PostgreSQL holding all the rows, and the proxy's peak memory
# growth (VmHWM − VmRSS before) while the merges run.
#
#   bench/scatter.sh [rows=1000000] [runs=5]
#
# Rows are placed on the shards by PostgreSQL's own hash partitioning
# (`satisfies_hash_partition`), which is shardwire's sharding function (DESIGN §5).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
RUNS=${2:-5}

. bench/lib.sh
bench_setup shardwire-scatter
start_nodes "max_parallel_workers_per_gather = 0" ref s0 s1
psql_at() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres postgres "${@:2}"; }
TABLE="CREATE TABLE t (id bigint PRIMARY KEY, g int NOT NULL, v numeric(12,2), name text);
       CREATE TABLE hp (id bigint) PARTITION BY HASH (id);"
ROWGEN="SELECT i, i % 1000, (i % 100000) / 7.0, md5(i::text) FROM generate_series(1, $ROWS) i"
psql_at "${PORT[ref]}" -c "$TABLE" -c "INSERT INTO t $ROWGEN" -c "VACUUM ANALYZE t"
for r in 0 1; do
    psql_at "${PORT[s$r]}" -c "$TABLE" \
        -c "INSERT INTO t SELECT * FROM ($ROWGEN) x(i) WHERE satisfies_hash_partition('hp'::regclass, 2, $r, i::bigint)" \
        -c "VACUUM ANALYZE t"
done

proxy_config 'pool_size = 4' app:app s0 s1
cat >>"$WORK/shardwire.toml" <<CONF

  [[databases.tables]]
  name = "t"
  shard_key = "id"
  key_type = "bigint"
CONF
start_proxy

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SW_PID/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SW_PID/status"; }
latency_ms() { # port user sql -> average latency (ms) over RUNS executions on one connection
    local f="$WORK/q.sql"
    printf '%s;\n' "$3" >"$f"
    PGPASSWORD=app "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$1" -U "$2" -f "$f" -t "$RUNS" -c 1 postgres 2>/dev/null |
        awk '/latency average/ {print $4}'
}

QUERIES=(
    "SELECT count(*) FROM t"
    "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 100"
    "SELECT id FROM t ORDER BY id LIMIT 100 OFFSET 1000"
    "SELECT g, count(*), sum(v), avg(v) FROM t GROUP BY g"
    "SELECT * FROM t ORDER BY id"
)
# Warm both sides and the proxy's pools.
for q in "${QUERIES[@]:0:2}"; do latency_ms "${PORT[ref]}" postgres "$q" >/dev/null; latency_ms "$SW_PORT" app "$q" >/dev/null; done

echo "| query | one PostgreSQL (ms) | shardwire, 2 shards (ms) | ratio | proxy peak RSS growth (MiB) |"
echo "|---|---|---|---|---|"
for q in "${QUERIES[@]}"; do
    ref=$(latency_ms "${PORT[ref]}" postgres "$q")
    before=$(rss_kib)
    sw=$(latency_ms "$SW_PORT" app "$q")
    hwm=$(hwm_kib)
    ratio=$(awk -v a="$sw" -v b="$ref" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    growth=$(awk -v h="$hwm" -v b="$before" 'BEGIN { g = (h - b) / 1024; if (g < 0) g = 0; printf "%.1f", g }')
    echo "| \`$q\` | $ref | $sw | $ratio | $growth |"
done
echo
echo "$ROWS rows, average of $RUNS runs on one connection (pgbench -f, simple protocol), $(nproc) cores; peak RSS growth = VmHWM after − VmRSS before, so it only grows"
