#!/usr/bin/env bash
# The store between Unix users and in a small /dev/shm (runtime/tests/kv/ownership_test.sh): other
# users neither collide with nor attach to our store, a 0666 object is refused, a /dev/shm smaller
# than [kv] memory_limit is a clear start-up error (exit 1), never a SIGBUS. Needs root; prints
# "skipped: not root" otherwise.
set -euo pipefail
bash scripts/build.sh release ephpm >/dev/null
bash runtime/tests/kv/ownership_test.sh build/runtime/ephpm
