#!/usr/bin/env bash
# pgbench -S through shardwire vs PgBouncer (transaction pooling) vs direct PostgreSQL,
# one PostgreSQL node, the same machine, runs interleaved; prints the median TPS of each
# target per query mode and the ratios.
#
#   bench/pgbench-pooler.sh [rounds=3] [seconds=15] [clients=16]
#
# Installs pgbouncer if missing (scripts/install-deps.sh --bench), builds shardwire in
# release mode, and removes everything it started when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-15}
CLIENTS=${3:-16}
SCALE=${SCALE:-10}
# Runtime threads of the proxy (proxy.workers). PgBouncer is one thread; on this 2-core
# machine, shared with PostgreSQL and pgbench, one worker is the fair and faster setting.
# SW_WORKERS=0 leaves the default (one per core).
SW_WORKERS=${SW_WORKERS:-1}

scripts/install-deps.sh --bench
cargo build --release -p shardwire --quiet
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

WORK=$(mktemp -d /dev/shm/shardwire-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [[ -f "$WORK/pgbouncer.pid" ]]; then kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null || true; fi
    sleep 0.5
    if [[ -f "$WORK/pg/postmaster.pid" ]]; then as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PG_PORT=$(free_port); BOUNCER_PORT=$(free_port); SW_PORT=$(free_port)

# PostgreSQL
mkdir -p "$WORK/pg"; if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$WORK"; fi
(cd "$WORK" && as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null)
cat >> "$WORK/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
fsync = off
CONF
(cd "$WORK" && as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start >/dev/null)
"$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >/dev/null 2>&1

# PgBouncer, transaction pooling, same pool size as shardwire
cat > "$WORK/pgbouncer.ini" <<CONF
[databases]
postgres = host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
CONF
if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$WORK"; fi
as_pg pgbouncer "$WORK/pgbouncer.ini" >"$WORK/pgbouncer.out" 2>&1 &
PIDS+=($!)

# shardwire, one shard
cat > "$WORK/shardwire.toml" <<CONF
[proxy]
postgres_listen = "127.0.0.1:$SW_PORT"
pool_size = 20
auth_method = "md5"
$( [[ $SW_WORKERS -gt 0 ]] && echo "workers = $SW_WORKERS" )

[[users]]
name = "postgres"
password = "bench"

[[databases]]
name = "postgres"
protocol = "postgres"
backend_user = "postgres"

  [[databases.shards]]
  primary = "127.0.0.1:$PG_PORT/postgres"
CONF
RUST_LOG=warn target/release/shardwire serve --config "$WORK/shardwire.toml" &
SW_PID=$!
PIDS+=($SW_PID)
sleep 1
BOUNCER_PID=$(cat "$WORK/pgbouncer.pid" 2>/dev/null || true)

cpu_ticks() { # pid -> utime+stime in clock ticks
    [[ -n "$1" && -r /proc/$1/stat ]] || { echo 0; return; }
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
run() { # target port mode pid -> "tps cpu_us_per_txn"
    local port=$2 mode=$3 pid=$4 before after out tps txns
    before=$(cpu_ticks "$pid")
    out=$(PGPASSWORD=bench "$PGBIN/pgbench" -n -S -M "$mode" -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" \
        -h 127.0.0.1 -p "$port" -U postgres postgres 2>/dev/null || true)
    after=$(cpu_ticks "$pid")
    tps=$(awk '/^tps/ {print int($3)}' <<<"$out" | head -1)
    txns=$(awk -F': ' '/actually processed/ {split($2, a, "/"); print a[1]+0}' <<<"$out" | head -1)
    awk -v t="${tps:-0}" -v n="${txns:-0}" -v d="$((after - before))" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%d %.1f\n", t, (n > 0 ? d * 1e6 / hz / n : 0) }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

declare -A RESULTS CPU
for mode in simple extended prepared; do
    for round in $(seq "$ROUNDS"); do
        for target in direct pgbouncer shardwire; do
            case $target in
                direct) port=$PG_PORT; pid= ;;
                pgbouncer) port=$BOUNCER_PORT; pid=$BOUNCER_PID ;;
                shardwire) port=$SW_PORT; pid=$SW_PID ;;
            esac
            read -r tps cpu < <(run "$target" "$port" "$mode" "$pid")
            RESULTS[$mode,$target]+="$tps "
            CPU[$mode,$target]+="$cpu "
            echo "round $round  -M $mode  $target: $tps tps, ${cpu} us CPU per transaction in the proxy" >&2
        done
    done
done

echo
echo "pgbench -S -c $CLIENTS -j 2 -T $SECONDS_PER_RUN, scale $SCALE, median of $ROUNDS interleaved rounds ($(nproc) cores, shardwire workers: ${SW_WORKERS/#0/default})"
echo
echo "| mode | direct | PgBouncer | shardwire | shardwire / PgBouncer | shardwire / direct | proxy CPU µs/txn: PgBouncer | shardwire |"
echo "|---|---|---|---|---|---|---|---|"
for mode in simple extended prepared; do
    d=$(echo ${RESULTS[$mode,direct]} | tr ' ' '\n' | median)
    b=$(echo ${RESULTS[$mode,pgbouncer]} | tr ' ' '\n' | median)
    s=$(echo ${RESULTS[$mode,shardwire]} | tr ' ' '\n' | median)
    rb=$(awk -v s="$s" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", s / b; else print "n/a" }')
    rd=$(awk -v s="$s" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f", s / d; else print "n/a" }')
    cb=$(echo ${CPU[$mode,pgbouncer]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    cs=$(echo ${CPU[$mode,shardwire]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "| $mode | $d | $b | $s | $rb | $rd | $cb | $cs |"
done
