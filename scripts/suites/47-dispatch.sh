#!/usr/bin/env bash
# Dispatch between worker processes (runtime/tests/http/dispatch_e2e.py): a fast request on a
# keep-alive connection whose worker runs a slow script is answered by an idle worker (classic and
# worker mode), pipelined order and request bodies across a hand-off, a receiver that dies, and
# the 10 %-slow mix under keep-alive load with rolling restarts, a SIGKILL and a SIGTERM drain.
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/dispatch_e2e.py build/runtime/ephpm
