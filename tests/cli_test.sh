#!/usr/bin/env bash
# CLI tests of `shebao`: ingest (accepted, rejected with line/field/rule, idempotent re-run,
# nothing written by a bad line), history, verify, exit codes.
# Usage: cli_test.sh <path to shebao> <source dir>
set -u
shebao="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0
check() {  # check <description> <command...>: the command must succeed
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
db="$tmp/city.db"
example="$src/examples/school-enrollment.jsonl"

"$shebao" --db "$db" ingest "$example" >"$tmp/out1" 2>"$tmp/err1"
check "a clean file ingests with exit 0" test $? -eq 0
check "every line accepted" grep -q "20 lines: 20 accepted (22 events), 0 already recorded, 0 rejected" "$tmp/out1"
"$shebao" --db "$db" ingest "$example" >"$tmp/out2" 2>&1
check "a second ingest exits 0" test $? -eq 0
check "a second ingest appends nothing" grep -q "0 accepted (0 events), 20 already recorded, 0 rejected; head at position 22" "$tmp/out2"

# Bad lines: each reported with its line number, rule and field; the good line still applies.
cat >"$tmp/bad.jsonl" <<'JSONL'
{"command":"declare",
{"command":"teleport","key":"b-2","at":"2025-09-01T09:00:00","actor":{"role":"school","org":"x","id":"y"}}

{"command":"request_certificate","key":"b-4","at":"2025-11-01T10:00:00","actor":{"role":"school","org":"12110105MB00123451","id":"t"},"child_id":"440305201208150026","coverage_year":2026}
{"command":"issue_materials","key":"b-5","at":"2025-09-01T09:00:00","actor":{"role":"school","org":"12110105MB00123451","id":"t"},"child_id":"440305201208150026","coverage_year":2026,"pathway":"school"}
{"command":"issue_materials","key":"b-6","at":"2025-09-01T09:00:00","actor":{"role":"school","org":"12110105MB00123451","id":"t"},"child_id":"440305201208150027","coverage_year":2026,"pathway":"school"}
JSONL
"$shebao" --db "$db" ingest "$tmp/bad.jsonl" >"$tmp/out3" 2>"$tmp/err3"
check "a file with rejected lines exits 1" test $? -eq 1
check "line 1 json_malformed" grep -q "^line 1: rejected: json_malformed" "$tmp/err3"
check "line 2 command_unknown names the field" grep -q "^line 2: rejected: command_unknown (field command)" "$tmp/err3"
check "line 4 case_not_found" grep -q "^line 4: rejected: case_not_found (field child_id)" "$tmp/err3"
check "line 6 citizen_id_checksum" grep -q "^line 6: rejected: citizen_id_checksum (field child_id)" "$tmp/err3"
check "the blank line is skipped and the good line applies" grep -q "6 lines: 1 accepted (1 events), 0 already recorded, 4 rejected; head at position 23" "$tmp/out3"
check "citizen IDs are masked in rejections" bash -c "! grep -q 440305201208150026 '$tmp/err3'"

"$shebao" --db "$db" --format json history case/2026/110105201503010010 >"$tmp/hist"
check "history prints 22 events" test "$(wc -l <"$tmp/hist")" -eq 22
check "history masks citizen IDs" bash -c "! grep -q 110105201503010010 '$tmp/hist'"
"$shebao" --db "$db" --reveal --format json history case/2026/110105201503010010 >"$tmp/hist2"
check "--reveal shows them" grep -q 110105201503010010 "$tmp/hist2"
"$shebao" --db "$db" verify >"$tmp/verify"
check "verify passes" grep -q "verify: ok, 23 events" "$tmp/verify"
"$shebao" --db "$tmp/none.db" history x >/dev/null 2>&1
check "a missing ledger exits 4" test $? -eq 4
"$shebao" --db "$db" nosuchcommand >/dev/null 2>&1
check "an unknown subcommand exits 2" test $? -eq 2
"$shebao" --db "$db" ingest --help >"$tmp/help"
check "ingest --help shows an example" grep -q "example:" "$tmp/help"

echo "cli_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
