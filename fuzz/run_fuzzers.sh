#!/usr/bin/env bash
# Runs every libFuzzer harness for a bounded time, each on a copy of its committed seed corpus
# (fuzz/corpus/<harness>/ is never modified), with the dictionary fuzz/<harness>.dict if any.
# Fails if any harness finds a crash, a leak, a timeout or an out-of-memory; the input that
# caused it is kept and its path printed.
#
#   fuzz/run_fuzzers.sh <build dir> [seconds per harness, default 60] [harness ...]
#
# The build dir is one configured with -DSHEBAO_FUZZ=ON (./run.sh test uses build-fuzz).
# Findings go to $FUZZ_OUT (default <build dir>/fuzz-findings/<harness>/).
set -uo pipefail
cd "$(dirname "$0")/.."

build="${1:?usage: fuzz/run_fuzzers.sh <build dir> [seconds] [harness ...]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(event_decode_fuzzer command_fuzzer holiday_calendar_fuzzer premium_table_fuzzer
             rights_statement_fuzzer)
fi
out_root="${FUZZ_OUT:-$build/fuzz-findings}"

failed=()
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/$h"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built" >&2
    failed+=("$h")
    continue
  fi
  out="$out_root/$h"
  rm -rf "$out"
  mkdir -p "$out/artifacts"
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$h" "$work/corpus"
  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  start=$(date +%s)
  # -timeout: one input taking longer is a finding; -rss_limit_mb: so is using more memory.
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict[@]}" -artifact_prefix="$out/artifacts/" "$work/corpus" >"$out/log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log" | grep -o '[0-9]*$')
  rm -rf "$work"
  findings=$(find "$out/artifacts" -type f | head -5)
  if [ $rc -ne 0 ] || [ -n "$findings" ]; then
    echo "fuzz: $h FAILED (exit $rc) after $(( $(date +%s) - start )) s; log: $out/log"
    grep -m1 -E 'ERROR|runtime error|fuzz check failed|assertion failed' "$out/log" || true
    for f in $findings; do echo "fuzz:   input kept: $f"; done
    failed+=("$h")
  else
    echo "fuzz: $h ok, ${execs:-?} inputs in $(( $(date +%s) - start )) s"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (fuzz/README.md: turning a crash into a regression test)" >&2
  exit 1
fi
