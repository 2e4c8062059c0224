#!/usr/bin/env bash
# Runs the issue-4 city benchmarks (and issue 5's audit verify) for each size given (children), one phase per process, and
# prints every phase's JSON line plus the ratios asked for. Usage:
#   bench/city_bench.sh [BUILD_DIR] [SIZE...]      e.g. bench/city_bench.sh build 100000 1000000
set -euo pipefail
build="${1:-build}"; shift || true
sizes=("${@:-100000}")
bench="$build/bench/city_bench"
dir="${CITY_DIR:-/tmp/shebao-city-bench}"
for n in "${sizes[@]}"; do
  d="$dir-$n"
  ingest=$("$bench" ingest --dir "$d" --children "$n" --seed 1)
  echo "$ingest"
  put=$("$bench" raw-put --dir "$d"); echo "$put"
  scan=$("$bench" scan --dir "$d"); echo "$scan"
  rebuild=$("$bench" rebuild --dir "$d"); echo "$rebuild"
  query=$("$bench" query --dir "$d" --children "$n" --samples 20000); echo "$query"
  verify=$("$bench" verify --dir "$d"); echo "$verify"
  disk=$(du -sb "$d" | cut -f1)
  python3 - "$n" "$disk" "$ingest" "$put" "$scan" "$rebuild" "$query" "$verify" <<'PY'
import json, sys
n, disk = int(sys.argv[1]), int(sys.argv[2])
ingest, put, scan, rebuild, query, verify = (json.loads(x) for x in sys.argv[3:9])
print(json.dumps({"bench": "city_ratios", "children": n,
  "ingest_over_raw_put": round(ingest["ingest_events_per_s"] / put["raw_put_events_per_s"], 3),
  "rebuild_over_scan": round(rebuild["rebuild_events_per_s"] / scan["scan_events_per_s"], 3),
  "verify_over_scan": round(verify["verify_events_per_s"] / scan["scan_events_per_s"], 3),
  "rebuild_peak_rss_mb": rebuild["peak_rss_mb"], "query_p99_us": query["p99_us"],
  "bytes_on_disk_per_event": round(disk / ingest["events"], 1)}))
PY
  rm -rf "$d"
done
