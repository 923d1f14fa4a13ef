#!/usr/bin/env bash
# `make test`: builds every flavour and runs every suite in scripts/suites/ in name order.
# Each suite is a script that exits non-zero on failure; this prints one summary line at the end.
# SUITES="10-kv 30-php" runs only the named suites.
set -uo pipefail
cd "$(dirname "$0")/.."
export EPHPM_ROOT=$PWD

passed=0
failed=0
failed_names=()
for suite in scripts/suites/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "${SUITES:-}" ] && [[ " $SUITES " != *" $name "* ]]; then continue; fi
  echo
  echo "=== suite $name ==="
  start=$(date +%s)
  if bash "$suite"; then
    passed=$((passed + 1))
    echo "=== suite $name: PASSED ($(( $(date +%s) - start )) s) ==="
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "=== suite $name: FAILED ($(( $(date +%s) - start )) s) ==="
  fi
done
echo
if ((failed > 0)); then echo "failed suites: ${failed_names[*]}"; fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
