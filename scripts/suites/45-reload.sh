#!/usr/bin/env bash
# Configuration reload and logs (runtime/tests/http/reload_e2e.py): SIGHUP with a switched
# release symlink under load (0 failed requests), a broken config rejected while the server keeps
# serving, start-up-bound keys reported and kept, INI / workers / log format taking effect;
# `ephpm check` exit codes; access log formats (combined, json) parsed; SIGUSR1 reopening.
set -euo pipefail
bash scripts/build.sh release
python3 runtime/tests/http/reload_e2e.py build/runtime/ephpm
