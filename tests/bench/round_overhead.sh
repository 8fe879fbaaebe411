#!/usr/bin/env bash
# Framework overhead per round: round wall time minus the slowest worker's reported training
# time, as a share of the round, from a real demo federation (8 workers by default).
# Usage: tests/bench/round_overhead.sh [demo.sh options]
set -euo pipefail
cd "$(dirname "$0")/../.."
run=$(mktemp -d /tmp/fl-overhead-XXXX)
deploy/demo.sh --run-dir "$run" "$@" >/dev/null
awk -F'[:,]' '
  { for (i = 1; i < NF; i++) { k = $i; gsub(/[{}" ]/, "", k); v[k] = $(i + 1) }
    r = v["round_seconds"]; t = v["slowest_train_seconds"]; o = r - t
    printf "round %2d: round %.3fs, slowest training %.3fs, overhead %.3fs (%.1f%%), aggregate %.4fs, eval %.3fs\n",
           v["round"], r, t, o, 100 * o / r, v["aggregate_seconds"], v["eval_seconds"]
    if (NR > 1) { R += r; T += t; n++ } }
  END { if (n) printf "rounds 2..%d: mean round %.3fs, mean slowest training %.3fs, overhead %.1f%% of the round\n",
                    n + 1, R / n, T / n, 100 * (R - T) / R }' "$run/metrics.jsonl"
echo "run folder: $run"
