#!/usr/bin/env bash
# Installs the system packages shardwire's tests, demo and benchmarks need, if missing.
#   scripts/install-deps.sh            test + demo packages
#   scripts/install-deps.sh --bench    also pgbouncer, curl and valgrind
# Idempotent; only touches apt when something is missing. Packages are installed with
# --no-install-recommends --no-upgrade, and services are kept from starting.
set -euo pipefail

# docker-compose (1.29, Debian's): validates docker/docker-compose.yml; no engine needed.
packages=(postgresql-15 postgresql-client-15 mariadb-server mariadb-client sysbench procps util-linux
    docker-compose)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(pgbouncer curl valgrind)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
fi

# Keep package scripts from starting database services: the test bed runs its own.
if [[ ! -x /usr/sbin/policy-rc.d ]] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
    printf '#!/bin/sh\n# shardwire: do not start services on package install\nexit 101\n' \
        > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null
