#!/usr/bin/env bash
# `[metrics] listen` (runtime/tests/http/metrics_e2e.py): a real Prometheus server scrapes ephpm and
# the test reads the request and store-hit counters back through Prometheus's HTTP API; `promtool
# check metrics`; health and readiness; restarts counted by reason. Needs Debian's `prometheus`
# (scripts/deps.sh).
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/metrics_e2e.py build/runtime/ephpm
