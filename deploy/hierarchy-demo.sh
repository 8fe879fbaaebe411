#!/usr/bin/env bash
# The two-level demo: installs what is missing, builds, then runs one job twice on loopback with
# the same workers, data shares and seeds:
#   flat:      the job's owner and 4 workers;
#   two-level: the owner, 2 edge coordinators (fl-coordinator edge), 2 workers behind each.
# Both use fedavg at every level, which composes: the accuracy per round should match (the norm
# bound is loosened to 3x the median so that it does not bite at either level). It prints
# the accuracy and round time of each run side by side, what each edge combined, the ledger's
# verdict, and a worker's receipts checked through its edge (fl-ledger verify-proof).
#
# Usage: deploy/hierarchy-demo.sh [--rounds R] [--run-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

rounds=5 run_dir=""
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "hierarchy-demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

deploy/install-deps.sh
echo "== building (Release)"
deploy/build.sh
bin=$root/${FL_BUILD_DIR:-build}/bin

run_dir=${run_dir:-$root/runs/hierarchy-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
cd "$run_dir"
rm -rf flat two-level keys
mkdir -p keys
echo "== run folder: $run_dir"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

for k in owner edge0 edge1 w0 w1 w2 w3; do "$bin/fl-worker" keygen --out "keys/$k.key" >/dev/null; done
pub() { awk '/^public/{print $2}' "keys/$1.key.pub"; }

# The owner's job; $1: folder, $2: min_workers, $3: extra TOML.
owner_config() {
  cat <<EOF
[job]
id = "two-level"
model = "mlp"
rounds = $rounds
seed = 7
[data]
eval_limit = 2000
[training]
epochs = 1
batch_size = 32
learning_rate = 0.05
[round]
min_workers = $2
soft_deadline_s = 60
deadline_s = 120
[aggregation]
rule = "fedavg"
norm_bound_multiple = 3  # loose: the composition is exact only where no bound bites
[enrolment]
open = true
[network]
bind = "tcp://127.0.0.1:0"
[output]
dir = "$run_dir/$1/run"
live_table = false
coordinator_key = "$run_dir/keys/owner.key"
$3
EOF
}

wait_for_file() {
  for _ in $(seq 1 300); do [[ -s $1 ]] && return 0; sleep 0.1; done
  echo "hierarchy-demo.sh: $1 did not appear" >&2
  exit 1
}

# $1: folder, $2: worker index, $3: endpoint, $4: the pinned key's name.
start_worker() {
  "$bin/fl-worker" run --key "keys/w$2.key" --partition "$2/4" --max-samples 600 --heartbeat 0.5 \
    --receipts "$1/w$2.receipts" --coordinator "$3" --coordinator-key "$(pub "$4")" >"$1/w$2.log" 2>&1 &
  pids+=($!)
}

echo "== flat: the owner and 4 workers"
mkdir -p flat
owner_config flat 4 "" >flat/job.toml
"$bin/fl-coordinator" run --config flat/job.toml >flat/owner.log 2>&1 &
owner=$!
pids+=($owner)
wait_for_file flat/run/endpoint
for k in 0 1 2 3; do start_worker flat "$k" "$(cat flat/run/endpoint)" owner; done
wait "$owner"

echo "== two-level: the owner, 2 edges, 2 workers behind each"
mkdir -p two-level/edge0 two-level/edge1
owner_config two-level 2 "[terms]
coordinators = [\"$(pub edge0)\", \"$(pub edge1)\"]" >two-level/job.toml
"$bin/fl-coordinator" run --config two-level/job.toml >two-level/owner.log 2>&1 &
owner=$!
pids+=($owner)
wait_for_file two-level/run/endpoint
for e in 0 1; do
  cat >"two-level/edge$e.toml" <<EOF
[edge]
parent = "$(cat two-level/run/endpoint)"
parent_key = "$(pub owner)"
heartbeat_s = 0.5
[round]
min_workers = 2
[aggregation]
rule = "fedavg"
norm_bound_multiple = 3  # loose: the composition is exact only where no bound bites
[enrolment]
open = true
[network]
bind = "tcp://127.0.0.1:0"
[output]
dir = "$run_dir/two-level/edge$e"
coordinator_key = "$run_dir/keys/edge$e.key"
EOF
  "$bin/fl-coordinator" edge --config "two-level/edge$e.toml" >"two-level/edge$e.log" 2>&1 &
  pids+=($!)
done
for e in 0 1; do
  wait_for_file "two-level/edge$e/endpoint"
  for i in 0 1; do start_worker two-level $((e * 2 + i)) "$(cat "two-level/edge$e/endpoint")" "edge$e"; done
done
wait "$owner"
sleep 1  # the edges pass the last receipts on

echo
echo "== test accuracy and round time per round"
python3 - "$run_dir" <<'EOF'
import json, sys
def rows(path):
    return [json.loads(l) for l in open(path) if l.strip()]
flat = rows(f"{sys.argv[1]}/flat/run/metrics.jsonl")
two = rows(f"{sys.argv[1]}/two-level/run/metrics.jsonl")
print(f"{'round':>5}  {'flat acc':>8}  {'2-level acc':>11}  {'flat s':>6}  {'2-level s':>9}  inputs")
for a, b in zip(flat, two):
    print(f"{a['round']:>5}  {a['test_accuracy']:>8.4f}  {b['test_accuracy']:>11.4f}  "
          f"{a['round_seconds']:>6.2f}  {b['round_seconds']:>9.2f}  {a['accepted']} workers / {b['accepted']} edges")
EOF
echo
for e in 0 1; do
  echo "== edge $e ($(pub edge$e | cut -c1-16)): what it combined each round"
  python3 -c "
import json,sys
for l in open('two-level/edge$e/edge_rounds.jsonl'):
    r=json.loads(l); print(f\"  round {r['round']}: {r['accepted']} updates, {r['samples']} samples, partial result {r['update'][:16]}, inputs root {r['inputs_root'][:16]}, {r['seconds']:.2f} s\")"
done
echo
echo "== fl-ledger verify (the owner's ledger)"
"$bin/fl-ledger" verify --db two-level/run/ledger.db
echo
echo "== fl-ledger accounts: the owner pays the edges"
"$bin/fl-ledger" accounts --db two-level/run/ledger.db
echo
echo "== fl-ledger verify-proof two-level/w0.receipts: worker 0's update, through edge 0, to the owner's blocks"
"$bin/fl-ledger" verify-proof two-level/w0.receipts
