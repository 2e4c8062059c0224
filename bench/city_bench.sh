#!/usr/bin/env bash
# Runs the issue-4 city benchmarks (and issue 5's audit verify) for each size given (children), one phase per process, and
# prints every phase's JSON line plus the ratios asked for. Usage:
#   bench/city_bench.sh [BUILD_DIR] [SIZE...]      e.g. bench/city_bench.sh build 100000 1000000
# Scan and verify run REPEAT times (default 5), alternately, and their ratio is taken from the
# medians: on a shared 2-vCPU VM one run of either can take 1.6x another.
# BOUNDS=1 also measures the two ceilings (BENCHMARKS.md, "What the targets would need"): a
# rebuild whose projector writes nothing (rebuild-floor, before the rebuild), and the ingest's
# writes alone (a second ingest that keeps its write-ahead log, then write-replay; its archive
# takes about 60% more disk than the ledger: 5.4 GB at 100,000 children).
set -euo pipefail
# The line with the median value of KEY among the JSON lines on stdin.
median() {
  python3 -c 'import json,sys; k=sys.argv[1]; r=sorted((json.loads(l) for l in sys.stdin), key=lambda x: x[k]); print(json.dumps(r[len(r)//2]))' "$1"
}
build="${1:-build}"; shift || true
sizes=("${@:-100000}")
bench="$build/bench/city_bench"
dir="${CITY_DIR:-/tmp/shebao-city-bench}"
for n in "${sizes[@]}"; do
  d="$dir-$n"
  ingest=$("$bench" ingest --dir "$d" --children "$n" --seed 1)
  echo "$ingest"
  put=$("$bench" raw-put --dir "$d"); echo "$put"
  scans=(); verifies=()
  for ((r = 0; r < ${REPEAT:-5}; r++)); do
    scans+=("$("$bench" scan --dir "$d")"); echo "${scans[-1]}"
    verifies+=("$("$bench" verify --dir "$d")"); echo "${verifies[-1]}"
  done
  scan=$(printf '%s\n' "${scans[@]}" | median scan_s)
  verify=$(printf '%s\n' "${verifies[@]}" | median verify_s)
  floor=null; replay=null
  if [[ "${BOUNDS:-0}" == 1 ]]; then
    floor=$("$bench" rebuild-floor --dir "$d" 2>/dev/null); echo "$floor"
  fi
  rebuild=$("$bench" rebuild --dir "$d"); echo "$rebuild"
  query=$("$bench" query --dir "$d" --children "$n" --samples 20000); echo "$query"
  disk=$(du -sb "$d" | cut -f1)
  if [[ "${BOUNDS:-0}" == 1 ]]; then
    "$bench" ingest --dir "$d-wal" --children "$n" --seed 1 --keep-wal 1 > /dev/null
    replay=$("$bench" write-replay --dir "$d-wal"); echo "$replay"
    rm -rf "$d-wal"
  fi
  python3 - "$n" "$disk" "$ingest" "$put" "$scan" "$rebuild" "$query" "$verify" "$floor" "$replay" <<'PY'
import json, sys
n, disk = int(sys.argv[1]), int(sys.argv[2])
ingest, put, scan, rebuild, query, verify, floor, replay = (json.loads(x) for x in sys.argv[3:11])
bounds = {}
if floor:
  bounds["rebuild_floor_over_scan"] = round(floor["rebuild_events_per_s"] / scan["scan_events_per_s"], 3)
if replay:
  bounds["write_replay_over_raw_put"] = round(replay["replay_events_per_s"] / put["raw_put_events_per_s"], 3)
print(json.dumps({"bench": "city_ratios", "children": n, **bounds,
  "ingest_over_raw_put": round(ingest["ingest_events_per_s"] / put["raw_put_events_per_s"], 3),
  "rebuild_over_scan": round(rebuild["rebuild_events_per_s"] / scan["scan_events_per_s"], 3),
  "verify_over_scan": round(verify["verify_events_per_s"] / scan["scan_events_per_s"], 3),
  "median_scan_s": scan["scan_s"], "median_verify_s": verify["verify_s"],
  "rebuild_peak_rss_mb": rebuild["peak_rss_mb"], "query_p99_us": query["p99_us"],
  "bytes_on_disk_per_event": round(disk / ingest["events"], 1)}))
PY
  rm -rf "$d"
done
