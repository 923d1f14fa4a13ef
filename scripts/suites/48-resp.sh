#!/usr/bin/env bash
# The Redis-protocol listener ([kv.redis_compat], runtime/resp) end to end under `ephpm serve`
# (runtime/tests/resp/resp_e2e.py): redis-cli sessions, values crossing between PHP
# (ephpm_kv_*) and RESP, pipelining, hostile frames, limits, AUTH, config errors, the RESP fuzz run
# (seed printed, EPHPM_RESP_FUZZ_SEED replays it), and the PHP clients: phpredis, Predis, Symfony's
# stock RedisAdapter (cache/integration-tests' PSR-6 / PSR-16 suites) and RedisSessionHandler
# (runtime/tests/resp/php, a Composer project installed here). The GoogleTest parts (parser,
# commands, Store::Update) run in suites 10 and 11.
# Needs: redis-cli (redis-tools), php with the redis extension, composer, php-cache-integration-tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh release ephpm
project=runtime/tests/resp/php
if ! out=$(cd "$project" && COMPOSER_NO_INTERACTION=1 composer update --no-interaction --no-progress 2>&1); then
  echo "$out"
  echo "48-resp: composer failed in $project" >&2
  exit 1
fi
EPHPM_RESP_PHP_CLIENTS=$PWD/$project python3 runtime/tests/resp/resp_e2e.py build/runtime/ephpm
