#!/usr/bin/env bash
# CLI tests of the auditor's commands: keygen, audit verify / replay / checkpoint / proof /
# consistency / as-of / check-statement, and statement; their exit codes (0 ok, 3 failed
# verification). The tamper trials themselves are in tests/replay_test.cc.
# Usage: audit_cli_test.sh <path to shebao>
set -u
shebao="$(realpath "$1")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check_lib.sh"
db="$tmp/city.db"
s() { "$shebao" --db "$db" "$@"; }

s demo --children 150 --seed 3 >"$tmp/demo" 2>&1
check "the demo city is recorded" test $? -eq 0

cd "$tmp"
s keygen --out agency >"$tmp/keygen" 2>&1
check "keygen exits 0" test $? -eq 0
check "the private key is mode 600" test "$(stat -c %a agency.key)" = 600
check "the public key exists" grep -q "BEGIN PUBLIC KEY" agency.pub
s keygen --out agency >"$tmp/keygen2" 2>&1
check "keygen refuses to overwrite a key" test $? -ne 0
check "and says so" grep -q "overwrite" "$tmp/keygen2"

s audit verify --quiet >"$tmp/v1" 2>&1
check "audit verify of a recorded city exits 0" test $? -eq 0
check "it checks the domain rules" grep -q "audit verify: OK: .* events in .* streams (.*domain rules)" "$tmp/v1"

s audit checkpoint --key agency.key --out cp.json >"$tmp/cp" 2>&1
check "audit checkpoint exits 0" test $? -eq 0
check "the checkpoint file names its format" grep -q '"format":"shebao-checkpoint/1"' cp.json
s --format json audit verify --quiet --key agency.pub --checkpoint cp.json >"$tmp/v2" 2>&1
check "verify with the key and the kept checkpoint exits 0" test $? -eq 0
check "both checkpoint copies are checked and signed" grep -q '"ok":true.*"checkpoints":2,"signatures":2' "$tmp/v2"

s keygen --out other >/dev/null 2>&1
s audit verify --quiet --key other.pub >"$tmp/v3" 2>&1
check "verify with another key exits 3" test $? -eq 3
check "and names the checkpoint" grep -q "FAILED at position 0: checkpoint: checkpoint at size .*: signed by key" "$tmp/v3"

s audit proof --position 7 >"$tmp/proof" 2>&1
check "audit proof exits 0" test $? -eq 0
check "it prints the inclusion proof" grep -q '"position":7,"leaf_index":6,"tree_size":[0-9]*,"leaf_hash":"[0-9a-f]\{64\}","root":"[0-9a-f]\{64\}","proof":\["' "$tmp/proof"
check "against the signed root" grep -q "$(grep -o '"root":"[0-9a-f]*"' cp.json)" "$tmp/proof"
s audit consistency --old 100 >"$tmp/cons" 2>&1
check "audit consistency exits 0" test $? -eq 0
check "it prints the consistency proof" grep -q '"old_size":100,"old_root":"[0-9a-f]\{64\}","new_size"' "$tmp/cons"
s audit proof --position 0 >/dev/null 2>&1
check "a position outside the tree is a usage error" test $? -eq 2

s audit replay --quiet >"$tmp/r1" 2>&1
check "audit replay exits 0" test $? -eq 0
check "with no difference" grep -q "audit replay: OK: .* 0 differences" "$tmp/r1"

person=$(s --reveal log --from 1 --limit 1 2>/dev/null | grep -o "case/[0-9]*/[0-9X]*" | head -1 | cut -d/ -f3)
check "a person from the log" test -n "$person"
s statement --person "$person" --key agency.key --out st.json >"$tmp/st" 2>&1
check "statement exits 0" test $? -eq 0
check "the readable statement lists payments" grep -q "^Payments" "$tmp/st"
check "and masks the citizen ID" grep -q "Rights statement of [0-9]\{6\}\*\{8\}" "$tmp/st"
"$shebao" audit check-statement st.json --key agency.pub >"$tmp/cs1" 2>&1
check "check-statement needs no database and exits 0" test $? -eq 0
check "and says what it proved" grep -q "check-statement: OK: .* events proven in the log signed by key" "$tmp/cs1"
"$shebao" audit check-statement st.json --key other.pub >"$tmp/cs2" 2>&1
check "check-statement with another key exits 3" test $? -eq 3
# One amount of the summary changed (the first premium's).
sed '0,/"amount_fen":\([1-9]\)/s//"amount_fen":9\1/' st.json >altered.json
check "the altered statement differs" test "$(cmp -s st.json altered.json; echo $?)" = 1
"$shebao" audit check-statement altered.json --key agency.pub >"$tmp/cs3" 2>&1
check "an altered statement exits 3" test $? -eq 3
check "and says what is wrong" grep -q "FAILED: the summary is not what the enclosed events add up to" "$tmp/cs3"

s audit as-of 2025-01-01T00:00:00 --person "$person" >"$tmp/asof" 2>&1
check "audit as-of exits 0" test $? -eq 0
check "it shows the rights and payment records" grep -q "personal rights record of .* (as of position" "$tmp/asof"
check "as the ledger had them then" grep -q "payment record of .* (as of position" "$tmp/asof"
case_id=$(s --reveal log --from 1 --limit 1 2>/dev/null | grep -o "case/[0-9]*/[0-9X]*" | head -1)
s --reveal audit as-of 5 --case "$case_id" >"$tmp/asof-case" 2>&1
check "audit as-of --case exits 0" test $? -eq 0
check "the case as of position 5 is at its fifth step or earlier" test "$(grep -c "^ *[0-9]* *$case_id" "$tmp/asof-case")" -le 5
check "and names its step" grep -q "current step" "$tmp/asof-case"
s audit frobnicate >/dev/null 2>&1
check "an unknown audit command is a usage error" test $? -eq 2

finish audit_cli_test
