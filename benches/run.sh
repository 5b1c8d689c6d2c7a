#!/usr/bin/env bash
# Every benchmark in one table: the criterion benchmarks (analysis at 10,000 systems, reading
# and importing a 1,000-system plan, the offline runbook at 1,000 systems, queuing and
# delivering mail) and the HTTP load test (benches/http.sh: pages at 1,000 systems under
# CONNECTIONS concurrent clients, default 64, with the server's resident memory idle and at its
# peak under load).
#
#   benches/run.sh               # everything (about 10 minutes on 2 cores)
#   SKIP_HTTP=1 benches/run.sh   # criterion only
#   BENCHES="store mail" benches/run.sh   # some criterion benchmarks (the table still lists
#                                         # the latest results of the others)
#
# Needs python3 (the plan generator and the criterion summary) and, for the HTTP part, wrk.
# Progress goes to stderr; stdout is one markdown table and a line naming the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "run.sh: cargo bench (criterion)" >&2
read -r -a benches <<<"${BENCHES:-analysis store mail alerting}"
cargo bench --locked $(printf -- '--bench %s ' "${benches[@]}") >&2

# Criterion keeps each benchmark's samples (iterations and total time per sample): the median
# is criterion's estimate, p99 is taken over the per-iteration times of the samples.
ROWS=$(python3 - <<'PY'
import json, os, glob
rows = []
for est in sorted(glob.glob("target/criterion/*/*/new/estimates.json")):
    d = os.path.dirname(est)
    bench = json.load(open(os.path.join(d, "benchmark.json")))
    sample = json.load(open(os.path.join(d, "sample.json")))
    per = sorted(t / i for t, i in zip(sample["times"], sample["iters"]))
    p99 = per[min(len(per) - 1, int(len(per) * 0.99))]
    median = json.load(open(est))["median"]["point_estimate"]
    tp = bench.get("throughput") or {}
    elements = tp.get("Elements")
    rate = f"{elements / (median / 1e9):,.0f}/s" if elements else "–"
    ms = lambda ns: f"{ns / 1e6:.2f} ms" if ns < 1e9 else f"{ns / 1e9:.2f} s"
    rows.append(f"| {bench['group_id']} / {bench['function_id']} | {rate} | {ms(median)} | {ms(p99)} |")
print("\n".join(rows))
PY
)

echo "| benchmark | throughput | median | p99 |"
echo "|---|---:|---:|---:|"
echo "$ROWS"
if [ -z "${SKIP_HTTP:-}" ]; then
    echo "run.sh: HTTP load (benches/http.sh)" >&2
    CONNECTIONS=${CONNECTIONS:-64} benches/http.sh | sed -n '3,$p' | sed '/^$/,$d'
fi
model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "Machine: $(nproc) CPUs, ${model:-unknown CPU}, $(free -g | awk '/^Mem:/ { print $2 }') GB;" \
    "$(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
