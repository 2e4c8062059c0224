#!/usr/bin/env bash
# CLI tests of `shebao`: ingest (accepted, rejected with line/field/rule, idempotent re-run,
# nothing written by a bad line), history, verify, exit codes.
# Usage: cli_test.sh <path to shebao> <source dir>
set -u
shebao="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check_lib.sh"
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

# Inquiries (Art. 4): payment and rights records, coverage on a date, as of an earlier position.
child=110105201503010010
"$shebao" --db "$db" --format json payments --person $child >"$tmp/pay"
check "payments: premium line" grep -q '"kind":"premium","date":"2025-09-20","amount_fen":40000' "$tmp/pay"
check "payments: subsidy line" grep -q '"kind":"subsidy","date":"2025-09-20","amount_fen":70000,"payer":"government_subsidy"' "$tmp/pay"
check "payments: the fee is a fee" grep -q '"kind":"certificate_fee"' "$tmp/pay"
check "payments: masked" bash -c "! grep -q $child '$tmp/pay'"
"$shebao" --db "$db" --format json rights --person $child >"$tmp/rights"
check "rights: active from 2026-01-01" grep -q '"coverage_year":2026,"status":"active","effective_date":"2026-01-01"' "$tmp/rights"
check "rights: certificate issued" grep -q '"step":"certificate_issued"' "$tmp/rights"
"$shebao" --db "$db" covered --person $child --on 2026-02-01 >"$tmp/cov1"
check "covered on 2026-02-01" grep -q ": covered (active from 2026-01-01" "$tmp/cov1"
"$shebao" --db "$db" covered --person $child --on 2026-02-01 --as-of 12 >"$tmp/cov2"
check "not covered as the ledger knew it at position 12" grep -q "NOT covered" "$tmp/cov2"
"$shebao" --db "$db" --format csv payments --person $child --as-of 13 >"$tmp/pay13"
# Position 13 is inside the collection's atomic batch (13..15): as of it means the whole batch.
check "payments as of 13: the failure, the premium and its subsidy" test "$(wc -l <"$tmp/pay13")" -eq 4
"$shebao" --db "$db" payments --person $child --as-of 99999999999999999999999 >/dev/null 2>&1
check "an overflowing --as-of is a usage error" test $? -eq 2
"$shebao" --db "$db" case case/2026/$child >"$tmp/case"
check "case: current step" grep -q "current step  certificate_issued" "$tmp/case"
"$shebao" --db "$db" --format json queue --agency 110105 >"$tmp/queue"
check "queue: the pending case of child 2" grep -q '"open":1' "$tmp/queue"
"$shebao" --db "$db" --format json rights --person 440305201208150026 >"$tmp/r2a"
"$shebao" --db "$db" rebuild >"$tmp/rebuild"
check "rebuild reports" grep -q "rebuild: projections recomputed from 23 events" "$tmp/rebuild"
"$shebao" --db "$db" --format json payments --person $child >"$tmp/pay_after"
"$shebao" --db "$db" --format json rights --person 440305201208150026 >"$tmp/r2b"
check "rebuilt payments are identical" cmp -s "$tmp/pay" "$tmp/pay_after"
check "rebuilt rights are identical" cmp -s "$tmp/r2a" "$tmp/r2b"
"$shebao" --db "$db" --format json stats >"$tmp/stats"
check "stats: projections at the head" grep -q '"events":23,"chain_hash".*"projection_position":23' "$tmp/stats"
"$shebao" --db "$db" payments --person 123 >/dev/null 2>&1
check "an invalid person is a usage error" test $? -eq 2

# The demo: a synthetic city through the command path, then an inquiry; idempotent re-run.
"$shebao" --db "$tmp/demo.db" demo --children 40 --seed 7 >"$tmp/demo1" 2>&1
check "demo exits 0" test $? -eq 0
check "demo: every command accepted" grep -q "commands: .* accepted, 0 already recorded, 0 rejected" "$tmp/demo1"
check "demo: prints the inquiry" grep -q "personal rights record of" "$tmp/demo1"
check "demo: verifies the chain" grep -q "verify: ok" "$tmp/demo1"
"$shebao" --db "$tmp/demo.db" demo --children 40 --seed 7 >"$tmp/demo2" 2>&1
check "demo again: nothing new" grep -q ": 0 accepted, .* already recorded, 0 rejected" "$tmp/demo2"
"$shebao" --db "$tmp/demo.db" demo --children 41 --seed 7 >/dev/null 2>&1
check "demo refuses another city's ledger" test $? -eq 2

"$shebao" --db "$db" case case/2026/abc >/dev/null 2>&1
check "a case with an invalid citizen ID is a usage error" test $? -eq 2
"$shebao" --db "$db" queue --agency 12 >/dev/null 2>&1
check "an agency that is not a division code is a usage error" test $? -eq 2
"$shebao" --db "$db" log --from 0 >/dev/null 2>&1
check "log --from 0 is a usage error" test $? -eq 2
"$shebao" --db "$db" --data "$tmp/nodata" ingest "$example" >/dev/null 2>&1
check "an unreadable --data is an I/O error" test $? -eq 4

# CSV fields with commas are quoted (RFC 4180).
printf '%s\n' '{"command":"issue_materials","key":"cm-1","at":"2025-09-01T09:00:00","actor":{"role":"agency","org":"110105","id":"staff, senior"},"child_id":"310115201801010035","coverage_year":2026,"pathway":"not_in_school"}' >"$tmp/comma.jsonl"
"$shebao" --db "$db" ingest -q "$tmp/comma.jsonl" >/dev/null 2>&1
"$shebao" --db "$db" --format csv log --from 24 --limit 1 >"$tmp/csv"
check "CSV quotes a field with a comma" grep -q ',agency,"staff, senior",MaterialsIssued,' "$tmp/csv"

finish cli_test
