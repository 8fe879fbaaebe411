#!/usr/bin/env bash
# The hostile runs of issue 8 against the real binaries on 127.0.0.1: a baseline job (3 honest
# workers, 4 rounds), then the same job under each attack from tests/bench/hostile_peer.cpp:
#   garbage      frames that are no message, undecodable headers, updates from unregistered keys
#   replay       a worker's registration, dated an hour ago, replayed from 202 other connections
#   junk         a registered worker answering each task with 20 refused updates + 20 naming others
#   long-layout  the same with signed updates whose layout holds 4,000 long tensor names
#   sybil        300 fresh keys registering from one address after round 1
# Every connection is CurveZMQ, as a job has it by default; the hostile peer completes the
# handshake with keys of its own (enrolment is open), so its traffic reaches the round engine.
# Each case passes when every honest round completed with the 3 honest updates accepted, the
# attack was refused, and the honest accounts on the ledger (`fl-ledger accounts`: rejections,
# rounds contributed) equal the baseline's; an attacker's own signed junk is on the ledger at
# most 3 times a round. Prints one line per case and exits non-zero if any case failed.
#   deploy/hostile.sh            # build dir: build/ or $FL_BUILD_DIR; keeps its folder on failure
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir=${FL_BUILD_DIR:-build}
cmake --build "$build_dir" --target fl-coordinator fl-worker fl-ledger hostile_peer -j "${FL_JOBS:-2}" >/dev/null || exit 1
bin=$(cd "$build_dir/bin" && pwd)
work=$(mktemp -d /tmp/fl-hostile.XXXXXX)
pids=()
# hostile_peer prints its tally on SIGTERM; the rest is killed.
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

for k in 0 1 2; do "$bin/fl-worker" keygen --out "$work/keys/w$k.key" >/dev/null; done
# Every connection is CurveZMQ (the default): workers and the hostile peer pin this key.
"$bin/fl-worker" keygen --out "$work/keys/coordinator.key" >/dev/null
coordinator_pub=$work/keys/coordinator.key.pub

write_job() {  # DIR MIN_WORKERS
  mkdir -p "$1"
  cat >"$1/job.toml" <<TOML
[job]
id = "hostile"
rounds = 4
seed = 7
[data]
eval_limit = 1000
[training]
batch_size = 32
[round]
min_workers = $2
soft_deadline_s = 10
deadline_s = 60
registration_wait_s = 60
[enrolment]
open = true
max_new_per_source_per_minute = 20
[network]
bind = "tcp://127.0.0.1:0"
[output]
dir = "$1/run"
coordinator_key = "$work/keys/coordinator.key"
live_table = false
TOML
}

# Honest accounts as the ledger has them: key, rejections, rounds contributed.
honest_accounts() {
  "$bin/fl-ledger" accounts --db "$1/run/ledger.db" --json |
    jq -S --argjson keys "$(honest_keys)" '[.[] | select(.account as $a | $keys | index($a)) |
        {account, rejections, rounds_contributed}] | sort_by(.account)'
}
honest_keys() {
  for k in 0 1 2; do sed -n 's/^public //p' "$work/keys/w$k.key.pub"; done | jq -R . | jq -s -c .
}

failures=0
run_case() {  # NAME MIN_WORKERS ATTACK-AFTER-ROUND [hostile_peer ARGS with @ for the endpoint]
  local name=$1 min=$2 after=$3
  shift 3
  local dir=$work/$name
  write_job "$dir" "$min"
  "$bin/fl-coordinator" run --config "$dir/job.toml" >"$dir/coordinator.out" 2>&1 &
  local coordinator=$!
  pids+=("$coordinator")
  for _ in $(seq 600); do [[ -s $dir/run/endpoint ]] && break; sleep 0.1; done
  local endpoint
  endpoint=$(cat "$dir/run/endpoint")
  local attack=()
  for a in "$@"; do attack+=("${a//@/$endpoint}"); done
  ((${#attack[@]} > 0)) && attack+=(--curve "$coordinator_pub")
  if [[ ${#attack[@]} -gt 0 && $after == 0 ]]; then
    "$bin/hostile_peer" "${attack[@]}" >"$dir/attack.out" 2>&1 &
    pids+=("$!")
  fi
  for k in 0 1 2; do
    "$bin/fl-worker" run --coordinator "$endpoint" --coordinator-key "$coordinator_pub" \
      --key "$work/keys/w$k.key" --partition "$k/3" \
      --max-samples "${WORKER_SAMPLES:-600}" --heartbeat 0.5 >"$dir/worker$k.out" 2>&1 &
    pids+=("$!")
  done
  if [[ ${#attack[@]} -gt 0 && $after != 0 ]]; then
    for _ in $(seq 1200); do [[ $(wc -l <"$dir/run/metrics.jsonl" 2>/dev/null || echo 0) -ge $after ]] && break; sleep 0.1; done
    "$bin/hostile_peer" "${attack[@]}" >"$dir/attack.out" 2>&1 &
    pids+=("$!")
  fi
  local code=124
  for _ in $(seq 2400); do
    if ! kill -0 "$coordinator" 2>/dev/null; then wait "$coordinator"; code=$?; break; fi
    sleep 0.1
  done
  sleep 1
  local rounds accepted slowest reasons
  rounds=$(wc -l <"$dir/run/metrics.jsonl" 2>/dev/null || echo 0)
  accepted=$(jq -s '[.[].accepted] | min' "$dir/run/metrics.jsonl" 2>/dev/null)
  slowest=$(jq -s '[.[].round_seconds] | max' "$dir/run/metrics.jsonl" 2>/dev/null)
  reasons=$(jq -r -s '[.[].close_reason] | unique | join("; ")' "$dir/run/metrics.jsonl" 2>/dev/null)
  junk=$(jq -s '[.[] | .undecodable + .unregistered + .bad_signature + .unsampled + .over_rejection_cap +
                 .rate_limited + .registrations_refused] | add' "$dir/run/metrics.jsonl" 2>/dev/null)
  honest_accounts "$dir" >"$dir/accounts.json" 2>/dev/null
  local verdict=pass why=""
  [[ $code == 0 && $rounds == 4 && $accepted == 3 ]] || { verdict=FAIL; why+=" honest rounds did not complete (exit $code, $rounds rounds, min accepted $accepted);"; }
  if [[ $name != baseline ]]; then
    cmp -s "$dir/accounts.json" "$work/baseline/accounts.json" || { verdict=FAIL; why+=" honest accounts differ from the baseline;"; }
    # Accounts that are not honest: at most 3 rejections a round, nothing contributed.
    local others
    others=$("$bin/fl-ledger" accounts --db "$dir/run/ledger.db" --json |
      jq --argjson keys "$(honest_keys)" '[.[] | select(.account as $a | ($keys | index($a)) | not) |
          select(.rejections > 12 or .rounds_contributed > 0)] | length')
    [[ $others == 0 ]] || { verdict=FAIL; why+=" $others attacker account(s) over the rejection cap or paid;"; }
  fi
  cleanup
  pids=()
  case $name in
    replay) grep -q "accepted 0," "$dir/attack.out" || { verdict=FAIL; why+=" replayed registrations were accepted ($(cat "$dir/attack.out"));"; } ;;
    sybil) awk '{gsub(",","",$6); exit !($6 <= 20)}' "$dir/attack.out" || { verdict=FAIL; why+=" more sybils than the limit got in;"; }
      [[ $junk -ge 200 ]] || { verdict=FAIL; why+=" the sybils arrived too late to be refused (only $junk refusals);"; } ;;
  esac
  printf '%-12s %s: %s rounds, min accepted %s, slowest round %s s, closed: %s; refused without a ledger entry: %s; attack: %s%s\n' \
    "$name" "$verdict" "$rounds" "$accepted" "$slowest" "$reasons" "$junk" \
    "$(cat "$dir/attack.out" 2>/dev/null || echo none)" "${why:+ —$why}"
  [[ $verdict == pass ]] || failures=$((failures + 1))
}

run_case baseline 3 0
run_case garbage 3 0 garbage @ 20
run_case replay 3 1 replay @ "$work/keys/w0.key" 202
run_case junk 4 0 junk @ 60
run_case long-layout 4 0 long-layout @ 60
# Whole shares: rounds of a second or more, so the sybils arrive while the job runs.
WORKER_SAMPLES=0 run_case sybil 3 1 sybil @ 300 30
echo "folder: $work"
if [[ $failures == 0 ]]; then rm -rf "$work"; echo "all cases passed"; else echo "$failures case(s) failed"; exit 1; fi
