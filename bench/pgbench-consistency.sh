#!/usr/bin/env bash
# pgbench -S through shardwire at each read consistency level, one shard with two
# streaming replicas (from `shardwire demo`): TPS, and where the reads went, counted from
# pg_stat_database on every node.
#   bench/pgbench-consistency.sh [seconds=10] [clients=16]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CLIENTS=${2:-16}
scripts/install-deps.sh
cargo build --release -p shardwire --quiet
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADMIN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
RUST_LOG=warn target/release/shardwire demo --shards 1 --replicas 2 --port "$PORT" --admin-port "$ADMIN" >"$LOG" 2>&1 &
DEMO=$!
trap 'kill -INT $DEMO 2>/dev/null; wait $DEMO 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q "Press Ctrl-C" "$LOG" && break; sleep 0.2; done
PRIMARY=$(awk '/^shard 0: psql/ {for (i=1;i<=NF;i++) if ($i=="-p") print $(i+1)}' "$LOG")
REPLICAS=$(awk '/^shard 0 replica/ {for (i=1;i<=NF;i++) if ($i=="-p") print $(i+1)}' "$LOG")
pgbench -i -q -s 10 -h 127.0.0.1 -p "$PRIMARY" -U postgres app >/dev/null 2>&1
sleep 2
commits() { psql -h 127.0.0.1 -p "$1" -U postgres -d app -XAtc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'app'"; }

echo "| level | TPS | primary | replica 0 | replica 1 |"
echo "|---|---|---|---|---|"
for level in strong eventual session bounded; do
    # Idle PostgreSQL backends flush their statistics up to 10 s late (PGSTAT_IDLE_INTERVAL):
    # let the previous run's land before counting this one.
    sleep 11
    declare -A before=()
    for p in $PRIMARY $REPLICAS; do before[$p]=$(commits "$p"); done
    tps=$(PGPASSWORD=app PGOPTIONS="-c shardwire.read_consistency=$level" \
        pgbench -n -S -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$PORT" -U app app 2>/dev/null \
        | awk '/^tps/ {print int($3)}')
    sleep 11
    row="| $level | ${tps:-0}"
    total=0; declare -A delta=()
    for p in $PRIMARY $REPLICAS; do delta[$p]=$(( $(commits "$p") - ${before[$p]} )); total=$(( total + ${delta[$p]} )); done
    for p in $PRIMARY $REPLICAS; do
        row+=" | $(awk -v d="${delta[$p]}" -v t="$total" 'BEGIN { printf "%.0f %%", (t > 0 ? 100 * d / t : 0) }')"
    done
    echo "$row |"
done
echo
echo "Reads by level and where they were served, fallbacks by reason (/metrics):"
curl -s "http://127.0.0.1:$ADMIN/metrics" | grep -E '^shardwire_consistency_(fallbacks|reads)_total' || echo "(none)"

