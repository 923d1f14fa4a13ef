#!/usr/bin/env bash
# HTTP benchmark: ephpm serve vs nginx + php-fpm (static 2 / 8 children) vs php -S, with wrk.
# Writes bench/results/http.md. QUICK=1 for a short smoke run; see bench/http/bench.py for knobs.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 bench/http/bench.py "$@"
