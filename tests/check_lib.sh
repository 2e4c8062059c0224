# Shared by the shell tests: `check <description> <command...>` counts the command's success or
# prints "FAIL: <description>"; `finish <name>` prints the counts and fails if anything failed.
failures=0
passed=0
check() {
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
finish() {
  echo "$1: $passed passed, $failures failed"
  [ "$failures" -eq 0 ]
}
