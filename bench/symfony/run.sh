#!/usr/bin/env bash
# Symfony Cache adapters under `ephpm php`: EphpmKvAdapter (the in-process store) against ArrayAdapter, ApcuAdapter,
# RedisAdapter and MemcachedAdapter (real servers started here on free loopback ports, stopped by pid).
# getItem() hit, get($key, $cb) hit (without and with metadata) and miss, getItems() of 20 keys, save(); one ~1 KiB
# array value; median of 7 interleaved runs.
# OPcache on (as under `ephpm serve`), no JIT.
# Writes bench/results/symfony.md (and the raw JSON to bench/results/raw/symfony.json).
#
#   EPHPM_BIN=...   the ephpm binary (default build/runtime/ephpm; `make build`)
#   BENCH_RUNS=7 BENCH_TIME=0.2   runs per measurement and seconds per run
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
ephpm=${EPHPM_BIN:-$root/build/runtime/ephpm}
out=$root/bench/results/symfony.md
raw=$root/bench/results/raw/symfony.json
mkdir -p "$root/bench/results/raw"

[ -x "$ephpm" ] || { echo "bench/symfony: $ephpm not found: run \`make build\` first" >&2; exit 1; }
if [ ! -f "$root/cache-symfony/vendor/autoload.php" ]; then
  (cd "$root/cache-symfony" && composer update --no-interaction --no-progress -q)
fi

free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'; }
wait_port() { for _ in $(seq 200); do php -r 'exit(@fsockopen("127.0.0.1", (int) $argv[1]) ? 0 : 1);' "$1" && return 0; sleep 0.05; done; return 1; }

tmp=$(mktemp -d)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
memcached_port=$(free_port)
memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 64 -u "$(id -un)" >"$tmp/memcached.log" 2>&1 &
memcached_pid=$!
cleanup() {
  kill "$redis_pid" "$memcached_pid" 2>/dev/null || true
  wait "$redis_pid" "$memcached_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_port "$redis_port" || { echo "redis-server did not start" >&2; exit 1; }
wait_port "$memcached_port" || { echo "memcached did not start" >&2; exit 1; }

echo "bench/symfony: running under $ephpm php (redis :$redis_port, memcached :$memcached_port)" >&2
REDIS_PORT=$redis_port MEMCACHED_PORT=$memcached_port \
  "$ephpm" php -d apc.enable_cli=1 -d opcache.enable_cli=1 -d memory_limit=512M "$root/bench/symfony/bench.php" >"$raw"
# Instruction counts per getItem() (callgrind), when valgrind is installed: unlike ns/op they do not depend on the
# load of a shared machine. Each figure = (run with N reads − run with 0 reads) / N.
ir_json=$root/bench/results/raw/symfony-instructions.json
rm -f "$ir_json"
if command -v valgrind >/dev/null; then
  echo "bench/symfony: instruction counts (callgrind)" >&2
  ir() { # adapter keys reads
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$ephpm" php -d apc.enable_cli=1 -d opcache.enable_cli=1 \
      "$root/bench/symfony/instructions.php" "$@" 2>&1 | sed -n 's/.*Collected : //p'
  }
  reads=4000
  {
    echo '{'
    sep=''
    for adapter in EphpmKvAdapter ArrayAdapter ApcuAdapter; do
      for keys in 1 2000; do
        base=$(ir "$adapter" "$keys" 0)
        full=$(ir "$adapter" "$keys" "$reads")
        printf '%s"%s/%s": %d\n' "$sep" "$adapter" "$keys" $(( (full - base) / reads ))
        sep=','
      done
    done
    echo '}'
  } >"$ir_json"
fi

php "$root/bench/symfony/report.php" "$raw" "$ir_json" >"$out"
cat "$out"
