# Shared by the bench scripts that need their own PostgreSQL servers: sourced, not run.
#
#   . bench/lib.sh
#   bench_setup <work-dir prefix>     # installs deps, builds shardwire, makes $WORK
#   start_nodes "<extra postgresql.conf lines>" ref s0 s1   # fills PORT[name]; 2PC-ready
#   start_mariadb m0                  # a MariaDB server; fills PORT[name]
#   proxy_config "<[proxy] lines>" user:password s0 s1   # $WORK/shardwire.toml, $SW_PORT
#   start_proxy                       # the release shardwire on it; fills SW_PID
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
    stop_mariadbs
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

# proxy_config "<extra [proxy] lines>" user:password node...: writes $WORK/shardwire.toml
# with the PostgreSQL frontend on a free port ($SW_PORT), one proxy user, and a database
# "postgres" whose shard i is the i-th node. Scripts append their [[databases.tables]].
proxy_config() {
    local extra=$1 user=$2 n
    shift 2
    SW_PORT=$(free_port)
    {
        printf '[proxy]\npostgres_listen = "127.0.0.1:%s"\n%s\n\n' "$SW_PORT" "$extra"
        printf '[[users]]\nname = "%s"\npassword = "%s"\n\n' "${user%%:*}" "${user#*:}"
        printf '[[databases]]\nname = "postgres"\nprotocol = "postgres"\nbackend_user = "postgres"\n'
        for n in "$@"; do
            printf '\n  [[databases.shards]]\n  primary = "127.0.0.1:%s/postgres"\n' "${PORT[$n]}"
        done
    } >"$WORK/shardwire.toml"
}

# start_proxy: the release shardwire serving $WORK/shardwire.toml; fills SW_PID.
start_proxy() {
    RUST_LOG=warn target/release/shardwire --config "$WORK/shardwire.toml" serve &
    SW_PID=$!
    sleep 1
}

# start_mariadb name...: a MariaDB server per name on a free port (no grant tables: the
# bench logs in as root without a password), fills PORT[name].
MARIADBS=()
start_mariadb() {
    local n
    for n in "$@"; do
        MARIADBS+=("$n")
        PORT[$n]=$(free_port)
        mkdir -p "$WORK/$n"
        if [[ $(id -u) -eq 0 ]]; then chown mysql "$WORK/$n"; fi
        mariadb-install-db --no-defaults --datadir="$WORK/$n" --user=mysql --skip-test-db \
            --auth-root-authentication-method=normal >"$WORK/$n-install.log" 2>&1
        setsid mariadbd --no-defaults --datadir="$WORK/$n" --user=mysql --port="${PORT[$n]}" \
            --bind-address=127.0.0.1 --socket="$WORK/$n/mysqld.sock" --skip-grant-tables \
            --innodb-buffer-pool-size=256M --innodb-flush-method=fsync \
            --innodb-flush-log-at-trx-commit=0 --performance-schema=OFF --skip-name-resolve \
            --max-connections=500 >"$WORK/$n.log" 2>&1 &
        for _ in $(seq 1 100); do
            mariadb-admin --no-defaults -h127.0.0.1 -P"${PORT[$n]}" -uroot ping >/dev/null 2>&1 && break
            sleep 0.1
        done
    done
}

stop_mariadbs() {
    local n
    for n in "${MARIADBS[@]}"; do
        mariadb-admin --no-defaults -h127.0.0.1 -P"${PORT[$n]}" -uroot shutdown >/dev/null 2>&1 || true
    done
}
