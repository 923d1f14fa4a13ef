#!/usr/bin/env bash
# PHP-level contract suite of the ephpm_kv_* functions, run under `ephpm php`, and the check that
# the committed arginfo headers are what gen_stub.php makes of the stubs (scripts/gen-arginfo.sh).
# Each run prints "N passed, M failed"; the suite fails if any run fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh release ephpm ephpm-test-hooks >/dev/null || { echo "build failed"; exit 1; }
EPHPM=$PWD/build/runtime/ephpm
HOOKS_BIN=$PWD/build/runtime/ephpm-test-hooks
status=0
echo "--- arginfo headers vs stubs (gen_stub.php)"
bash scripts/gen-arginfo.sh --check || { echo "--- arginfo: FAILED"; status=1; }
T=$PWD/runtime/php/tests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"   # no stray ./ephpm.toml

run() {  # run LABEL [ENV=...] -- FILES...   (the binary is $bin, default $EPHPM)
  local label=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  echo "--- $label"
  if ! env -u EPHPM_CONFIG "${envs[@]}" "${bin:-$EPHPM}" php "$T/run.php" "$@"; then
    echo "--- $label: FAILED"
    status=1
  fi
}

cat > tiny.toml <<'TOML'
[kv]
memory_limit = "1MB"
eviction_policy = "noeviction"
shards = 1
TOML

run "contract (default [kv], sweeper on)" -- "$T/contract_test.php"
run "reflection vs ephpm_kv.stub.php, strict_types" -- "$T/reflection_test.php" "$T/strict_test.php"
bin=$HOOKS_BIN run "thread wake-up, cancellation, watch slots, C++ boundary (ephpm-test-hooks)" -- "$T/hooks_test.php"
run "lazy expiry (EPHPM_KV_SWEEPER=0)" EPHPM_KV_SWEEPER=0 -- "$T/nosweeper_test.php"
run "[kv] from EPHPM_CONFIG: 1MB noeviction" EPHPM_CONFIG="$tmp/tiny.toml" -- "$T/config_test.php"
for algo in gzip brotli zstd; do
  printf '[kv]\nmemory_limit = "8MB"\nshards = 4\ncompression = "%s"\n' "$algo" >"compress-$algo.toml"
  run "[kv] compression = \"$algo\"" EPHPM_CONFIG="$tmp/compress-$algo.toml" \
    EPHPM_TEST_COMPRESSION=$algo -- "$T/compression_test.php"
done
echo "--- [kv] compression settings that cannot be used: exit 2, file, key and reason"
printf '[kv]\ncompression = "gzip"\ncompression_level = 12\n' >bad-level.toml
out=$(env EPHPM_CONFIG="$tmp/bad-level.toml" "$EPHPM" php -r 'echo "script-ran\n";' 2>&1)
rc=$?
expected="bad-level.toml: [kv] compression_level: level 12 out of range for gzip (1..9)"
if [ $rc -eq 2 ] && [[ "$out" == *"$expected"* ]] && [[ "$out" != *script-ran* ]]; then
  echo "1 passed, 0 failed"
else
  echo "FAIL: exit $rc, output: $out"
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
