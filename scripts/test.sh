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

echo "== cargo test"
cargo test --workspace --locked

echo "== test.sh finished in $(( $(date +%s) - started )) s"
