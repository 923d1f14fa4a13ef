#!/usr/bin/env bash
# The README walk-throughs end to end (examples/tests/examples_test.py): examples/my-app (the fresh-project counter,
# `make demo`, the health check, restart) and examples/symfony-app (a Symfony 7.4 app on ephpm/symfony-bundle: cache
# hits/misses, pool isolation, PSR-16, the profiler in dev, `ephpm --config ephpm.toml php bin/console
# cache:pool:clear|delete` acting on the running server's store, or on a private one with a notice; concurrent
# requests of one session keep both updates, a LockFactory lock is never held twice, the 11th limited request is 429), in
# classic and then in worker mode (ephpm.worker.toml copied over ephpm.toml for that pass: ephpm/symfony-runtime,
# per-request state not leaking, RSS per worker over 10,000 requests, SIGHUP rolling restart).
# Needs: composer (Packagist), curl, python3; builds build/runtime/ephpm. Servers listen on free loopback ports.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fail() { echo "60-examples: $*" >&2; exit 1; }
command -v composer >/dev/null || fail "composer missing: run \`make deps\`"
command -v curl >/dev/null || fail "curl missing: run \`make deps\`"
command -v python3 >/dev/null || fail "python3 missing: run \`make deps\`"
JOBS=${JOBS:-2} bash scripts/build.sh release ephpm || fail "build failed"
[ -x build/runtime/ephpm ] || fail "build/runtime/ephpm missing after the build"
python3 examples/tests/examples_test.py "$root"
