#!/usr/bin/env bash
# shardwire-bench workloads on one PostgreSQL node ("direct") vs through shardwire on two
# shards ("sharded": the workloads' tables sharded by key, so transfer and tpcb commit
# across shards with 2PC), interleaved rounds, median per target, ratios. Writes
# $OUT/<workload>.json and .html reports.
#
#   bench/shardwire-bench.sh [rounds=3] [duration=10s] [clients=8] [workloads...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
DURATION=${2:-10s}
CLIENTS=${3:-8}
shift $(( $# > 3 ? 3 : $# ))
WORKLOADS=("$@")
[[ ${#WORKLOADS[@]} -eq 0 ]] && WORKLOADS=(point-select read-write transfer tpcb)
OUT=${OUT:-/tmp/shardwire-bench-reports}

. bench/lib.sh
bench_setup shardwire-bench
cargo build --release -p shardwire-bench --quiet
BENCH=target/release/shardwire-bench
start_nodes "max_connections = 200" ref s0 s1

proxy_config 'pool_size = 20
auth_method = "md5"' postgres:bench s0 s1
# The tables every workload uses, as the bench prints them (duplicates dropped).
for w in "${WORKLOADS[@]}"; do "$BENCH" --workload "$w" --print-tables; echo; done |
    awk 'BEGIN{RS=""; ORS="\n\n"} !seen[$0]++' >>"$WORK/shardwire.toml"
start_proxy

mkdir -p "$OUT"
DIRECT="postgres://postgres@127.0.0.1:${PORT[ref]}/postgres"
SHARDED="postgres://postgres:bench@127.0.0.1:$SW_PORT/postgres"
for w in "${WORKLOADS[@]}"; do
    echo "== $w" >&2
    "$BENCH" --compare "direct=$DIRECT" "sharded=$SHARDED" --workload "$w" --setup \
        --clients "$CLIENTS" --duration "$DURATION" --warmup 2s --rounds "$ROUNDS" --quiet \
        --json "$OUT/$w.json" --html "$OUT/$w.html"
done
