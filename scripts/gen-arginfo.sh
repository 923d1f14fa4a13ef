#!/usr/bin/env bash
# Generates the arginfo header of every runtime/php/*.stub.php (foo.stub.php -> foo_arginfo.h) with
# PHP's own gen_stub.php from php8.2-dev, so the signatures PHP code sees (Reflection, TypeError,
# named arguments) are exactly the stubs'. Run after editing a stub (`make arginfo`) and commit the
# headers.
#
#   scripts/gen-arginfo.sh           regenerate the headers in runtime/php
#   scripts/gen-arginfo.sh --check   regenerate into a temporary directory and compare with the
#                                    committed headers; exit 1 (with the diff) when one differs
#
# gen_stub.php would download nikic/PHP-Parser 4.15 from GitHub; it runs here from a private copy
# that finds Debian's php-parser package (4.15.x, /usr/share/php/PhpParser) in its place instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-write}
case "$mode" in write|--check) ;; *) echo "gen-arginfo.sh: unknown option '$mode' (--check)" >&2; exit 2 ;; esac

gen_stub=$(ls /usr/lib/php/*/build/gen_stub.php 2>/dev/null | head -n 1 || true)
[ -n "$gen_stub" ] || { echo "gen-arginfo.sh: gen_stub.php not found: install php8.2-dev (scripts/deps.sh)" >&2; exit 2; }
[ -d /usr/share/php/PhpParser ] || { echo "gen-arginfo.sh: /usr/share/php/PhpParser not found: install php-parser (scripts/deps.sh)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$gen_stub" "$tmp/gen_stub.php"
parser_version=$(sed -n 's/^ *\$version = "\([0-9.]*\)";/\1/p' "$gen_stub" | head -n 1)
mkdir -p "$tmp/PHP-Parser-$parser_version"
ln -s /usr/share/php "$tmp/PHP-Parser-$parser_version/lib"

passed=0
failed=0
for stub in runtime/php/*.stub.php; do
  name=$(basename "$stub" .stub.php)
  cp "$stub" "$tmp/$name.stub.php"
  # -f: regenerate even when the hash in an existing header says the stub is unchanged.
  php "$tmp/gen_stub.php" -f "$tmp/$name.stub.php" >/dev/null
  header=runtime/php/${name}_arginfo.h
  if [ "$mode" = write ]; then
    cp "$tmp/${name}_arginfo.h" "$header"
    echo "gen-arginfo.sh: $header"
  elif diff -u "$header" "$tmp/${name}_arginfo.h"; then
    echo "ok   $header matches $stub"
    passed=$((passed + 1))
  else
    echo "FAIL $header does not match $stub: run \`make arginfo\` and commit the header"
    failed=$((failed + 1))
  fi
done
if [ "$mode" = --check ]; then
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
fi
