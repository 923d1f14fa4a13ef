#!/usr/bin/env bash
# `make bench`: every benchmark of the project in one go, side by side on this machine, then
# bench/results/latest.md (machine, versions, tables with ratios against the best peer) and PNG plots
# (gnuplot) in bench/results/. About 10 minutes on 2 cores; each figure is the median of BENCH_RUNS runs.
#
#   1. builds what it needs (scripts/build.sh release ephpm kv_bench kv_memory)
#   2. store vs map + mutex (kv_bench)          4. phpredis / Memcached from PHP (bench/all/net_clients.php)
#   3. native ephpm_kv_* vs APCu / array        5. Symfony adapters          6. HTTP (wrk; with the Symfony app
#                                                                              in worker / classic mode vs php-fpm)
#   7. memory per entry vs redis-server         8. sessions and locks vs Redis / files / flock
#   9. bench/all/report.py -> latest.md + *.png
#
# Every server (redis-server, memcached, nginx, php-fpm, ephpm serve, php -S) is started by the
# scripts on a free 127.0.0.1 port and stopped by pid. Raw data and logs: bench/results/raw/latest/.
# The sub-scripts also rewrite their own reports (bench/results/{kv-memory,php-native,symfony,http,sessions-locks}.md).
#
# Knobs (environment):
#   BENCH_RUNS=5          runs per figure (median, min–max shown)
#   BENCH_ONLY=a,b        only these steps: store,native,net,symfony,http,memory,sessions,resp (the report still runs)
#   QUICK=1               smoke test: short runs everywhere (numbers are not meaningful)
#   KV_MIN_TIME=0.1       seconds per kv_bench repetition
#   BENCH_ITER=500000 BENCH_ITER_64K=50000 BENCH_WARMUP=50000 BENCH_STARTUP_RUNS=20   (php-native)
#   BENCH_NET_ITER=4000   round trips per run for phpredis / Memcached
#   BENCH_TIME=0.2        seconds per run and operation (Symfony)
#   HTTP_DURATION=5 HTTP_SOAK=10   seconds per wrk run / RSS soak
#   KV_ENTRIES=1000000    entries for the memory comparison
#   RESP_REQUESTS=200000  requests per redis-benchmark test and run (RESP listener vs redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=${BENCH_RUNS:-5}
only=${BENCH_ONLY:-}
if [ "${QUICK:-0}" = 1 ]; then
  q_resp=20000 q_kv=0.01 q_iter=50000 q_iter64=5000 q_warm=5000 q_su=3 q_net=300 q_sym=0.03 q_dur=1 q_soak=1 q_entries=100000
else
  q_resp=200000 q_kv=0.1 q_iter=500000 q_iter64=50000 q_warm=50000 q_su=20 q_net=4000 q_sym=0.2 q_dur=5 q_soak=10 q_entries=1000000
fi
kv_min_time=${KV_MIN_TIME:-$q_kv}
iter=${BENCH_ITER:-$q_iter}
iter64=${BENCH_ITER_64K:-$q_iter64}
warmup=${BENCH_WARMUP:-$q_warm}
startup_runs=${BENCH_STARTUP_RUNS:-$q_su}
net_iter=${BENCH_NET_ITER:-$q_net}
sym_time=${BENCH_TIME:-$q_sym}
http_duration=${HTTP_DURATION:-$q_dur}
http_soak=${HTTP_SOAK:-$q_soak}
entries=${KV_ENTRIES:-$q_entries}
resp_requests=${RESP_REQUESTS:-$q_resp}

raw=$root/bench/results/raw/latest
ephpm=$root/build/runtime/ephpm
t0=$(date +%s)
say() { printf '[bench %s +%ds] %s\n' "$(date -u +%H:%M:%S)" "$(($(date +%s) - t0))" "$*" >&2; }
load1() { cut -d' ' -f1-3 /proc/loadavg; }
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

missing=()
for tool in gnuplot php php-fpm8.2 redis-server redis-cli memcached nginx wrk cmake ninja composer python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "bench: missing ${missing[*]}: run \`make deps\` first" >&2
  exit 1
fi

rm -rf "$raw"
mkdir -p "$raw"
: >"$raw/steps.tsv"
# The revision measured (others may commit while this runs) and how many tracked files outside
# bench/ (scripts and results, not the code measured) differ from it.
printf '%s %s\n' "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  "$(git status --porcelain --untracked-files=no -- . ':(exclude)bench' 2>/dev/null | wc -l)" >"$raw/git-rev.txt"
failed=()

# step NAME COMMAND...: runs COMMAND with its output in $raw/NAME.log, records time and load.
# (COMMAND runs in an `||` list, where `set -e` does not apply: the step functions check each
# command themselves, so a failed benchmark never passes on an older run's raw file.)
step() {
  local name=$1 start before rc=0
  shift
  before=$(load1)
  start=$(date +%s)
  say "$name: started (load $before)"
  "$@" >"$raw/$name.log" 2>&1 || rc=$?
  local secs=$(($(date +%s) - start)) status=ok
  if ((rc)); then
    status="FAILED (exit $rc)"
    failed+=("$name")
    say "$name: FAILED, exit $rc; last lines of $raw/$name.log:"
    tail -n 15 "$raw/$name.log" >&2 || true
  else
    say "$name: done in ${secs}s"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$before" "$(load1)" "$status" >>"$raw/steps.tsv"
}

build() { bash scripts/build.sh release ephpm kv_bench kv_memory; }

store() {
  "$root/build/runtime/bench/kv_bench" --benchmark_min_time="$kv_min_time" --benchmark_repetitions="$runs" \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=false \
    --benchmark_out="$raw/kv_bench.json" --benchmark_out_format=json --benchmark_format=console
}

native() {
  BENCH_ITER=$iter BENCH_ITER_64K=$iter64 BENCH_RUNS=$runs BENCH_WARMUP=$warmup BENCH_STARTUP_RUNS=$startup_runs \
    bash bench/php-native/run.sh || return
  cp bench/results/raw/php-native.json "$raw/php-native.json"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

net() {
  local tmp rport mport rpid mpid rc=0
  tmp=$(mktemp -d)
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
  rpid=$!
  mport=$(free_port)
  memcached -l 127.0.0.1 -p "$mport" -U 0 -m 256 -I 2m -u "$(id -un)" >"$tmp/memcached.log" 2>&1 &
  mpid=$!
  if wait_port "$rport" && wait_port "$mport"; then
    (cd "$tmp" && REDIS_PORT=$rport MEMCACHED_PORT=$mport BENCH_NET_ITER=$net_iter BENCH_RUNS=$runs \
      BENCH_NET_WARMUP=$((net_iter / 10)) "$ephpm" php -d opcache.enable_cli=1 -d opcache.jit=0 -d memory_limit=-1 \
      "$root/bench/all/net_clients.php" >"$raw/net-clients.json") || rc=$?
  else
    echo "redis-server or memcached did not start" >&2
    rc=1
  fi
  kill "$rpid" "$mpid" 2>/dev/null || true
  wait "$rpid" "$mpid" 2>/dev/null || true
  rm -rf "$tmp"
  return $rc
}

symfony() {
  BENCH_RUNS=$runs BENCH_TIME=$sym_time bash bench/symfony/run.sh || return
  cp bench/results/raw/symfony.json "$raw/symfony.json"
  # callgrind instruction counts, written by bench/symfony/run.sh when valgrind is installed
  if [ -s bench/results/raw/symfony-instructions.json ]; then
    cp bench/results/raw/symfony-instructions.json "$raw/symfony-instructions.json"
  fi
}

http() {
  local marker=$raw/http.start
  touch "$marker"
  sleep 1
  RUNS=$runs DURATION=$http_duration SOAK=$http_soak QUICK=0 bash bench/http/run.sh || return
  mkdir -p "$raw/http"
  # Only this run's per-run wrk outputs (the directory keeps older ones).
  find bench/results/raw/http -maxdepth 1 -name '*-run*.txt' -newer "$marker" -exec cp {} "$raw/http/" \;
}

memory() {
  local i
  for ((i = 1; i <= runs; i++)); do
    N=$entries bash bench/kv-memory.sh >"$raw/kv-memory-$i.txt" || return
  done
}

resp() {
  BENCH_RUNS=$runs RESP_REQUESTS=$resp_requests bash bench/resp/run.sh || return
  cp bench/results/raw/resp.json "$raw/resp.json"
}

sessions() {
  BENCH_RUNS=$runs BENCH_TIME=$sym_time bash bench/sessions-locks/run.sh || return
  cp bench/results/raw/sessions-locks.json "$raw/sessions-locks.json"
}

say "make bench: $runs runs per figure$([ "${QUICK:-0}" = 1 ] && echo ' (QUICK smoke run)'); load $(load1)"
step build build
if [ ! -x "$ephpm" ]; then
  say "no $ephpm after the build: stopping"
  exit 1
fi
want store && step store store
want native && step native native
want net && step net net
want symfony && step symfony symfony
want http && step http http
want memory && step memory memory
want sessions && step sessions sessions
want resp && step resp resp

say "report: latest.md and plots"
python3 bench/all/report.py "$raw" "$root/bench/results"
say "total $(($(date +%s) - t0))s; load $(load1)"
if ((${#failed[@]})); then
  say "failed steps: ${failed[*]} (logs in $raw/)"
  exit 1
fi
