#!/usr/bin/env bash
# GoogleTest suites of the release build (store, config, http units).
set -euo pipefail
bash scripts/build.sh release
cd build && ctest --output-on-failure --timeout 300 -j2
