#!/usr/bin/env bash
# Idle clients: the proxy's memory per idle PostgreSQL-protocol client connection, and
# that 10,000 concurrent clients are all accepted and each served one query.
#
#   bench/idle-clients.sh [idle=5000] [serve=10000]
#
# One PostgreSQL node as the only shard, pool_size = 4 and transaction pooling, so the
# clients hold no server connection (the node's max_connections is set to 20 to show
# it). bench/idle-clients.py opens the clients (md5 login as app/app):
#   1. proxy VmRSS after startup and one warm-up query                 -> RSS before
#   2. `idle` clients connected and idle for 2 s                        -> RSS with them;
#      (RSS with − RSS before) / idle = KiB per idle client; then they disconnect
#   3. `serve` clients connected at once, then 'SELECT 1' on every one, pipelined
#      across the sockets; counts the ones answered with a DataRow '1', and the proxy's
#      VmRSS while all of them are still connected.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${1:-5000}
SERVE=${2:-10000}
SETTLE=${SETTLE:-2}
CMD="bash bench/idle-clients.sh${*:+ $*}"

. bench/lib.sh
bench_setup shardwire-idle

# Both the proxy and the Python client need more than $SERVE descriptors: raise the
# soft limit (and the hard one when allowed) before starting either.
if ! ulimit -n 65536 2>/dev/null; then
    hard=$(ulimit -Hn)
    [[ $hard == unlimited ]] && hard=65536
    ulimit -n "$hard"
fi
NOFILE=$(ulimit -n)
if ((NOFILE < SERVE + 100)); then
    echo "idle-clients: open-file limit $NOFILE is too low for $SERVE clients" >&2
    exit 1
fi

start_nodes "max_connections = 20" s0

proxy_config 'pool_size = 4
auth_method = "md5"' app:app s0
start_proxy

# The Python client running in the background, if any: stopped on exit too.
PY_PID=
trap '[[ -n "$PY_PID" ]] && kill "$PY_PID" 2>/dev/null; bench_cleanup' EXIT

for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SW_PORT") 2>/dev/null && break
    kill -0 "$SW_PID" 2>/dev/null || { echo "idle-clients: shardwire exited" >&2; exit 1; }
    sleep 0.1
done

status_field() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$SW_PID/status"; }
rss_kib() { status_field VmRSS; }
# Resident KiB of the proxy by kind of mapping: heap (brk), anonymous mmaps (glibc's
# per-thread malloc arenas, large allocations, thread stacks), stack, file-backed.
smaps_breakdown() {
    awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {
             k = ($6 == "") ? "anon" : ($6 == "[heap]") ? "heap" : ($6 ~ /^\[stack/) ? "stack" : ($6 ~ /^\//) ? "file" : "other"
         }
         $1 == "Rss:" { r[k] += $2 }
         END { printf "heap %d, anon mmap %d, main stack %d, file-backed %d, other %d", r["heap"], r["anon"], r["stack"], r["file"], r["other"] }' \
        "/proc/$SW_PID/smaps"
}
rollup() { awk '$1 ~ /^(Rss|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):$/ {printf "%s %s kB  ", $1, $2}' "/proc/$SW_PID/smaps_rollup"; }
server_conns() {
    "$PGBIN/psql" -X -At -h 127.0.0.1 -p "${PORT[s0]}" -U postgres postgres -c \
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
}
jget() { python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"; }
client() { python3 bench/idle-clients.py --port "$SW_PORT" --user app --password app --database postgres "$@"; }

# hold_clients <args...>: starts the client in the background, reads its JSON line into
# $HELD_JSON; the clients stay connected until release_clients.
hold_clients() {
    coproc PYC { exec python3 bench/idle-clients.py --port "$SW_PORT" --user app --password app --database postgres "$@"; }
    PY_PID=$PYC_PID
    PY_IN=${PYC[1]}
    PY_OUT=${PYC[0]}
    if ! read -r -t 300 -u "$PY_OUT" HELD_JSON; then
        echo "idle-clients: no report from idle-clients.py $*" >&2
        exit 1
    fi
}
release_clients() {
    eval "exec $PY_IN>&- $PY_OUT<&-"
    wait "$PY_PID" || true
    PY_PID=
}

# 1. After startup and one warm-up query.
warm=$(client --serve 1)
if [[ $(jget "$warm" served) != 1 ]]; then
    echo "idle-clients: warm-up query failed: $warm" >&2
    exit 1
fi
sleep 1
RSS_BEFORE=$(rss_kib)
THREADS_BEFORE=$(status_field Threads)
echo "after startup + warm-up: VmRSS $RSS_BEFORE kB, $THREADS_BEFORE threads; $(smaps_breakdown) kB" >&2

# 2. Idle clients.
hold_clients --idle "$IDLE"
IDLE_JSON=$HELD_JSON
echo "idle: $IDLE_JSON" >&2
sleep "$SETTLE"
RSS_IDLE=$(rss_kib)
THREADS_IDLE=$(status_field Threads)
SMAPS_IDLE=$(smaps_breakdown)
ROLLUP_IDLE=$(rollup)
SERVER_IDLE=$(server_conns)
release_clients
IDLE_CONNECTED=$(jget "$IDLE_JSON" connected)
PER_CLIENT=$(awk -v a="$RSS_IDLE" -v b="$RSS_BEFORE" -v n="$IDLE_CONNECTED" 'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "n/a" }')
echo "with $IDLE_CONNECTED idle clients: VmRSS $RSS_IDLE kB, $THREADS_IDLE threads, $SERVER_IDLE server connections; $SMAPS_IDLE kB" >&2
echo "  smaps_rollup: $ROLLUP_IDLE" >&2
sleep 1

# 3. Many clients at once, one query each.
hold_clients --serve "$SERVE" --hold
SERVE_JSON=$HELD_JSON
echo "serve: $SERVE_JSON" >&2
sleep "$SETTLE"
RSS_SERVE=$(rss_kib)
THREADS_SERVE=$(status_field Threads)
SMAPS_SERVE=$(smaps_breakdown)
SERVER_SERVE=$(server_conns)
release_clients
HWM=$(status_field VmHWM)
SERVED=$(jget "$SERVE_JSON" served)
echo "with $(jget "$SERVE_JSON" still_open) clients still connected after their query: VmRSS $RSS_SERVE kB, $THREADS_SERVE threads, $SERVER_SERVE server connections; $SMAPS_SERVE kB" >&2

per_serve=$(awk -v a="$RSS_SERVE" -v b="$RSS_BEFORE" -v n="$SERVE" 'BEGIN { printf "%.1f", (a - b) / n }')
echo
echo "| measurement | value |"
echo "|---|---|"
echo "| proxy VmRSS after startup + 1 warm-up query | $RSS_BEFORE KiB |"
echo "| idle clients connected (md5 login) | $IDLE_CONNECTED / $IDLE in $(jget "$IDLE_JSON" connect_seconds) s |"
echo "| proxy VmRSS with $IDLE idle clients (after ${SETTLE} s) | $RSS_IDLE KiB |"
echo "| **RSS per idle client** | **$PER_CLIENT KiB** |"
echo "| clients connected at once | $(jget "$SERVE_JSON" connected) / $SERVE in $(jget "$SERVE_JSON" connect_seconds) s |"
echo "| **clients served \`SELECT 1\` (DataRow '1')** | **$SERVED / $SERVE** in $(jget "$SERVE_JSON" query_seconds) s (all pipelined; $(jget "$SERVE_JSON" total_seconds) s with connecting) |"
echo "| proxy VmRSS with $SERVE clients connected | $RSS_SERVE KiB ($per_serve KiB per client over the baseline) |"
echo "| proxy VmHWM (peak) | $HWM KiB |"
echo "| PostgreSQL server connections with $IDLE / $SERVE clients | $SERVER_IDLE / $SERVER_SERVE (pool_size = 4, max_connections = 20) |"
echo "| proxy threads (before / $IDLE idle / $SERVE) | $THREADS_BEFORE / $THREADS_IDLE / $THREADS_SERVE |"
echo "| client errors | idle: $(jget "$IDLE_JSON" errors), serve: $(jget "$SERVE_JSON" errors) |"
echo
echo "\`$CMD\` — one PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') shard, pool_size = 4, auth_method = md5, release build, $(nproc) cores, open-file limit $NOFILE"

if [[ $IDLE_CONNECTED != "$IDLE" || $SERVED != "$SERVE" ]]; then
    echo "idle-clients: not every client was connected and served" >&2
    exit 1
fi
