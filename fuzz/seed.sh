#!/usr/bin/env bash
# Records real client traffic and turns it into the fuzz targets' seed corpora.
#
# Starts a throwaway PostgreSQL 15 and MariaDB server on 127.0.0.1 (as the test bed
# does: initdb/postgres as the `postgres` user, mariadbd --user=mysql), puts a recording
# relay (fuzz/relay.py) in front of each, and runs real clients through it: psql (trust,
# SCRAM and md5 logins, SSLRequest, a CancelRequest, errors, notices, typed results),
# pgbench in simple, extended and prepared mode, the mariadb client (native password
# login, queries, errors, typed results) and, when built, shardwire-bench in MySQL
# prepared mode (COM_STMT_PREPARE/EXECUTE). fuzz/seeds.py then cuts the captures into
# fuzz/corpus/<target>/.
#
# Usage: fuzz/seed.sh            (needs root for runuser; takes about a minute)
# Env:   KEEP=1 keeps the scratch directory with the raw captures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d /tmp/shardwire-seed.XXXXXX)
chmod 755 "$work"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${KEEP:-}" == 1 ]]; then echo "captures kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

relay() { # listen upstream out-dir
    python3 "$here/relay.py" "$1" "$2" "$3" &
    pids+=($!)
    wait_port "$1"
}

# ---------------------------------------------------------------- PostgreSQL
pg_bin=$(dirname "$(command -v postgres)")
for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/postgres" ]] && pg_bin=$d; done
pg_port=$(free_port)
pg_relay=$(free_port)
mkdir "$work/pg" && chown postgres: "$work/pg"
(cd "$work" && runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres \
    --auth=trust -E UTF8 --locale=C --no-sync >/dev/null)
cat >"$work/pg/pg_hba.conf" <<'EOF'
host all app    127.0.0.1/32 scram-sha-256
host all legacy 127.0.0.1/32 md5
host all all    127.0.0.1/32 trust
EOF
(cd "$work" && exec runuser -u postgres -- "$pg_bin/postgres" -D "$work/pg" -p "$pg_port" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off \
    -c log_min_messages=fatal >"$work/pg.log" 2>&1) &
pids+=($!)
wait_port "$pg_port"
export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres PGDATABASE=postgres
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
CREATE USER app PASSWORD 'secret' SUPERUSER;
SET password_encryption = 'md5';
CREATE USER legacy PASSWORD 'secret' SUPERUSER;
CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric(12,2), owner text);
CREATE TABLE users (name text PRIMARY KEY, born date, score real);
CREATE TABLE sessions (sid uuid PRIMARY KEY, seen timestamptz, active bool);
CREATE TABLE orders (id serial, account_id bigint, total numeric, at timestamp, code char(4));
CREATE TABLE countries (code char(2) PRIMARY KEY, name varchar(40));
EOF

mkdir "$work/cap-pg"
relay "$pg_relay" "$pg_port" "$work/cap-pg"
export PGPORT=$pg_relay
# SSLRequest first (sslmode=prefer, refused), then a trust login.
psql -X -c "SELECT 1" >/dev/null
# SCRAM login with settings in the startup packet; writes, reads, errors and notices.
PGPASSWORD=secret psql -X "sslmode=disable user=app application_name=seed \
options='-c search_path=public -c shardwire.read_consistency=session'" >/dev/null 2>&1 <<'EOF'
INSERT INTO accounts VALUES (1, 10.50, 'ann'), (2, -3.25, 'bob'), (42, 1e6, 'éva');
INSERT INTO users VALUES ('ann', '1990-02-28', 1.5), ('bob', '0044-03-15 BC', 'NaN');
INSERT INTO sessions VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-01-02 03:04:05.678+02', true),
    ('{b0eebc999c0b4ef8bb6d6bb9bd380a12}', 'infinity', false);
INSERT INTO orders (account_id, total, at, code) VALUES (1, 99.999, '2024-02-29 23:59:59.999999', 'ab'),
    (42, 'NaN', '-infinity', NULL);
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Deutschland');
SELECT * FROM accounts WHERE id = 1;
SELECT * FROM accounts WHERE id IN (1, 2, 42) ORDER BY balance DESC NULLS LAST LIMIT 2;
SELECT owner, sum(balance), count(*), avg(balance), min(balance), max(balance) FROM accounts GROUP BY owner HAVING count(*) > 0 ORDER BY 2;
SELECT * FROM users WHERE name = 'ann''s' OR name = E'b\x6fb';
SELECT sid, seen, active FROM sessions ORDER BY seen;
SELECT account_id, total, at, code FROM orders ORDER BY at;
SELECT a.id, c.name FROM accounts a JOIN countries c ON c.code = 'fr' WHERE a.id = 42;
SELECT 1::int2, 2::int4, 3::int8, 4::oid, 1.5::float4, -0::float8, '1e300'::float8, 'Infinity'::float8,
    0.000001230::numeric, '-Infinity'::numeric, now()::date, '24:00:00'::time, 'x'::name;
UPDATE accounts SET balance = balance + 1 WHERE id = 2;
DELETE FROM orders WHERE account_id = 42;
SET statement_timeout = '5s';
SHOW statement_timeout;
BEGIN; SELECT count(*) FROM countries; COMMIT;
SELECT * FROM no_such_table;
DO $$ BEGIN RAISE NOTICE 'hello %', 1; END $$;
COPY countries TO STDOUT;
EOF
# md5 login.
PGPASSWORD=secret psql -X "sslmode=disable user=legacy" -c "SELECT name FROM countries ORDER BY 1" >/dev/null
# A wrong password.
PGPASSWORD=wrong psql -X "sslmode=disable user=app" -c "SELECT 1" >/dev/null 2>&1 || true
# A CancelRequest: psql sends one on SIGINT.
psql -X "sslmode=disable" -c "SELECT pg_sleep(5)" >/dev/null 2>&1 &
sleep 1; kill -INT $! 2>/dev/null || true; wait $! 2>/dev/null || true
# pgbench: simple, extended (Parse/Bind/Execute each time) and prepared.
cat >"$work/bench.sql" <<'EOF'
\set id random(1, 50)
SELECT balance FROM accounts WHERE id = :id;
UPDATE accounts SET balance = balance + 1 WHERE id = :id;
INSERT INTO users (name, born, score) VALUES ('u' || :id, '2000-01-01', :id) ON CONFLICT (name) DO NOTHING;
SELECT * FROM orders WHERE account_id IN (:id, 1) ORDER BY at LIMIT 3;
EOF
for mode in simple extended prepared; do
    pgbench -n -t 2 -M "$mode" -f "$work/bench.sql" "sslmode=disable" >/dev/null 2>&1
done

# ---------------------------------------------------------------- MariaDB
my_port=$(free_port)
my_relay=$(free_port)
mkdir "$work/my" && chown mysql: "$work/my"
(cd "$work" && mariadb-install-db --no-defaults --datadir="$work/my" --user=mysql \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1)
(cd "$work" && exec mariadbd --no-defaults --datadir="$work/my" --user=mysql \
    --socket="$work/my/sock" --pid-file="$work/my/pid" --port="$my_port" \
    --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=16M \
    --innodb-flush-method=fsync --performance-schema=OFF \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    >"$work/my.log" 2>&1) &
pids+=($!)
wait_port "$my_port"
mariadb --no-defaults -S "$work/my/sock" -uroot <<'EOF'
CREATE USER app@'%' IDENTIFIED BY 'secret';
GRANT ALL ON *.* TO app@'%';
CREATE DATABASE app;
CREATE TABLE app.accounts (id bigint PRIMARY KEY, balance decimal(12,2), owner varchar(20) COLLATE utf8mb4_bin);
CREATE TABLE app.users (name varchar(40) PRIMARY KEY, born date, score double, t time);
CREATE TABLE app.countries (code char(2) PRIMARY KEY, name varchar(40));
EOF

mkdir "$work/cap-my"
relay "$my_relay" "$my_port" "$work/cap-my"
my=(mariadb --no-defaults -h127.0.0.1 -P"$my_relay" -uapp -psecret)
"${my[@]}" --force app >/dev/null 2>&1 <<'EOF' || true
INSERT INTO accounts VALUES (1, 10.50, 'ann'), (2, -3.25, 'Bob '), (42, 1e6, 'éva');
INSERT INTO users VALUES ('ann', '1990-02-28', 1.5, '-838:59:59'), ('bob', '2024-02-29', -0.0, '12:00:00.5');
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Deutschland');
SELECT * FROM accounts WHERE id = 1;
SELECT * FROM accounts WHERE id IN (1, 2, 42) ORDER BY owner DESC LIMIT 2;
SELECT owner, sum(balance), count(*), avg(balance) FROM accounts GROUP BY owner ORDER BY 2;
SELECT * FROM users WHERE name = 'ann\'s' OR name = "bob";
SELECT name, born, score, t FROM users ORDER BY t;
SELECT 1, -2.5, 1e300, CAST('12:34:56' AS time), _utf8mb4'x' COLLATE utf8mb4_bin, NULL;
UPDATE accounts SET balance = balance + 1 WHERE id = 2;
SET autocommit = 0; SET SESSION sql_mode = 'ANSI_QUOTES';
START TRANSACTION; SELECT count(*) FROM countries; COMMIT;
SHOW WARNINGS;
SELECT * FROM no_such_table;
USE mysql;
SELECT @@version, @@session.autocommit;
EOF
"${my[@]}" -e "SELECT 1" >/dev/null 2>&1
"${my[@]/-psecret/-pwrong}" -e "SELECT 1" >/dev/null 2>&1 || true
bench=$root/target/release/shardwire-bench
[[ -x $bench ]] || bench=$root/target/debug/shardwire-bench
if [[ -x $bench ]]; then
    "$bench" --url "mysql://app:secret@127.0.0.1:$my_port/app" --workload read-write \
        --scale 20 --setup --transactions 1 --clients 1 --quiet >/dev/null 2>&1 || true
    "$bench" --url "mysql://app:secret@127.0.0.1:$my_relay/app" --workload read-write \
        --mode prepared --transactions 3 --clients 1 --quiet >/dev/null 2>&1 || true
else
    echo "shardwire-bench not built: no MySQL prepared-statement capture" >&2
fi

sleep 0.5
rm -rf "$here/corpus"
python3 "$here/seeds.py" "$work/cap-pg" "$work/cap-my" "$here/corpus"
