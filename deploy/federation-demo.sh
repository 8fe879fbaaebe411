#!/usr/bin/env bash
# The multi-coordinator demo: installs what is missing, builds, starts a 3-member etcd cluster
# and 3 coordinators for one job on loopback (each with its own key; the three found the chain
# as one consortium: members, witnesses and minters, quorum 2), one owns the job, two stand by,
# and 4 workers that know all three and their keys. Mid-job it kills the job's owner (a standby takes the job over and the
# workers follow it), later the etcd leader (a new one is elected; the member comes back).
# Meanwhile the members serve their update stores to each other over CURVE and the consortium's
# 3 witnesses audit, cosign and publish the head in etcd, so the workers' tasks carry the final
# checkpoint. It ends by printing every replica's height and head hash, `fl-ledger verify` and
# `fl-ledger audit` on each (updates fetched from the other members), the checkpoint each worker
# kept (and how many of its receipts became final under it), the checkpoint the witnesses
# cosigned last (final: a quorum of them), and who proposed each block.
#
# Usage: deploy/federation-demo.sh [--rounds R] [--workers N] [--run-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

rounds=6 workers=4 run_dir=""
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "federation-demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
((rounds >= 4)) || { echo "federation-demo.sh: --rounds must be at least 4" >&2; exit 2; }

deploy/install-deps.sh
echo "== building (Release)"
deploy/build.sh
bin=$root/${FL_BUILD_DIR:-build}/bin

run_dir=${run_dir:-$root/runs/federation-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
cd "$run_dir"
rm -rf etcd c0 c1 c2 witness-* stranger-store consortium.db logs/stop-witnesses final-checkpoint.json ./*.log
mkdir -p keys logs
echo "== run folder: $run_dir"

pids=()
etcd_pids=()
cleanup() {
  for p in "${pids[@]}" "${etcd_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Free loopback ports: 6 for etcd (client, peer), 3 for the coordinators, 3 for their store servers.
ports=()
port=$((20000 + RANDOM % 20000))
while ((${#ports[@]} < 12)); do
  if ! ss -Htln "sport = :$port" | grep -q .; then ports+=("$port"); fi
  port=$((port + 1))
done

echo "== etcd: 3 members on loopback"
initial="" clients=""
for i in 0 1 2; do
  initial+="${initial:+,}m$i=http://127.0.0.1:${ports[2 * i + 1]}"
  clients+="${clients:+,}http://127.0.0.1:${ports[2 * i]}"
done
start_member() {  # start_member I new|existing
  local i=$1
  etcd --name "m$i" --data-dir "etcd/m$i" \
    --listen-client-urls "http://127.0.0.1:${ports[2 * i]}" --advertise-client-urls "http://127.0.0.1:${ports[2 * i]}" \
    --listen-peer-urls "http://127.0.0.1:${ports[2 * i + 1]}" --initial-advertise-peer-urls "http://127.0.0.1:${ports[2 * i + 1]}" \
    --initial-cluster "$initial" --initial-cluster-state "$2" --initial-cluster-token fl-demo \
    --heartbeat-interval 50 --election-timeout 500 --log-level warn >>"logs/etcd-m$i.log" 2>&1 &
  etcd_pids[i]=$!
}
for i in 0 1 2; do start_member "$i" new; done
for _ in $(seq 1 100); do
  ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint health 2>&1 | sed 's/^/   /'

# Each member its own key; the three found the chain as one consortium (each a member, a
# witness and a minter; quorum 2). One researcher.
members=""
for c in 0 1 2; do
  "$bin/fl-worker" keygen --out "keys/c$c.key" >/dev/null
  members+="${members:+, }\"$run_dir/keys/c$c.key.pub\""
done
cat >consortium.toml <<TOML
# Written by deploy/federation-demo.sh: the federation's members (fl-ledger consortium show).
members = [$members]
witnesses = [$members]
quorum = 2
minters = [$members]
TOML
"$bin/fl-worker" keygen --out keys/researcher.key >/dev/null
allow=""
for ((k = 0; k < workers; k++)); do
  "$bin/fl-worker" keygen --out "keys/worker-$k.key" >/dev/null
  allow+="\"$run_dir/keys/worker-$k.key.pub\", "
done
endpoints=""
for c in 0 1 2; do endpoints+="${endpoints:+,}tcp://127.0.0.1:${ports[6 + c]}"; done

for c in 0 1 2; do
  mkdir -p "c$c"
  cat >"c$c.toml" <<TOML
# Written by deploy/federation-demo.sh: coordinator $c of 3 for one job.
[job]
id = "federation-demo"
model = "mlp"
rounds = $rounds
seed = 42
[data]
dir = "/usr/share/datasets/fashion-mnist"
eval_limit = 3000
[training]
epochs = 1
batch_size = 32
learning_rate = 0.05
[round]
min_workers = $workers
quorum_fraction = 0.75
soft_deadline_s = 30
deadline_s = 90
registration_wait_s = 120
[enrolment]
allow_files = [${allow%, }]
[network]
bind = "tcp://127.0.0.1:${ports[6 + c]}"
[ledger]
reward_per_round = 1000
etcd = "$clients"
lease_ttl_s = 3
consortium = "$run_dir/consortium.toml"
[terms]
purpose = "FedLedger federation demo: one job, three coordinators, one replicated ledger"
coordinators = [$members]
[output]
dir = "$run_dir/c$c"
live_table = false
coordinator_key = "$run_dir/keys/c$c.key"
researcher_key = "$run_dir/keys/researcher.key"
TOML
done

echo "== coordinators: c0 owns the job, c1 and c2 stand by (each with its own replica of the chain)"
"$bin/fl-coordinator" run --config c0.toml 2>logs/c0.log &
pids+=($!)
owner_pid=$!
for _ in $(seq 1 300); do [[ -s c0/endpoint ]] && break; sleep 0.1; done
[[ -s c0/endpoint ]] || { echo "c0 did not start:"; tail -20 logs/c0.log; exit 1; }
declare -A coordinator_pid
coordinator_pid[0]=$owner_pid
for c in 1 2; do
  "$bin/fl-coordinator" run --config "c$c.toml" 2>"logs/c$c.log" &
  pids+=($!)
  coordinator_pid[$c]=$!
done
"$bin/fl-coordinator" job-card --config c0.toml --endpoint "$(cat c0/endpoint)" --out job.card

# Each member serves its update store over CURVE to the consortium's keys (fl-ledger store
# serve, its own process, so it outlives a killed coordinator); an auditor fetches what its
# store lacks from the others, pinning each member's key, and checks every entry.
echo "== each member serves its update store to the consortium (fl-ledger store serve, CURVE)"
"$bin/fl-ledger" replicate --etcd "$clients" --db consortium.db >/dev/null  # who may fetch
peers_of() {  # the other members' store servers, ENDPOINT@KEY
  local list="" o
  for o in 0 1 2; do
    ((o == $1)) || list+="${list:+,}tcp://127.0.0.1:${ports[9 + o]}@keys/c$o.key.pub"
  done
  echo "$list"
}
for c in 0 1 2; do
  mkdir -p "c$c/store"
  "$bin/fl-ledger" store serve --store "c$c/store" --key "keys/c$c.key" --db consortium.db \
    --listen "tcp://127.0.0.1:${ports[9 + c]}" >"logs/store-c$c.log" 2>&1 &
  pids+=($!)
done
for c in 0 1 2; do
  for _ in $(seq 1 100); do grep -q "^serving" "logs/store-c$c.log" && break; sleep 0.1; done
  echo "   c$c: $(head -1 "logs/store-c$c.log")"
done

# The consortium's 3 witnesses (the members' keys) run while the job does: each syncs a replica,
# audits every round (fetching updates from the members' stores), cosigns the head and publishes
# the cosignature in etcd, where the job's owner picks up the final checkpoint for its workers.
echo "== 3 witnesses audit and cosign the chain every few seconds and publish beside it in etcd"
for w in 0 1 2; do "$bin/fl-ledger" witness init --key "keys/c$w.key" --state "witness-$w" >/dev/null; done
witness_round() {  # witness_round W [--publish]: one audited cosign of the head by witness W
  "$bin/fl-ledger" replicate --etcd "$clients" --db "witness-$1.db" >/dev/null 2>&1 &&
    "$bin/fl-ledger" witness cosign --db "witness-$1.db" --key "keys/c$1.key" --state "witness-$1" \
      --audit "c$1/store" --fetch "$(peers_of "$1")" --publish "$clients" "${@:2}"
}
(while [[ ! -e logs/stop-witnesses ]]; do
  for w in 0 1 2; do witness_round "$w" >>"logs/witness-loop-$w.log" 2>&1 || true; done
  sleep 2
done) &
witness_loop=$!
pids+=($witness_loop)

member_keys="keys/c0.key.pub,keys/c1.key.pub,keys/c2.key.pub"
echo "== $workers workers; each knows the three coordinators and their keys: $endpoints"
for ((k = 0; k < workers; k++)); do
  "$bin/fl-worker" run --job-card job.card --coordinator "$endpoints" --coordinator-key "$member_keys" --key "keys/worker-$k.key" \
    --partition "$k/$workers" --partitioner dirichlet:1.0 --partition-seed 42 --threads 1 \
    --receipts "logs/worker-$k.receipts.jsonl" --witness "$member_keys" --witness-quorum 2 \
    >"logs/worker-$k.log" 2>&1 &
  pids+=($!)
done

rows() { [[ -f "$1/metrics.jsonl" ]] && wc -l <"$1/metrics.jsonl" || echo 0; }
wait_rows() {  # wait_rows DIR N: until DIR has recorded N rounds
  for _ in $(seq 1 1800); do (($(rows "$1") >= $2)) && return 0; sleep 0.1; done
  echo "timed out waiting for round $2 in $1"; return 1
}
wait_rows c0 2
echo "== round 2 recorded by c0; killing the job's owner c0 (SIGKILL)"
kill -9 "$owner_pid"
wait "$owner_pid" 2>/dev/null || true
killed=$(date +%s.%N)
new_owner=""
for _ in $(seq 1 300); do
  for c in 1 2; do [[ -s c$c/endpoint ]] && new_owner=$c; done
  [[ -n $new_owner ]] && break
  sleep 0.1
done
[[ -n $new_owner ]] || { echo "no standby took the job over"; tail -5 logs/c1.log logs/c2.log; exit 1; }
takeover=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $killed}")
echo "   c$new_owner took the job over ${takeover} s after the kill (lease TTL 3 s); $(grep -h 'taking over job' "logs/c$new_owner.log" | sed 's/.*taking over/taking over/')"

wait_rows "c$new_owner" 1
# `endpoint status` prints "URL, ID, VERSION, SIZE, IS_LEADER, ...", one member per line.
leader_url=$(ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint status 2>/dev/null |
  awk -F', ' '$5 == "true" {print $1}' | head -1)
leader=0
for i in 0 1 2; do [[ $leader_url == "http://127.0.0.1:${ports[2 * i]}" ]] && leader=$i; done
echo "== killing the etcd leader m$leader (SIGKILL); the other two elect a new one"
kill -9 "${etcd_pids[leader]}"
wait "${etcd_pids[leader]}" 2>/dev/null || true
wait_rows "c$new_owner" 2
echo "   round recorded without m$leader; starting m$leader again"
start_member "$leader" existing

if ! wait "${coordinator_pid[$new_owner]}"; then
  echo "c$new_owner failed:"; tail -20 "logs/c$new_owner.log"; exit 1
fi
other=$((3 - new_owner))
# The last standby takes the finished job's lease, finds every round recorded and ends.
for _ in $(seq 1 200); do kill -0 "${coordinator_pid[$other]}" 2>/dev/null || break; sleep 0.1; done
kill "${coordinator_pid[$other]}" 2>/dev/null || true

echo
echo "== every replica against etcd (fl-ledger replicate: height, head hash, full verification)"
for c in 0 1 2; do
  echo "   c$c:"
  "$bin/fl-ledger" replicate --etcd "$clients" --db "c$c/ledger.db" 2>&1 | sed 's/^/     /' || true
done
for c in 0 1 2; do
  printf "   c%s verify: " "$c"
  "$bin/fl-ledger" verify --db "c$c/ledger.db" 2>&1 | tail -1
done

echo
echo "== fl-ledger audit: every round re-run from the updates it names, fetched from the other members"
for c in 0 1 2; do
  echo "   replica c$c (its own store, the rest fetched):"
  "$bin/fl-ledger" audit federation-demo --db "c$c/ledger.db" --store "c$c/store" \
    --fetch "$(peers_of "$c")" --key "keys/c$c.key" 2>&1 | sed 's/^/     /' | tail -$((rounds + 2))
done
printf "   a key outside the consortium asking c0's store: "
"$bin/fl-worker" keygen --out keys/stranger.key >/dev/null
stranger=$("$bin/fl-ledger" audit federation-demo --db c0/ledger.db --store stranger-store --round 1 \
  --fetch "tcp://127.0.0.1:${ports[9]}@keys/c0.key.pub" --key keys/stranger.key 2>&1 || true)
grep -m1 -oE "did not answer within [0-9]+ ms.*" <<<"$stranger" || echo "answered (this should not happen)"
echo
touch logs/stop-witnesses  # the loop ends after its current pass
wait "$witness_loop" 2>/dev/null || true
echo "== the workers kept the highest final checkpoint their tasks carried (--witness, quorum 2)"
for ((k = 0; k < workers; k++)); do
  f="logs/worker-$k.receipts.jsonl.checkpoint.json"
  if [[ -s $f ]]; then
    echo "   worker $k: height $(tr -d '\n ' <"$f" | sed -E 's/.*"height":([0-9]+).*/\1/'), $(grep -c '"witness"' "$f") cosignatures;" \
      "receipts final: $(grep -c . "logs/worker-$k.receipts.jsonl.final" 2>/dev/null || echo 0) of $(grep -c . "logs/worker-$k.receipts.jsonl")"
  else
    echo "   worker $k: none yet (the witnesses had not cosigned before its last task)"
  fi
done
echo
echo "== the consortium's 3 witnesses (the members' keys) audit every round, then cosign the last head"
for w in 0 1 2; do
  witness_round "$w" --out "witness-$w/checkpoint.json" >"logs/witness-$w.log" 2>&1 || {
    echo "   witness c$w refused:"; cat "logs/witness-$w.log"; exit 1; }
  echo "   witness c$w: $(tr -d '\n ' <"witness-$w/checkpoint.json" | sed -E 's/.*"height":([0-9]+),"head_hash":"([0-9a-f]{16}).*/height \1, head \2.../')"
done
"$bin/fl-ledger" checkpoint combine witness-0/checkpoint.json witness-1/checkpoint.json witness-2/checkpoint.json \
  --out final-checkpoint.json | sed 's/^/   /'
printf "   "
"$bin/fl-ledger" checkpoint verify final-checkpoint.json --db "c$new_owner/ledger.db" 2>&1 | tail -1
echo
echo "== the consortium (genesis) and who proposed each block"
"$bin/fl-ledger" verify --db "c$new_owner/ledger.db" --consortium consortium.toml 2>&1 | grep -E "^(ok|consortium|FAILED)" | sed 's/^/   /'
"$bin/fl-ledger" blocks --db "c$new_owner/ledger.db" | sed 's/^/   /'
echo
echo "== done: the job ran on c0 until it was killed and finished on c$new_owner (takeover ${takeover} s)"
echo "   run folder: $run_dir (c0/ c1/ c2/: replicas, stores and metrics; logs/; witness-*/)"
