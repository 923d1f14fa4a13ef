#!/usr/bin/env bash
# `ephpm kv` against a live `ephpm serve` with 2 workers (runtime/tests/http/kv_cli_e2e.py): set
# from the CLI and read from a page and back, ttl, del, stats (text and JSON), flush --yes, scan
# --match, binary values, argument errors (exit 2), no server / a killed server / another
# version's store (exit 1).
set -euo pipefail
bash scripts/build.sh release ephpm >/dev/null
python3 runtime/tests/http/kv_cli_e2e.py build/runtime/ephpm
