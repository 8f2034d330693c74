#!/usr/bin/env bash
# User-space instructions per pgbench -S transaction in shardwire and in PgBouncer
# (transaction pooling), counted by valgrind's callgrind: unlike throughput on a shared
# machine, the count repeats exactly from run to run, so it shows what a hot-path change
# saved. Kernel work (the socket calls) is not counted; both proxies make the same four
# per transaction (see bench/RESULTS.md).
#
#   bench/callgrind-pooler.sh [transactions per client=2500]
#
# Each proxy runs under callgrind in front of one PostgreSQL node; pgbench (-c 4 -j 1)
# runs a short unmeasured warmup, then N transactions per client; the count is the
# difference between a run of N + 500 and a run of 500, over 4 N.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2500}
bench_setup shardwire-callgrind
scripts/install-deps.sh --bench
command -v valgrind >/dev/null || { echo "valgrind is needed (apt install valgrind)" >&2; exit 1; }

start_nodes "max_connections = 100" pg
"$PGBIN/pgbench" -i -q -s 10 -h 127.0.0.1 -p "${PORT[pg]}" -U postgres postgres >/dev/null 2>&1
proxy_config "pool_size = 8
auth_method = \"md5\"
workers = 1" postgres:bench pg

BOUNCER_PORT=$(free_port)
cat >"$WORK/pgbouncer.ini" <<CONF
[databases]
postgres = host=127.0.0.1 port=${PORT[pg]} dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 8
logfile = $WORK/pgbouncer.log
CONF
if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$WORK"; fi

# instructions <which> <port> <mode> <transactions per client>: the instructions proxy
# <which> (shardwire | pgbouncer) executed under callgrind while pgbench ran that many
# transactions per client through it.
instructions() {
    local which=$1 port=$2 mode=$3 n=$4 out
    out="$WORK/callgrind.$which.$mode.$n"
    case $which in
        shardwire) RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
            target/release/shardwire --config "$WORK/shardwire.toml" serve >"$out.log" 2>&1 & ;;
        pgbouncer) (cd "$WORK" && as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
            pgbouncer "$WORK/pgbouncer.ini") >"$out.log" 2>&1 & ;;
    esac
    for _ in $(seq 150); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.2
    done
    PGPASSWORD=bench "$PGBIN/pgbench" -n -S -M "$mode" -c 4 -j 1 -t "$n" \
        -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
    # SIGINT: both proxies stop cleanly, and callgrind writes its totals.
    pkill -INT -f -- "--callgrind-out-file=$out" || true
    while pgrep -f -- "--callgrind-out-file=$out" >/dev/null; do sleep 0.2; done
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.log" | tail -1
}

per_txn() { # name which port mode
    local name=$1 which=$2 port=$3 mode=$4 a b
    a=$(instructions "$which" "$port" "$mode" 500)
    b=$(instructions "$which" "$port" "$mode" $((N + 500)))
    echo "| $name | $mode | $(( (b - a) / (4 * N) )) |"
}

echo
echo "callgrind: user-space instructions per pgbench -S transaction ($((4 * N)) transactions, -c 4)"
echo
echo "| proxy | mode | instructions / transaction |"
echo "|---|---|---|"
for mode in simple extended; do
    per_txn shardwire shardwire "$SW_PORT" "$mode"
    per_txn PgBouncer pgbouncer "$BOUNCER_PORT" "$mode"
done
