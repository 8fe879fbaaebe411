#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh
build_dir=${FL_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 -j "${FL_TEST_JOBS:-2}" "$@"
# The fuzz regression (tests/fuzz): each harness replays its checked-in corpus under ASan/UBSan.
if [[ ${FL_FUZZ_REGRESSION:-1} != 0 ]]; then
  if command -v clang++ >/dev/null; then
    rc=0
    deploy/fuzz.sh --regression || rc=$?
    if ((rc == 2)); then
      echo "test: fuzz regression skipped: clang cannot link libFuzzer (see above)"
    elif ((rc != 0)); then
      exit "$rc"
    fi
  else
    echo "test: fuzz regression skipped: clang++ not installed (deploy/install-deps.sh installs it)"
  fi
fi
