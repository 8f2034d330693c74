#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes (see FUZZING.md): builds every cargo fuzz
# target in fuzz/ and runs each for SECONDS (default 60), one after another, from the
# committed seed corpus. Exits non-zero as soon as a target finds a crash (the input is
# left in fuzz/artifacts/<target>/). Not part of scripts/test.sh: it needs nightly Rust.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Env:   CARGO_TARGET_DIR (default target/fuzz, apart from the normal build),
#        FUZZ_ARGS (more libFuzzer flags, e.g. "-max_len=4096").
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/fuzz}

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd fuzz
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "== cargo fuzz build"
cargo +nightly fuzz build -O

for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    # New inputs go to a scratch corpus; the committed seeds and the inputs of past
    # crashes (regressions/) are only read. With -jobs,
    # libFuzzer runs one child process that logs to fuzz-0.log.
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
    rm -f fuzz-0.log
    seeds=("corpus/$target")
    [[ -d "regressions/$target" ]] && seeds+=("regressions/$target")
    # shellcheck disable=SC2086
    if ! cargo +nightly fuzz run -O "$target" "$scratch" "${seeds[@]}" -- \
        -max_total_time="$seconds" -jobs=1 -workers=1 -print_final_stats=1 ${FUZZ_ARGS:-}; then
        rm -rf "$scratch"
        [[ -f fuzz-0.log ]] && grep -v '^#' fuzz-0.log | tail -40 >&2
        echo "== $target found a crash: see fuzz/artifacts/$target/ and FUZZING.md" >&2
        exit 1
    fi
    rm -rf "$scratch"
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' fuzz-0.log 2>/dev/null || true
done
echo "== fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no crash"
