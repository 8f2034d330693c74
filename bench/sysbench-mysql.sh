#!/usr/bin/env bash
# sysbench oltp_point_select and oltp_read_only against one MariaDB server directly and
# through shardwire's MySQL frontend (one shard in front of the same server), runs
# interleaved; prints the median TPS and p95 latency of each, the ratio, and the proxy's
# CPU time per transaction (utime+stime of its process over a run).
#
#   bench/sysbench-mysql.sh [rounds=3] [seconds=20] [threads=8]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-20}
THREADS=${3:-8}
TABLE_SIZE=${TABLE_SIZE:-100000}

. bench/lib.sh
bench_setup shardwire-sysbench
start_mariadb m0
mariadb --no-defaults -h127.0.0.1 -P"${PORT[m0]}" -uroot -e "CREATE DATABASE sb"

SW_PORT=$(free_port)
cat > "$WORK/shardwire.toml" <<CONF
[proxy]
mysql_listen = "127.0.0.1:$SW_PORT"
pool_size = 32

[[users]]
name = "bench"
password = "bench"

[[databases]]
name = "sb"
protocol = "mysql"
backend_user = "root"
backend_password = ""

  [[databases.shards]]
  primary = "127.0.0.1:${PORT[m0]}/sb"

  [[databases.tables]]
  name = "sbtest1"
  shard_key = "id"
  key_type = "integer"
CONF
RUST_LOG=warn target/release/shardwire serve --config "$WORK/shardwire.toml" &
SW_PID=$!
sleep 1

sb() { # workload port user action [extra...]
    local workload=$1 port=$2 user=$3 action=$4
    shift 4
    sysbench "$workload" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$port" \
        --mysql-user="$user" --mysql-password="$([[ $user == bench ]] && echo bench)" \
        --mysql-db=sb --tables=1 --table-size="$TABLE_SIZE" --auto_inc=off "$action" "$@"
}
sb oltp_read_only "${PORT[m0]}" root prepare >/dev/null

run() { # workload port user -> "tps p95_ms errors"
    local out
    out=$(sb "$1" "$2" "$3" run --threads="$THREADS" --time="$SECONDS_PER_RUN" --report-interval=0 2>&1 || true)
    echo "$(awk '/transactions:/ {gsub(/\(/,"",$3); print int($3)}' <<<"$out" | head -1) \
$(awk '/95th percentile:/ {print $3}' <<<"$out" | head -1) \
$(awk '/ignored errors:/ {print $3}' <<<"$out" | head -1)"
}
proxy_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SW_PID/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(mariadbd --version | awk '{print $3}'); sysbench $(sysbench --version | awk '{print $2}')"
echo "rounds=$ROUNDS seconds=$SECONDS_PER_RUN threads=$THREADS table_size=$TABLE_SIZE"
for workload in oltp_point_select oltp_read_only; do
    D_TPS=(); D_P95=(); S_TPS=(); S_P95=(); S_CPU=()
    for r in $(seq 1 "$ROUNDS"); do
        read -r tps p95 err < <(run "$workload" "${PORT[m0]}" root)
        D_TPS+=("$tps"); D_P95+=("$p95")
        before=$(proxy_cpu_ticks)
        read -r tps2 p952 err2 < <(run "$workload" "$SW_PORT" bench)
        after=$(proxy_cpu_ticks)
        cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$tps2" -v s="$SECONDS_PER_RUN" \
            'BEGIN {printf "%.1f", t / hz * 1e6 / (n * s)}')
        S_TPS+=("$tps2"); S_P95+=("$p952"); S_CPU+=("$cpu")
        echo "$workload round $r: direct $tps tps (p95 $p95 ms, errors $err) | shardwire $tps2 tps (p95 $p952 ms, errors $err2, proxy CPU $cpu µs/txn)"
    done
    dt=$(printf '%s\n' "${D_TPS[@]}" | median); st=$(printf '%s\n' "${S_TPS[@]}" | median)
    dp=$(printf '%s\n' "${D_P95[@]}" | median); sp=$(printf '%s\n' "${S_P95[@]}" | median)
    sc=$(printf '%s\n' "${S_CPU[@]}" | median)
    echo "$workload median: direct $dt tps (p95 $dp ms), shardwire $st tps (p95 $sp ms), ratio $(awk -v a="$st" -v b="$dt" 'BEGIN {printf "%.2f", a/b}'), proxy CPU $sc µs/txn"
done
