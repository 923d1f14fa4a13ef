#!/usr/bin/env bash
# The store between Unix users and in a small /dev/shm (README "Trust model"), with real servers:
#  * a second user starting `ephpm serve` with the same config path gets its own store: it neither
#    blocks the first user's server nor reads its values, and its `ephpm php` does not attach to it;
#  * an object of the victim's store name planted by another user is refused (serve exits 1 with a
#    message, `ephpm php` uses a private store), and the other user cannot open the real one;
#  * an object chmod'ed 0666 is refused by `ephpm php`;
#  * a /dev/shm smaller than [kv] memory_limit (a private mount namespace with a 16 MB tmpfs) makes
#    `ephpm serve` exit 1 with a message naming /dev/shm, its size, memory_limit and the fix, and a
#    store that fits keeps working (no SIGBUS) after the tmpfs has been filled by someone else.
# Needs root (creates a throwaway user, mounts a tmpfs); prints "skipped: not root" otherwise.
# Usage: ownership_test.sh path/to/ephpm
set -uo pipefail
EPHPM=$(realpath "$1")

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: not root (needs a throwaway user and a private mount namespace)"
  exit 0
fi

passed=0
failed=0
check() {  # name, then a command that must succeed
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

work=$(mktemp -d /tmp/ephpm-ownership.XXXXXX)
chmod 755 "$work"
other=ephpm-t$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  # an object the throwaway user planted, if a check failed before it was removed
  if [ -n "${root_store:-}" ] && [ "$(stat -c %u "/dev/shm$root_store" 2>/dev/null)" = "${other_uid:-x}" ]; then
    rm -f "/dev/shm$root_store"
  fi
  userdel "$other" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
useradd --no-create-home --shell /usr/sbin/nologin "$other" || { echo "useradd failed"; exit 1; }
other_uid=$(id -u "$other")

cat > "$work/index.php" <<'PHP'
<?php
if (isset($_GET['set'])) { ephpm_kv_set('secret', $_GET['set']); echo "set"; }
else { echo ephpm_kv_get('secret') ?? 'null'; }
PHP
write_config() {  # file, memory_limit
  printf '[server]\nlisten = "127.0.0.1:0"\ndocument_root = "%s"\n[kv]\nmemory_limit = "%s"\n[php]\nworkers = 1\n' \
    "$work" "$2" > "$1"
  chmod 644 "$1"
}
cfg=$work/ephpm.toml
write_config "$cfg" 8MB

as_other() { setpriv --reuid="$other_uid" --regid="$other_uid" --clear-groups -- "$@"; }

# Starts a server in the background (as "root" or "other"); sets $url and appends its pid to pids.
start() {
  local who=$1 log=$2
  shift 2
  if [ "$who" = other ]; then
    setpriv --reuid="$other_uid" --regid="$other_uid" --clear-groups -- "$EPHPM" serve "$@" > "$log" 2>&1 &
  else
    "$EPHPM" serve "$@" > "$log" 2>&1 &
  fi
  local pid=$!
  pids+=("$pid")
  url=""
  for _ in $(seq 1 200); do
    url=$(sed -n 's/^ephpm: listening on //p' "$log")
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  pids=()
}
store_of() { sed -n 's/.*kv store \(\/ephpm-[0-9]*-[0-9a-f]*\).*/\1/p' "$1" | head -1; }

echo "--- two users, one config path"
start other "$work/other.log" --config "$cfg"; other_url=$url
check "the other user's server starts first" test -n "$other_url"
start root "$work/root.log" --config "$cfg"; root_url=$url
check "our server starts too (no collision: the uid is in the store name)" test -n "$root_url"
root_store=$(store_of "$work/root.log")
other_store=$(store_of "$work/other.log")
check "store names carry the uid" \
  bash -c "[[ '$root_store' == /ephpm-0-* && '$other_store' == /ephpm-$other_uid-* ]]"
curl -s "$root_url/?set=ours" > /dev/null
curl -s "$other_url/?set=theirs" > /dev/null
check "each server sees its own value" \
  bash -c "[ \"\$(curl -s '$root_url/')\" = ours ] && [ \"\$(curl -s '$other_url/')\" = theirs ]"
out=$(as_other "$EPHPM" --config "$cfg" php -r 'echo ephpm_kv_get("secret") ?? "null";' 2>&1)
check "the other user's ephpm php attaches to its own store only" test "$out" = theirs
out=$("$EPHPM" --config "$cfg" php -r 'echo ephpm_kv_get("secret") ?? "null";' 2>&1)
check "our ephpm php attaches to ours" test "$out" = ours
mode=$(stat -c %a "/dev/shm$root_store")
check "our store object is mode 0600 (got $mode)" test "$mode" = 600
check "the other user cannot open our store object" \
  bash -c "! setpriv --reuid=$other_uid --regid=$other_uid --clear-groups -- cat /dev/shm$root_store > /dev/null 2>&1"

echo "--- an object chmod'ed 0666"
chmod 0666 "/dev/shm$root_store"
err=$("$EPHPM" --config "$cfg" php -r 'echo ephpm_kv_get("secret") ?? "null";' 2>&1 >/dev/null)
out=$("$EPHPM" --config "$cfg" php -r 'echo ephpm_kv_get("secret") ?? "null";' 2>/dev/null)
check "ephpm php refuses it (message names the mode) and uses a private store" \
  bash -c "[[ '$err' == *'has mode 0666, not 0600'* && '$out' == null ]]"
chmod 0600 "/dev/shm$root_store"
stop_all

echo "--- an object of our store name planted by another user"
check "our server removed its object on exit" test ! -e "/dev/shm$root_store"
as_other sh -c "umask 077; head -c 65536 /dev/zero > /dev/shm$root_store"
"$EPHPM" serve --config "$cfg" > "$work/planted.log" 2>&1
rc=$?
check "ephpm serve exits 1 (got $rc)" test "$rc" -eq 1
check "with a message naming the owner" grep -q "belongs to uid $other_uid" "$work/planted.log"
err=$("$EPHPM" --config "$cfg" php -r 'echo "ran";' 2>&1)
check "ephpm php does not attach, says why, and runs on a private store" \
  bash -c "[[ '$err' == *'belongs to another user'* || '$err' == *'belongs to uid'* ]] && [[ '$err' == *ran ]]"
check "the planted object is left alone" test "$(stat -c %u "/dev/shm$root_store")" = "$other_uid"
rm -f "/dev/shm$root_store"

echo "--- /dev/shm smaller than [kv] memory_limit"
big=$work/big.toml
write_config "$big" 64MB
unshare -m sh -c "mount -t tmpfs -o size=16m tmpfs /dev/shm && exec '$EPHPM' serve --config '$big'" \
  > "$work/small.log" 2>&1
rc=$?
cat "$work/small.log"
check "ephpm serve exits 1, not a signal (got $rc)" test "$rc" -eq 1
check "the message names /dev/shm and its size" grep -q "in /dev/shm (size 16 MiB" "$work/small.log"
check "the message names memory_limit and the fixes" \
  bash -c "grep -q 'memory_limit is 64 MiB' '$work/small.log' && grep -q -- '--shm-size=' '$work/small.log' && grep -q 'lower \[kv\] memory_limit' '$work/small.log'"
check "no bus error" bash -c "! grep -qi 'bus error' '$work/small.log'"

# A store that fits (8 MB in the 16 MB tmpfs): its pages are reserved, so filling the tmpfs
# afterwards cannot make a write fault. The server and the CLI run in the same private namespace.
cat > "$work/fill.sh" <<EOF
set -u
mount -t tmpfs -o size=16m tmpfs /dev/shm || exit 90
'$EPHPM' serve --config '$cfg' > '$work/fits.log' 2>&1 &
server=\$!
for _ in \$(seq 1 200); do grep -q 'listening on' '$work/fits.log' && break; sleep 0.05; done
head -c 64m /dev/zero > /dev/shm/filler 2>/dev/null  # fills the tmpfs to the last page
df -h /dev/shm | tail -1
'$EPHPM' --config '$cfg' php -r '
  for (\$i = 0; \$i < 4000; \$i++) { ephpm_kv_set("k\$i", str_repeat("x", 2000)); }
  \$s = ephpm_kv_stats();
  echo \$s["keys"] > 1000 && \$s["used_memory"] > 4000000 ? "filled" : "too few: " . json_encode(\$s);'
rc=\$?
echo " rc=\$rc"
kill \$server; wait \$server
exit \$rc
EOF
out=$(unshare -m bash "$work/fill.sh" 2>&1)
rc=$?
echo "$out"
check "writes into a full tmpfs still succeed: pages were reserved (rc $rc)" \
  bash -c "[ $rc -eq 0 ] && [[ '$out' == *filled* ]]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
