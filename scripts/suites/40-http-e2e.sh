#!/usr/bin/env bash
# End-to-end tests of `ephpm serve` (runtime/tests/http/e2e.py): HTTP/1.1 behaviour, routing and
# security (hostile requests), the request SAPI, watchdog, SIGTERM drain, counter walk-through.
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/e2e.py build/runtime/ephpm
