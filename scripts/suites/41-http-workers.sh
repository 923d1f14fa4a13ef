#!/usr/bin/env bash
# `ephpm serve` with worker processes (runtime/tests/http/workers_e2e.py): parallel requests, one
# store shared by all workers (counter, ephpm_kv_wait across workers), kill -9 under load and
# respawn, crash-loop throttling, SIGHUP rolling restart, max_requests recycling, SIGTERM/SIGQUIT.
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/workers_e2e.py build/runtime/ephpm
