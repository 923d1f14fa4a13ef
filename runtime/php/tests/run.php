<?php
// A tiny test runner for the PHP-level suites of runtime/php (run under `ephpm php`).
//
//   ephpm php runtime/php/tests/run.php FILE.php [FILE.php ...]
//
// Test files call test('name', function () { ... }) and use the check helpers below. Every check
// counts; the last line is exactly "N passed, M failed" and the exit code is 0 only when M is 0.
// An exception escaping a test counts as one failed check.

final class T
{
    public static int $passed = 0;
    public static int $failed = 0;
    public static string $test = '';
    /** @var list<string> */
    public static array $only = [];

    public static function record(bool $ok, string $what): bool
    {
        if ($ok) {
            self::$passed++;
            return true;
        }
        self::$failed++;
        $where = '';
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
            if (isset($frame['file']) && $frame['file'] !== __FILE__) {
                $where = basename($frame['file']) . ':' . $frame['line'];
                break;
            }
        }
        fwrite(STDOUT, "FAIL [" . self::$test . "] $where: $what\n");
        return false;
    }

    public static function export(mixed $v): string
    {
        if (is_string($v)) {
            if (strlen($v) > 80) {
                return 'string(' . strlen($v) . ') "' . addcslashes(substr($v, 0, 40), "\0..\37\177..\377") . '..."';
            }
            return '"' . addcslashes($v, "\0..\37\177..\377") . '"';
        }
        $s = var_export($v, true);
        return strlen($s) > 300 ? substr($s, 0, 300) . '...' : $s;
    }
}

function test(string $name, callable $fn): void
{
    if (T::$only && !in_array($name, T::$only, true)) {
        return;
    }
    T::$test = $name;
    if (function_exists('ephpm_kv_flush_all')) {
        ephpm_kv_flush_all();
    }
    try {
        $fn();
    } catch (Throwable $e) {
        T::record(false, 'unexpected ' . get_class($e) . ': ' . $e->getMessage() . ' at '
            . basename($e->getFile()) . ':' . $e->getLine());
    }
}

function check(bool $cond, string $what = 'condition'): bool
{
    return T::record($cond, $what);
}

function same(mixed $expected, mixed $actual, string $what = ''): bool
{
    return T::record($expected === $actual, ($what !== '' ? "$what: " : '')
        . 'expected ' . T::export($expected) . ', got ' . T::export($actual));
}

/** Asserts that $fn throws $class (exactly or a subclass) and, if given, that the message contains $contains. */
function throws(string $class, callable $fn, string $contains = '', string $what = ''): bool
{
    try {
        $fn();
    } catch (Throwable $e) {
        $ok = $e instanceof $class && ($contains === '' || str_contains($e->getMessage(), $contains));
        return T::record($ok, ($what !== '' ? "$what: " : '') . "expected $class"
            . ($contains !== '' ? " containing '$contains'" : '') . ', got ' . get_class($e) . ': ' . $e->getMessage());
    }
    return T::record(false, ($what !== '' ? "$what: " : '') . "expected $class, nothing thrown");
}

function ms_since(int $t0): float
{
    return (hrtime(true) - $t0) / 1e6;
}

$files = array_slice($argv, 1);
if (getenv('ONLY')) {
    T::$only = explode(';', getenv('ONLY'));  // ONLY='test name;other test name'
}
if (!$files) {
    fwrite(STDERR, "usage: run.php TEST.php [...]\n");
    exit(2);
}
foreach ($files as $file) {
    require $file;
}
echo T::$passed, ' passed, ', T::$failed, " failed\n";
exit(T::$failed === 0 ? 0 : 1);
