#!/usr/bin/env bash
# Native ephpm_kv_* from PHP vs APCu and a PHP array (same process, same run, OPcache on), plus
# `ephpm php` start-up time vs php-cli. Writes bench/results/php-native.md (raw JSON in
# bench/results/raw/php-native.json).
#
#   EPHPM_BIN=...                 the ephpm binary (default build/runtime/ephpm; `make build`)
#   BENCH_ITER=1000000 BENCH_ITER_64K=200000 BENCH_RUNS=5 BENCH_WARMUP=100000
#   BENCH_STARTUP_RUNS=50
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
ephpm=${EPHPM_BIN:-$root/build/runtime/ephpm}
out=$root/bench/results/php-native.md
raw=$root/bench/results/raw/php-native.json
startup_runs=${BENCH_STARTUP_RUNS:-50}
mkdir -p "$root/bench/results/raw"
unset EPHPM_CONFIG  # built-in [kv] defaults (256MB, allkeys-lru, 64 shards)
[ -x "$ephpm" ] || { echo "bench/php-native: $ephpm not found: run \`make build\` first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "bench/php-native: per-operation loops (a few minutes)..." >&2
(cd "$tmp" && "$ephpm" php -d opcache.enable_cli=1 -d opcache.jit=0 -d apc.enable_cli=1 \
  -d apc.shm_size=64M -d memory_limit=-1 "$root/bench/php-native/bench.php") > "$raw"

# Start-up: wall time of N sequential runs of a trivial script, in ms per run; best of 3 loops.
time_runs() {
  local best=""
  for _ in 1 2 3; do
    local start end ms
    start=$(date +%s%N)
    for ((i = 0; i < startup_runs; i++)); do "$@" >/dev/null; done
    end=$(date +%s%N)
    ms=$(( (end - start) / startup_runs / 1000 ))  # µs per run
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
# CPU time (task-clock, mean of N runs) is much less sensitive to other load on the machine than
# wall time; reported next to it when perf is available.
cpu_runs() {
  if command -v perf >/dev/null; then
    perf stat -r "$startup_runs" -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%d", $1 * 1000 }'
  else
    echo 0
  fi
}
echo "bench/php-native: start-up..." >&2
cd "$tmp"
su_php_n=$(time_runs php -n -r '')
su_ephpm_n=$(time_runs "$ephpm" php -n -r '')
su_php=$(time_runs php -r '')
su_ephpm=$(time_runs "$ephpm" php -r '')
cpu_php_n=$(cpu_runs php -n -r '')
cpu_ephpm_n=$(cpu_runs "$ephpm" php -n -r '')
cpu_php=$(cpu_runs php -r '')
cpu_ephpm=$(cpu_runs "$ephpm" php -r '')
cd "$root"

# Instruction counts per call (callgrind, function inclusive, without the VM loop): exact, so
# they are the number to compare across machines and under load.
ir_file=$tmp/ir.txt
: > "$ir_file"
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  echo "bench/php-native: callgrind..." >&2
  ir_n=100000
  (cd "$tmp" && EPHPM_KV_SWEEPER=0 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    "$ephpm" php -d apc.enable_cli=1 "$root/bench/php-native/ir.php" "$ir_n" >/dev/null 2>&1) || true
  if [ -f "$tmp/cg.out" ]; then
    { echo "calls $ir_n"; callgrind_annotate --inclusive=yes "$tmp/cg.out" 2>/dev/null; } > "$ir_file"
  fi
fi

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
load=$(cut -d' ' -f1-3 /proc/loadavg)
php "$root/bench/php-native/report.php" "$raw" "$su_php_n" "$su_ephpm_n" "$su_php" "$su_ephpm" \
  "$cpu_php_n,$cpu_ephpm_n,$cpu_php,$cpu_ephpm" "$ir_file" "$startup_runs" "$(nproc)" "$cpu" "$load" \
  "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- runtime 2>/dev/null || echo ' + uncommitted runtime changes')" > "$out"
cat "$out"
