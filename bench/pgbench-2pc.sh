#!/usr/bin/env bash
# TPC-B (pgbench's default script) on one PostgreSQL node vs through shardwire on two
# shards, where a transaction touching accounts, tellers and branches on different shards
# commits with two-phase commit (about 3 in 4 here). Same machine, runs interleaved;
# prints the median TPS of each and the ratio (target ≥ 0.5).
#
#   bench/pgbench-2pc.sh [rounds=3] [seconds=20] [clients=8]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-20}
CLIENTS=${3:-8}
SCALE=${SCALE:-4}

. bench/lib.sh
bench_setup shardwire-2pc
start_nodes "" ref s0 s1

proxy_config 'pool_size = 20
auth_method = "md5"
transaction_lock_timeout = "'"${LOCK_TIMEOUT:-10s}"'"' postgres:bench s0 s1
for t in accounts:aid tellers:tid branches:bid history:aid; do
    printf '\n  [[databases.tables]]\n  name = "pgbench_%s"\n  shard_key = "%s"\n  key_type = "integer"\n' "${t%%:*}" "${t##*:}" >>"$WORK/shardwire.toml"
done
start_proxy

export PGPASSWORD=bench
"$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "${PORT[ref]}" -U postgres postgres >/dev/null 2>&1
"$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$SW_PORT" -U postgres postgres >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }

run() { # port -> "tps failed"
    local out
    out=$("$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$1" -U postgres postgres 2>&1 || true)
    echo "$(awk '/^tps/ {print int($3)}' <<<"$out" | head -1) $(awk -F': ' '/failed transactions/ {print $2+0}' <<<"$out" | head -1)"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
DIRECT=(); SHARDED=(); FAILED=0
for round in $(seq "$ROUNDS"); do
    read -r tps failed < <(run "${PORT[ref]}"); DIRECT+=("$tps")
    echo "round $round  one PostgreSQL: $tps tps" >&2
    read -r tps failed < <(run "$SW_PORT"); SHARDED+=("$tps"); FAILED=$((FAILED + ${failed:-0}))
    echo "round $round  shardwire, 2 shards: $tps tps, $failed failed" >&2
done
d=$(printf '%s\n' "${DIRECT[@]}" | median)
s=$(printf '%s\n' "${SHARDED[@]}" | median)
sums=$(for n in s0 s1; do "$PGBIN/psql" -X -At -h 127.0.0.1 -p "${PORT[$n]}" -U postgres postgres -c \
    "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches)"; done |
    awk -F'|' '{a+=$1; t+=$2; b+=$3} END {print a, t, b}')
echo
echo "pgbench TPC-B -c $CLIENTS -j 2 -T $SECONDS_PER_RUN, scale $SCALE, median of $ROUNDS interleaved rounds ($(nproc) cores)"
echo
echo "| one PostgreSQL (tps) | shardwire, 2 shards (tps) | ratio | failed transactions | sum(abalance) sum(tbalance) sum(bbalance) |"
echo "|---|---|---|---|---|"
echo "| $d | $s | $(awk -v s="$s" -v d="$d" 'BEGIN { printf "%.2f", (d > 0 ? s / d : 0) }') | $FAILED | $sums |"
