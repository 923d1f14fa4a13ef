#!/usr/bin/env bash
# `ephpm php` behaves like php-cli (exit codes, argv, -r/-d/-n/-c/-v/-m, stdin, STDIN/STDOUT/
# STDERR, php.ini and extensions, config lookup), and Debian's PHPUnit 9.6 runs unchanged
# under it.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh release ephpm >/dev/null || { echo "build failed"; exit 1; }
ROOT=$PWD
EPHPM=$ROOT/build/runtime/ephpm
status=0

echo "--- CLI behaviour"
bash runtime/php/tests/cli_test.sh "$EPHPM" || status=1

echo "--- /usr/bin/phpunit under ephpm php"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$(cd "$tmp" && env -u EPHPM_CONFIG "$EPHPM" php /usr/bin/phpunit -c "$ROOT/runtime/php/tests/phpunit/phpunit.xml" 2>&1)
rc=$?
echo "$out" | tail -3
if [ $rc -ne 0 ] || [[ "$out" != *"OK ("* ]]; then echo "phpunit suite FAILED (rc=$rc)"; status=1; fi

# A failing PHPUnit test must give exit code 1, as under php-cli.
cat > "$tmp/FailingTest.php" <<'PHP'
<?php
final class FailingTest extends PHPUnit\Framework\TestCase
{
    public function testFails(): void { self::assertSame(1, 2); }
}
PHP
(cd "$tmp" && "$EPHPM" php /usr/bin/phpunit FailingTest.php >/dev/null 2>&1)
rc=$?
if [ $rc -eq 1 ]; then echo "failing phpunit test -> exit 1: ok"; else echo "failing phpunit test gave exit $rc, expected 1"; status=1; fi
exit $status
