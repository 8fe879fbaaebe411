#!/usr/bin/env bash
# Configures and builds FedLedger (Release) into build/ (or $FL_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${FL_BUILD_DIR:-build}
jobs=${FL_JOBS:-$(nproc)}
extra=()
if [[ "${CI:-}" == "true" ]]; then extra+=(-DFL_WERROR=ON); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
