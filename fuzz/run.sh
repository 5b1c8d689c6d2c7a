#!/usr/bin/env bash
# Fuzzes the plan file parser (a whole plan folder), the duration parser and the drill
# schedule input (cron expressions) with cargo fuzz (libFuzzer), each for a bounded time.
#
#   fuzz/run.sh                  # 60 s per target
#   fuzz/run.sh 600 schedule     # 10 minutes, one target
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz when it
# is missing. Not part of CI's default run. Each target starts from the inputs kept in
# fuzz/regressions/<target>/ (the seeds and every crash found so far) plus its own corpus in
# fuzz/corpus/<target>/ (not committed). A crash stops the run: the input is copied into
# fuzz/regressions/<target>/, where `cargo test --test fuzz_regressions` runs it from then
# on, and the script exits 1 naming it.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(plan_folder duration schedule)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz/run.sh needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi

# Safe Rust: panics are what we look for, so no sanitizer (faster builds and runs).
cargo +nightly fuzz build --sanitizer none

status=0
for target in "${TARGETS[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "== $target: ${SECONDS_EACH}s" >&2
    if cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" "regressions/$target" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 2>"artifacts/$target/log"; then
        grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|cov:' "artifacts/$target/log" | tail -3 >&2
    else
        status=1
        for crash in "artifacts/$target"/crash-* "artifacts/$target"/timeout-* "artifacts/$target"/oom-*; do
            [ -e "$crash" ] || continue
            cp "$crash" "regressions/$target/"
            echo "$target: $(basename "$crash") kept in fuzz/regressions/$target/" >&2
        done
        tail -n 30 "artifacts/$target/log" >&2
    fi
done
exit $status
