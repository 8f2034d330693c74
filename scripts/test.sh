#!/usr/bin/env bash
# The whole check, as CI runs it: install what is missing, then format, lints and every
# test (integration tests start real PostgreSQL 15 and MariaDB through the test bed).
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== docker compose config"
if docker compose version >/dev/null 2>&1; then
    docker compose -f docker/docker-compose.yml config -q
elif command -v docker-compose >/dev/null; then
    docker-compose -f docker/docker-compose.yml config -q
else
    echo "neither docker compose nor docker-compose is installed: compose file not checked" >&2
fi

echo "== cargo test"
cargo test --workspace --locked

echo "== test.sh finished in $(( $(date +%s) - started )) s"
