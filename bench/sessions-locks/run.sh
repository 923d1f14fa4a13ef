#!/usr/bin/env bash
# Sessions and locks: the native `ephpm` session save handler vs phpredis's `redis` handler (with and without its
# session locking) vs `files`; Symfony Lock's EphpmKvStore vs RedisStore vs FlockStore (acquire + release, and the
# hand-over of a blocking lock between two processes). Everything runs under `ephpm php` (OPcache on, as under serve);
# redis-server is started here on a free loopback port and stopped by pid.
# Writes bench/results/sessions-locks.md (raw JSON: bench/results/raw/sessions-locks.json).
#
#   EPHPM_BIN=...     the ephpm binary (default build/runtime/ephpm; `make build`)
#   BENCH_RUNS=5      runs per case (the median is reported)   BENCH_TIME=0.5   seconds per run
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
ephpm=${EPHPM_BIN:-$root/build/runtime/ephpm}
out=$root/bench/results/sessions-locks.md
raw=$root/bench/results/raw/sessions-locks.json
mkdir -p "$root/bench/results/raw"

[ -x "$ephpm" ] || { echo "bench/sessions-locks: $ephpm not found: run \`make build\` first" >&2; exit 1; }
if [ ! -f "$root/symfony-bundle/vendor/autoload.php" ]; then
  (cd "$root/symfony-bundle" && composer update --no-interaction --no-progress -q)
fi

free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'; }
tmp=$(mktemp -d)
mkdir -p "$tmp/sessions" "$tmp/locks"
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 200); do
  php -r 'exit(@fsockopen("127.0.0.1", (int) $argv[1]) ? 0 : 1);' "$redis_port" && break
  sleep 0.05
done

echo "bench/sessions-locks: running under $ephpm php (redis :$redis_port)" >&2
(cd "$tmp" && env -u EPHPM_CONFIG REDIS_PORT=$redis_port BENCH_TMP=$tmp \
  BUNDLE_AUTOLOAD=$root/symfony-bundle/vendor/autoload.php \
  "$ephpm" php -d opcache.enable_cli=1 -d memory_limit=512M "$root/bench/sessions-locks/bench.php") >"$raw"
php "$root/bench/sessions-locks/report.php" "$raw" "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" >"$out"
cat "$out"
