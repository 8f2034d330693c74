# Shared by the bench scripts that need their own PostgreSQL servers: sourced, not run.
#
#   . bench/lib.sh
#   bench_setup <work-dir prefix>     # installs deps, builds shardwire, makes $WORK
#   start_nodes "<extra postgresql.conf lines>" ref s0 s1   # fills PORT[name]; 2PC-ready
#
# Everything started here (the nodes, $SW_PID) is stopped and $WORK removed on exit.

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A PORT
NODES=()
SW_PID=

bench_setup() {
    scripts/install-deps.sh
    cargo build --release -p shardwire --quiet
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    WORK=$(mktemp -d "/dev/shm/$1.XXXXXX")
    chmod 755 "$WORK"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$WORK"; fi
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [[ -n "$SW_PID" ]] && kill "$SW_PID" 2>/dev/null || true
    for n in "${NODES[@]}"; do
        if [[ -f "$WORK/$n/postmaster.pid" ]]; then
            (cd "$WORK" && as_pg "$PGBIN/pg_ctl" -D "$WORK/$n" -m immediate stop >/dev/null 2>&1) || true
        fi
    done
    rm -rf "$WORK"
}

# start_nodes "<extra conf>" name...: initdb (C locale, trust), configure, start.
start_nodes() {
    local extra=$1 n
    shift
    for n in "$@"; do
        NODES+=("$n")
        PORT[$n]=$(free_port)
        (cd "$WORK" && as_pg "$PGBIN/initdb" -D "$WORK/$n" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null)
        printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nshared_buffers = 256MB\nfsync = off\nmax_prepared_transactions = 100\n%s\n" \
            "${PORT[$n]}" "$extra" >>"$WORK/$n/postgresql.conf"
        (cd "$WORK" && as_pg "$PGBIN/pg_ctl" -D "$WORK/$n" -l "$WORK/$n.log" -w start >/dev/null)
    done
}
