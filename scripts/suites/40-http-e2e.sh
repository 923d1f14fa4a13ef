#!/usr/bin/env bash
# End-to-end tests of `ephpm serve` (runtime/tests/http/e2e.py): HTTP/1.1 behaviour, routing and
# security (hostile requests, request smuggling, Host validation), the request SAPI, watchdog,
# SIGTERM drain, counter walk-through. Then the HTTP fuzz run (runtime/tests/http/fuzz_e2e.py,
# seed printed, EPHPM_FUZZ_SEED replays it). Both run even when the first fails.
set -euo pipefail
bash scripts/build.sh release
rc=0
python3 runtime/tests/http/e2e.py build/runtime/ephpm || rc=1
python3 runtime/tests/http/fuzz_e2e.py build/runtime/ephpm || rc=1
exit $rc
