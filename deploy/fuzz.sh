#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (AddressSanitizer + UBSan) and runs them.
#
#   deploy/fuzz.sh                       every harness for 300 s, one after another
#   deploy/fuzz.sh -t 60 -j 2 wire npy   chosen harnesses, 60 s each, two at a time
#   deploy/fuzz.sh --merge               also add inputs that reach new code to the checked-in corpus
#   deploy/fuzz.sh --regression          what deploy/test.sh runs: each harness replays its corpus,
#                                        then mutates it for a few seconds; fails on any finding
#
# A finding (crash, UB, leak, timeout, out-of-memory) is minimised and saved as
# tests/fuzz/corpus/<harness>/finding-<kind>-<hash>, so the regression run keeps reproducing it
# until it is fixed; the raw artifacts and logs stay under the build folder's work/.
# Exit status: 0 when nothing was found, 1 on findings, 2 without clang or libFuzzer, 3 when the
# harnesses do not build.
# Environment: FL_FUZZ_BUILD_DIR (default build-fuzz), CC/CXX (default clang/clang++).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=${FL_FUZZ_BUILD_DIR:-build-fuzz}
corpus_root=$root/tests/fuzz/corpus
all_harnesses=(wire tensor_payload npy model_file job_config sweep_config idx transaction receipt_json
  merkle_proof key_file)

seconds=300 jobs=1 merge=0 regression=0 harnesses=()
while (($#)); do
  case $1 in
    -t|--seconds) seconds=$2; shift 2 ;;
    -j|--jobs) jobs=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --regression) regression=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
((${#harnesses[@]})) || harnesses=("${all_harnesses[@]}")
if ((regression)); then seconds=${FL_FUZZ_REGRESSION_SECONDS:-2}; jobs=2; fi

# --- build -----------------------------------------------------------------------------------
cc=${CC:-clang} cxx=${CXX:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; install clang and libclang-rt-14-dev (deploy/install-deps.sh)" >&2
  exit 2
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' >"$probe/p.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
  echo "fuzz: $cxx cannot link libFuzzer with sanitizers (install libclang-rt-14-dev):" >&2
  head -3 "$probe/err" >&2
  exit 2
fi
if [[ ! -f $build_dir/build.ninja ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=$cc CXX=$cxx cmake -S tests/fuzz -B "$build_dir" -G Ninja "${launcher[@]}" >/dev/null || exit 3
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("${h}_fuzzer"); done
cmake --build "$build_dir" -j "${FL_FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}" || exit 3

# --- run -------------------------------------------------------------------------------------
work=$root/$build_dir/work
mkdir -p "$work"
fuzz_one() {  # harness -> 0 clean, 1 finding
  local h=$1 bin=$root/$build_dir/bin/${1}_fuzzer seeds=$corpus_root/$1
  local out=$work/$h status=0
  rm -rf "$out/artifacts"
  ((regression)) && rm -rf "$out/corpus"  # the regression starts from the checked-in corpus alone
  mkdir -p "$out/artifacts" "$out/corpus"
  local common=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$out/artifacts/")
  [[ -f $root/tests/fuzz/$h.dict ]] && common+=(-dict="$root/tests/fuzz/$h.dict")
  if ! "$bin" "${common[@]}" -runs=0 "$seeds" >"$out/replay.log" 2>&1; then
    echo "fuzz: $h FAILS on its checked-in corpus (log: $out/replay.log)"
    grep -m3 -E "ERROR|runtime error|fuzz check" "$out/replay.log" | sed 's/^/  /'
    return 1
  fi
  # New inputs go to the work corpus (listed first), never straight into the checked-in one.
  local mode=()
  ((regression)) || mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  "$bin" "${common[@]}" "${mode[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    "$out/corpus" "$seeds" >"$out/fuzz.log" 2>&1 || status=1
  for a in "$out"/artifacts/{crash,leak,timeout,oom,slow-unit}-*; do
    [[ -f $a ]] || continue
    status=1
    local kind=${a##*/}; kind=${kind%%-*}
    local min=$out/artifacts/minimized-${a##*/}
    "$bin" -minimize_crash=1 -max_total_time=30 -exact_artifact_path="$min" "$a" >/dev/null 2>&1
    [[ -s $min ]] || min=$a
    local keep=$seeds/finding-$kind-$(sha1sum "$min" | cut -c1-12)
    cp "$min" "$keep"
    echo "fuzz: $h found a $kind; reproducer saved as ${keep#"$root"/}"
  done
  if ((status)); then
    grep -m3 -E "ERROR:|runtime error|fuzz check" "$out/fuzz.log" | sed 's/^/  /'
  elif ((merge)); then
    "$bin" -merge=1 "$seeds" "$out/corpus" >"$out/merge.log" 2>&1
  fi
  local runs
  runs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$out/fuzz.log")
  [[ -n $runs ]] || runs=$(grep -oE "^#[0-9]+: cov" "$out/fuzz.log" | tail -1 | tr -dc 0-9)
  echo "fuzz: $h ${seconds}s: $( ((status)) && echo FINDINGS || echo clean ) (${runs:-?} inputs)"
  return $status
}

for h in "${harnesses[@]}"; do rm -f "$work/$h.status"; done
running=0
for h in "${harnesses[@]}"; do
  (fuzz_one "$h"; echo $? >"$work/$h.status") &
  if ((++running >= jobs)); then wait -n; running=$((running - 1)); fi
done
wait
failed=()
for h in "${harnesses[@]}"; do [[ $(cat "$work/$h.status" 2>/dev/null) == 0 ]] || failed+=("$h"); done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#harnesses[@]} harnesses clean"
