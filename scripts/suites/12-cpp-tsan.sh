#!/usr/bin/env bash
# The store's concurrency tests under ThreadSanitizer.
set -euo pipefail
bash scripts/build.sh tsan
cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --timeout 600 -j2 -L concurrency
