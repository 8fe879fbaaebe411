#!/usr/bin/env bash
# The FedLedger demo: installs what is missing, builds, and runs a real federation on loopback —
# one fl-coordinator and 8 fl-worker processes training on Fashion-MNIST, a ledger recording
# every round — then prints the reward table and the ledger's verification.
#
# Usage: deploy/demo.sh [--workers N] [--rounds R] [--model mlp|cnn] [--partitioner P] [--run-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workers=8 rounds=8 model=mlp partitioner="dirichlet:1.0" run_dir=""
while (($#)); do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --partitioner) partitioner=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

deploy/install-deps.sh
echo "== building (Release)"
deploy/build.sh
bin=$root/${FL_BUILD_DIR:-build}/bin

run_dir=${run_dir:-$root/runs/demo-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$run_dir/keys" "$run_dir/logs"
run_dir=$(cd "$run_dir" && pwd)
echo "== run folder: $run_dir"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Each device owner makes a key; the researcher allows exactly those keys.
allow=""
for ((k = 0; k < workers; k++)); do
  # keygen never replaces a key (its identity); a reused run folder keeps its workers' keys.
  [[ -f "$run_dir/keys/worker-$k.key" ]] || "$bin/fl-worker" keygen --out "$run_dir/keys/worker-$k.key" >/dev/null
  allow+="\"keys/worker-$k.key.pub\", "
done

cat >"$run_dir/job.toml" <<TOML
# Written by deploy/demo.sh. Relative paths are relative to this run folder.
[job]
id = "fashion-mnist-demo"
model = "$model"
rounds = $rounds
seed = 42

[data]
dir = "/usr/share/datasets/fashion-mnist"

[training]
epochs = 1
batch_size = 32
learning_rate = 0.05
momentum = 0.5

[round]
sample_fraction = 1.0
min_workers = $workers
quorum_fraction = 0.75
soft_deadline_s = 60
deadline_s = 180
registration_wait_s = 120

[aggregation]
rule = "median"  # the default: robust to any minority of arbitrary updates

[enrolment]
allow_files = [${allow%, }]

[network]
bind = "tcp://127.0.0.1:0"

[http]
listen = "127.0.0.1:0"  # a free port, written to ./http; the dashboard and /metrics

[ledger]
reward_per_round = 1000

[terms]
purpose = "FedLedger demo: a Fashion-MNIST clothing classifier trained on loopback"

[output]
dir = "."
TOML

cd "$run_dir"
start=$(date +%s)
"$bin/fl-coordinator" run --config job.toml 2>logs/coordinator.err &
pids+=($!)
coordinator=$!
for _ in $(seq 1 100); do [[ -s endpoint ]] && break; sleep 0.1; done
[[ -s endpoint ]] || { echo "coordinator did not start:"; cat logs/coordinator.err; exit 1; }
endpoint=$(cat endpoint)
# The researcher's signed job card: the endpoint, the job and the coordinator key workers pin
# (CURVE: connections are encrypted and the coordinator must prove that key).
"$bin/fl-coordinator" job-card --config job.toml --endpoint "$endpoint" --out job.card
for _ in $(seq 1 50); do [[ -s http ]] && break; sleep 0.1; done
[[ -s http ]] && echo "== dashboard: $(cat http)   (Prometheus metrics: $(cat http)metrics)"
policy=$root/deploy/configs/worker-policy.toml
echo "== the job's terms, as a worker sees them before it joins (fl-worker check --policy $policy)"
"$bin/fl-worker" check --job-card job.card --key keys/worker-0.key --policy "$policy" 2>>logs/check.err | sed 's/^/   /' || true
echo "== coordinator on $endpoint; starting $workers workers ($partitioner split of the training set)"
for ((k = 0; k < workers; k++)); do
  "$bin/fl-worker" run --job-card job.card --key "keys/worker-$k.key" --policy "$policy" \
    --partition "$k/$workers" --partitioner "$partitioner" --partition-seed 42 --threads 1 \
    --receipts "logs/worker-$k.receipts.jsonl" >"logs/worker-$k.log" 2>&1 &
  pids+=($!)
done

if ! wait "$coordinator"; then
  echo "coordinator failed:"; tail -20 logs/coordinator.err; exit 1
fi
elapsed=$(($(date +%s) - start))

echo
echo "== rewards (from the ledger)"
"$bin/fl-ledger" accounts --db ledger.db
echo
echo "== ledger verification"
"$bin/fl-ledger" verify --db ledger.db
echo
echo "== audit: every round re-run from the updates it names (the coordinator's store/)"
"$bin/fl-ledger" audit fashion-mnist-demo --db ledger.db --store store | tail -3
echo
final=$(tail -1 metrics.jsonl)
acc=$(sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' <<<"$final")
printf "== done in %ss: final test accuracy %.2f%% on 9,000 Fashion-MNIST test examples (the other 1,000 are the scorer's validation set)\n" "$elapsed" "$(awk "BEGIN{print 100*$acc}")"
echo "   run folder: $run_dir (job.toml, job.card, keys/, checkpoints/, global.flm, metrics.csv/.jsonl, ledger.db, logs/)"
echo "   trace the final model: $bin/fl-ledger trace global.flm --db $run_dir/ledger.db"
echo "   the job's terms and every worker's consent: $bin/fl-ledger terms fashion-mnist-demo --db $run_dir/ledger.db"
echo "   browse the ledger now the job is over: $bin/fl-ledger serve --db $run_dir/ledger.db --listen 127.0.0.1:8080"
