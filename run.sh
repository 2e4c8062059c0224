#!/usr/bin/env bash
# The project's two set-up commands (README.md):
#   ./run.sh demo   installs what is missing, builds, records a synthetic city on an embedded
#                   RocksDB through the full command path, and answers a real inquiry
#   ./run.sh test   installs what is missing, builds, and runs every test (what CI runs)
# Environment: BUILD_DIR (default build), JOBS (default nproc), SHEBAO_WERROR=ON to fail on warnings.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config
          librocksdb-dev libflatbuffers-dev flatbuffers-compiler
          libfmt-dev libboost-program-options-dev doctest-dev libssl-dev libsimdjson-dev)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

build() {
  local dir="${BUILD_DIR:-build}"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHEBAO_WERROR="${SHEBAO_WERROR:-OFF}" >/dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}"
}

case "${1:-}" in
  demo)
    install_missing
    build
    db="${SHEBAO_DB:-./shebao-demo.db}"
    "./${BUILD_DIR:-build}/tools/shebao" --db "$db" demo --children "${CHILDREN:-2000}" --seed 42
    ;;
  test)
    install_missing
    build
    ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}"
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test" >&2
    exit 2
    ;;
esac
