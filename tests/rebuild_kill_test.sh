#!/usr/bin/env bash
# A rebuild killed with SIGKILL at random moments (RocksDB's kill-and-verify style). The rebuild
# writes no write-ahead log (FoldRange): after each kill the projections in use must still be the
# complete old generation, and the rebuild that finally runs to the end, resuming from whatever
# progress record survived, must give exactly the projections a fold of the whole log gives
# (shebao audit replay compares every row) and the same records as before the kills.
# Usage: rebuild_kill_test.sh <path to shebao> [cycles]   (seed: $SEED, else random; printed)
set -u
shebao="$1"
cycles="${2:-8}"
seed="${SEED:-$RANDOM}"
echo "rebuild_kill_test: seed $seed (re-run with SEED=$seed), $cycles kills"
RANDOM=$seed
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check_lib.sh"
db="$tmp/city.db"
"$shebao" --db "$db" demo --children 3000 --seed 7 >/dev/null || { echo "FAIL: demo"; exit 1; }
children=$("$shebao" --db "$db" --reveal --format json log --from 1 --limit 5000 |
           grep -o '"child_id": *"[0-9X]*"' | sort -u | head -n 5 | cut -d'"' -f4)
records() {
  for id in $children; do
    "$shebao" --db "$db" --reveal --format json payments --person "$id"
    "$shebao" --db "$db" --reveal --format json rights --person "$id"
  done
}
records >"$tmp/before"
# What stats says an interrupted rebuild left to resume: a position, or null.
interrupted_at() {
  "$shebao" --db "$db" --format json stats |
    sed -n 's/.*"interrupted_rebuild_position":\([0-9a-z]*\).*/\1/p'
}
events=$("$shebao" --db "$db" --format json stats | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
resumable=0
# How long a whole rebuild takes here: the kills land within it.
t0=$(date +%s%N)
"$shebao" --db "$db" rebuild -q >/dev/null || { echo "FAIL: first rebuild"; exit 1; }
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "a whole rebuild: $full_ms ms"
for ((i = 1; i <= cycles; i++)); do
  delay_ms=$(( 20 + RANDOM % (full_ms > 40 ? full_ms : 40) ))
  "$shebao" --db "$db" rebuild -q >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' "$((delay_ms % 1000))")"
  sleep "$((delay_ms / 1000))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  # The projections in use are complete and equal to the log's fold, whatever the kill left.
  "$shebao" --db "$db" audit replay >"$tmp/replay" 2>&1
  check "kill $i after $delay_ms ms: audit replay finds the projections equal to the log's fold" \
    grep -q "; 0 differences" "$tmp/replay"
  # What the kill left for the next rebuild to resume from (null: nothing durable yet, or the
  # rebuild had already switched).
  left=$(interrupted_at)
  check "kill $i: stats names what an interrupted rebuild left ($left)" test -n "$left"
  if [ "$left" != "null" ]; then
    resumable=$((resumable + 1))
    check "kill $i: the position left is within the log" test "$left" -le "$events"
  fi
done
echo "rebuild_kill_test: $resumable of $cycles kills left a rebuild to resume"
# A kill rarely leaves anything to resume at this size (the rebuild's rows reach a file only
# when its memtable fills), so the resumption is checked after a clean stop (SIGINT), which
# keeps the completed batches: interrupt a rebuild early enough that it stops before its switch.
stopped=""
for pct in 40 20 60 10 5; do
  "$shebao" --db "$db" rebuild -q >"$tmp/stop.out" 2>"$tmp/stop.err" &
  pid=$!
  sleep "$(printf '%d.%03d' $((full_ms * pct / 100 / 1000)) $((full_ms * pct / 100 % 1000)))"
  kill -INT "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if grep -q "^rebuild interrupted" "$tmp/stop.err"; then stopped=$pct; break; fi
done
check "a rebuild stopped by SIGINT at some point (${stopped:-none} % of a whole one)" test -n "$stopped"
left=$(interrupted_at)
check "after SIGINT, stats names the position to resume after ($left)" \
  test -n "$left" -a "$left" != null
"$shebao" --db "$db" audit replay >"$tmp/replay" 2>&1
check "after SIGINT, audit replay finds the projections equal to the log's fold" \
  grep -q "; 0 differences" "$tmp/replay"
"$shebao" --db "$db" rebuild -q >"$tmp/rebuild" 2>&1
check "the rebuild after the kills completes" grep -q "rebuild: projections recomputed" "$tmp/rebuild"
check "it resumed after the position stats named" \
  grep -q "^rebuild: resuming an interrupted rebuild after position $left\$" "$tmp/rebuild"
check "after it, no rebuild is left to resume" test "$(interrupted_at)" = null
"$shebao" --db "$db" audit replay >"$tmp/replay" 2>&1
check "after it, audit replay finds the projections equal to the log's fold" grep -q "; 0 differences" "$tmp/replay"
records >"$tmp/after"
check "the records read the same as before the kills" cmp -s "$tmp/before" "$tmp/after"
check "the records are not empty" test -s "$tmp/before"
if [ "$failures" -gt 0 ]; then
  echo "seed $seed; the last audit replay said:"
  cat "$tmp/replay"
fi
finish rebuild_kill_test
