#!/usr/bin/env bash
# `ephpm serve` in worker mode (runtime/tests/http/worker_mode_e2e.py): the isolation matrix
# between requests, faults (fatal, exception, exit, timeout, boot failure with back-off), the
# Ephpm\Worker primitives, fastcgi_finish_request()/getallheaders() in both modes, workers = 2,
# SIGHUP under load, SIGTERM drain, max_requests recycling, RSS over 10,000 requests.
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/worker_mode_e2e.py build/runtime/ephpm
