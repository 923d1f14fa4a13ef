#!/usr/bin/env bash
# Memory per entry: ephpm's store vs redis-server holding the same 1M entries (16-byte keys,
# 32-byte values). Starts its own redis-server on a free loopback port and stops it by pid.
# Writes bench/results/kv-memory.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
bash scripts/build.sh release kv_memory >/dev/null

ours=$(build/runtime/bench/kv_memory "$N")
used=$(awk '/used_memory_per_entry/ {print $2}' <<<"$ours")
resident=$(awk '/resident_per_entry/ {print $2}' <<<"$ours")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$dir" >"$dir/redis.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
empty=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
  k = sprintf("key:%012d", i); v = sprintf("value:%026d", i);
  printf "*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$32\r\n%s\r\n", k, v } }' | redis-cli -p "$port" --pipe >/dev/null
full=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
keys=$(redis-cli -p "$port" dbsize)
redis_per=$(awk -v a="$full" -v b="$empty" -v n="$keys" 'BEGIN { printf "%.1f", (a - b) / n }')
version=$(redis-server --version | awk "{print \$3}" | sed "s/v=//")

mkdir -p bench/results
{
  echo "# Memory per entry: $N entries, 16-byte keys, 32-byte values"
  echo
  echo "Machine: $(nproc) CPUs, $(uname -r); $(date -u +%Y-%m-%d). redis-server $version (used_memory delta)."
  echo
  echo "| Store | bytes/entry | vs Redis |"
  echo "|---|---:|---:|"
  echo "| ephpm used_memory (entry blocks) | $used | $(awk -v a="$used" -v b="$redis_per" 'BEGIN{printf "%.2f×", a/b}') |"
  echo "| ephpm resident (entries + touched index) | $resident | $(awk -v a="$resident" -v b="$redis_per" 'BEGIN{printf "%.2f×", a/b}') |"
  echo "| redis-server used_memory | $redis_per | 1.00× |"
} | tee bench/results/kv-memory.md
