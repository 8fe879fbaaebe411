#!/usr/bin/env bash
# Accuracy against epsilon with client-level DP (docs/privacy.md): for each epsilon the noise
# multiplier that spends exactly it over the sweep's rounds (found with `fl-coordinator
# dp-epsilon`), one `fl-coordinator simulate` run of deploy/configs/privacy.toml with it, and one
# run without DP (epsilon = inf). Prints a Markdown table and the seconds each run took.
#   deploy/privacy.sh                      # uses build/bin/fl-coordinator
# Environment: FL_COORDINATOR (binary), FL_EPSILONS (default "1 3 8"), FL_OUT (runs/privacy),
#   FL_CLIP (the clip norm C, default the config's), FL_MODE (central, the default, or
#   distributed: each of the 20 workers adds its share N(0, sigma^2 C^2 / 20)).
set -euo pipefail
cd "$(dirname "$0")/.."
coordinator=${FL_COORDINATOR:-build/bin/fl-coordinator}
epsilons=${FL_EPSILONS:-1 3 8}
out=${FL_OUT:-runs/privacy}
config=deploy/configs/privacy.toml
rounds=$(sed -n 's/^rounds *= *\([0-9]*\).*/\1/p' "$config" | head -1)
q=$(sed -n 's/^sample_fraction *= *\([0-9.]*\).*/\1/p' "$config" | head -1)
workers=$(sed -n 's/^workers *= *\([0-9]*\).*/\1/p' "$config" | head -1)
mkdir -p "$out"

# The smallest sigma whose epsilon over `rounds` rounds at q is at most $1 (bisection).
sigma_for() {
  python3 - "$coordinator" "$q" "$rounds" "$1" <<'PY'
import json, subprocess, sys
binary, q, rounds, target = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def eps(sigma):
    out = subprocess.run([binary, "dp-epsilon", "--q", q, "--sigma", repr(sigma), "--rounds",
                          rounds, "--delta", "1e-5", "--json"], check=True, capture_output=True)
    return json.loads(out.stdout)["epsilon"]
lo, hi = 0.3, 100.0
for _ in range(40):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if eps(mid) > target else (lo, mid)
print(f"{hi:.4f}")
PY
}

run() {  # run NAME EPSILON SIGMA MODE
  local cfg="$out/$1.toml"
  sed -e "s/^noise_multiplier = .*/noise_multiplier = $3/" -e "s/^target_epsilon = .*/target_epsilon = $2/" \
      -e "s/^mode = .*/mode = \"$4\"/" -e "s/^clip_norm = .*/clip_norm = ${FL_CLIP:-1.0}/" -e "s|^output_dir = .*|output_dir = \"$1\"|" "$config" > "$cfg"
  if [[ $4 == none ]]; then sed -i '/^clip_norm\|^noise_multiplier\|^target_/d' "$cfg"; fi
  if [[ $4 == distributed ]]; then sed -i "s/^\[privacy\]/[privacy]\nmin_workers = $workers/" "$cfg"; fi
  local start=$SECONDS
  "$coordinator" simulate --config "$cfg" --out "$out/$1" --no-progress >/dev/null
  local seconds=$((SECONDS - start))
  local acc=$(tail -n 1 "$out/$1/summary.csv" | cut -d, -f8)
  local per_round=$(awk -F, 'NR > 1 { s += $15; n++ } END { printf "%.2f", s / n }' "$out/$1/rounds.csv")
  printf '| %s | %s | %s | %s | %s |\n' "$2" "$3" "$acc" "$per_round" "$seconds"
}

echo "| epsilon | sigma | final accuracy | seconds per round | run seconds |"
echo "|---|---|---|---|---|"
for e in $epsilons; do run "eps-$e" "$e" "$(sigma_for "$e")" "${FL_MODE:-central}"; done
run "eps-inf" "inf" "0" none
