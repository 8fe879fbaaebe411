#!/usr/bin/env bash
# Installs the Debian 12 packages FedLedger builds and runs with (only what is missing).
# Usage: deploy/install-deps.sh [--bench]   (--bench adds python3-torch for the training comparison)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread zlib1g-dev
  libzmq3-dev cppzmq-dev libsodium-dev libsqlite3-dev sqlite3
  libeigen3-dev libcereal-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  libcpp-httplib-dev
  libcurl4-openssl-dev etcd-server etcd-client  # the etcd-replicated ledger: gateway client, test clusters
  libstb-dev dataset-fashion-mnist
  systemd iproute2  # tests: systemd-analyze verify on deploy/systemd, ip netns for the multi-host test
  prometheus chromium  # the observability tests (skipped where absent)
  clang libclang-rt-14-dev libomp-dev  # fuzz harnesses (tests/fuzz): clang, libFuzzer, OpenMP
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
