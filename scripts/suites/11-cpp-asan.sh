#!/usr/bin/env bash
# The same C++ suites under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
bash scripts/build.sh asan
cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 600 -j2
