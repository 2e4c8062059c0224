#!/usr/bin/env bash
# The project's two set-up commands (README.md):
#   ./run.sh demo   installs what is missing, builds, records a synthetic city on an embedded
#                   RocksDB through the full command path, and answers a real inquiry
#   ./run.sh test   installs what is missing, builds, and runs every test (what CI runs): the
#                   normal build first, then the same suite built with ASan + UBSan
#                   (build-asan), then each libFuzzer harness for FUZZ_SECONDS (build-fuzz, clang)
# Environment: BUILD_DIR (default build), JOBS (default nproc), SHEBAO_WERROR=ON to fail on warnings,
# ASAN_BUILD_DIR (default build-asan), FUZZ_BUILD_DIR (default build-fuzz), FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config
          librocksdb-dev libflatbuffers-dev flatbuffers-compiler
          libfmt-dev libboost-program-options-dev doctest-dev libssl-dev libsimdjson-dev
          libjemalloc-dev clang libclang-rt-14-dev)

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

# Every test again, built with AddressSanitizer + UndefinedBehaviorSanitizer (the benchmarks,
# which no test runs, are left out). Any report fails its test: UBSan does not recover.
sanitize_test() {
  local dir="${ASAN_BUILD_DIR:-build-asan}"
  echo "run.sh: the tests under ASan + UBSan ($dir)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHEBAO_SANITIZE=ON \
        -DSHEBAO_BUILD_BENCH=OFF -DSHEBAO_WERROR="${SHEBAO_WERROR:-OFF}" >/dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}"
  UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    ctest --test-dir "$dir" --output-on-failure -j "${JOBS:-$(nproc)}"
}

# The libFuzzer harnesses (fuzz/README.md), each for FUZZ_SECONDS on a copy of its committed
# corpus; any finding fails the run.
fuzz_test() {
  if ! command -v clang++ >/dev/null; then
    echo "run.sh: clang++ not found, the fuzz harnesses are not run" >&2
    return 0
  fi
  local dir="${FUZZ_BUILD_DIR:-build-fuzz}"
  echo "run.sh: the fuzz harnesses, ${FUZZ_SECONDS:-60} s each ($dir)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DSHEBAO_FUZZ=ON -DSHEBAO_BUILD_TESTS=OFF -DSHEBAO_BUILD_BENCH=OFF \
        -DSHEBAO_WERROR="${SHEBAO_WERROR:-OFF}" >/dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}" --target shebao_fuzzers
  fuzz/run_fuzzers.sh "$dir" "${FUZZ_SECONDS:-60}"
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
    start=$SECONDS
    build
    ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}"
    plain=$((SECONDS - start))
    sanitize_test
    sanitized=$((SECONDS - start - plain))
    fuzz_test
    echo "run.sh: test passed: build and tests ${plain} s, under ASan + UBSan ${sanitized} s," \
         "fuzzing $((SECONDS - start - plain - sanitized)) s"
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test" >&2
    exit 2
    ;;
esac
