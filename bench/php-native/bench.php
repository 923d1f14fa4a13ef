<?php
// ns/op of the native ephpm_kv_* functions against APCu and a PHP array, measured from PHP in one
// process (docs/anchors.md section 2 method): hrtime(true) around an inline loop, after a warm-up,
// median (and min-max) of BENCH_RUNS runs; the ephpm and APCu runs of a comparison alternate.
// Run by bench/php-native/run.sh under
//   ephpm php -d opcache.enable_cli=1 -d apc.enable_cli=1 bench.php
// Prints one JSON document on stdout.

$iterations = (int) (getenv('BENCH_ITER') ?: 1_000_000);
$iterations64k = (int) (getenv('BENCH_ITER_64K') ?: 200_000);
$runs = (int) (getenv('BENCH_RUNS') ?: 5);
$warmup = (int) (getenv('BENCH_WARMUP') ?: 100_000);

if (!function_exists('ephpm_kv_get') || !function_exists('apcu_fetch') || !apcu_enabled()) {
    fwrite(STDERR, "needs ephpm php with -d apc.enable_cli=1\n");
    exit(2);
}

function summary(array $samples, int $n): array
{
    sort($samples);
    return ['median' => $samples[intdiv(count($samples), 2)], 'min' => $samples[0], 'max' => $samples[count($samples) - 1], 'n' => $n];
}

function measure(callable $loop, int $n, int $runs, int $warmup): array
{
    $loop(min($warmup, $n));
    $samples = [];
    for ($r = 0; $r < $runs; $r++) {
        $samples[] = $loop($n) / $n;
    }
    return summary($samples, $n);
}

// Two loops compared as a ratio: their runs alternate (A B, B A, A B, ...), so that a change of
// machine load during the measurement lands on both sides. Measuring all of A's runs, then all of
// B's, put whatever load happened to run during one block into the ratio: on a busy 2-core
// machine that swung ephpm_kv_incr / apcu_inc between 0.75x and 1.44x from run to run.
function measure_pair(callable $a, callable $b, int $n, int $runs, int $warmup): array
{
    $a(min($warmup, $n));
    $b(min($warmup, $n));
    $sa = $sb = [];
    for ($r = 0; $r < $runs; $r++) {
        if ($r % 2 === 0) {
            $sa[] = $a($n) / $n;
            $sb[] = $b($n) / $n;
        } else {
            $sb[] = $b($n) / $n;
            $sa[] = $a($n) / $n;
        }
    }
    return [summary($sa, $n), summary($sb, $n)];
}

// Appends the ephpm and APCu rows of one comparison.
function pair_rows(array &$results, array $row, callable $ephpm, callable $apcu, int $n, int $runs, int $warmup): void
{
    [$e, $a] = measure_pair($ephpm, $apcu, $n, $runs, $warmup);
    $results[] = $row + ['kind' => 'ephpm'] + $e;
    $results[] = $row + ['kind' => 'apcu'] + $a;
}

// Each loop is a plain for loop around one call, returning elapsed ns; nothing else in the body.
function loop_empty(int $n): int { $t = hrtime(true); for ($i = 0; $i < $n; $i++) { } return hrtime(true) - $t; }
function loop_kv_get(int $n): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $v = ephpm_kv_get($k); } $e = hrtime(true) - $t; if (!is_string($v)) { throw new LogicException('miss'); } return $e; }
function loop_kv_set(int $n, string $value): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { ephpm_kv_set($k, $value); } return hrtime(true) - $t; }
function loop_kv_incr(int $n): int { $k = 'bench:ctr'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { ephpm_kv_incr($k); } return hrtime(true) - $t; }
function loop_apcu_fetch(int $n): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $v = apcu_fetch($k); } $e = hrtime(true) - $t; if (!is_string($v)) { throw new LogicException('miss'); } return $e; }
function loop_apcu_store(int $n, string $value): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { apcu_store($k, $value); } return hrtime(true) - $t; }
function loop_apcu_inc(int $n): int { $k = 'bench:ctr'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { apcu_inc($k); } return hrtime(true) - $t; }
function loop_array(int $n, array $a): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $v = $a[$k]; } $e = hrtime(true) - $t; if (!is_string($v)) { throw new LogicException('miss'); } return $e; }
// One bare copy of the value inside PHP (copy-on-write separation of a string): the reference
// for "exactly one copy, store -> PHP string".
function loop_string_copy(int $n, string $value): int { $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $c = $value; $c[0] = 'y'; } return hrtime(true) - $t; }

$results = [];
$sizes = ['64 B' => 64, '4 KiB' => 4096, '64 KiB' => 65536];

$results[] = ['op' => 'empty loop', 'size' => '', 'group' => 'base', 'kind' => 'ref'] + measure('loop_empty', $iterations, $runs, $warmup);

foreach ($sizes as $label => $bytes) {
    $n = $bytes >= 65536 ? $iterations64k : $iterations;
    $value = str_repeat('v', $bytes);
    $array = [];
    for ($i = 0; $i < 1000; $i++) {
        $array["key:$i"] = $value . $i;
    }
    $array['bench:key'] = $value;

    ephpm_kv_flush_all();
    ephpm_kv_set('bench:key', $value);
    if (ephpm_kv_get('bench:key') !== $value) {
        throw new LogicException('ephpm get check');
    }
    apcu_clear_cache();
    apcu_store('bench:key', $value);
    if (apcu_fetch('bench:key') !== $value) {
        throw new LogicException('apcu fetch check');
    }

    pair_rows($results, ['op' => 'get', 'size' => $label, 'group' => "get $label"], 'loop_kv_get', 'loop_apcu_fetch', $n, $runs, $warmup);
    $results[] = ['op' => 'get', 'size' => $label, 'group' => "get $label", 'kind' => 'array'] + measure(fn ($m) => loop_array($m, $array), $n, $runs, $warmup);
    pair_rows($results, ['op' => 'set', 'size' => $label, 'group' => "set $label"], fn ($m) => loop_kv_set($m, $value), fn ($m) => loop_apcu_store($m, $value), $n, $runs, $warmup);
    if ($bytes >= 4096) {
        $results[] = ['op' => 'string copy', 'size' => $label, 'group' => "copy $label", 'kind' => 'ref'] + measure(fn ($m) => loop_string_copy($m, $value), $n, $runs, $warmup);
    }
    unset($array);
}

// Batches of 20 keys x 64 B: mget/mset against APCu's array forms.
$batch = [];
for ($i = 0; $i < 20; $i++) {
    $batch["bench:batch:$i"] = str_repeat('b', 64);
}
$batchKeys = array_keys($batch);
ephpm_kv_mset($batch);
apcu_store($batch);
if (count(ephpm_kv_mget($batchKeys)) !== 20 || count(apcu_fetch($batchKeys)) !== 20) {
    throw new LogicException('batch check');
}
$nb = intdiv($iterations, 10);
pair_rows($results, ['op' => 'mget', 'size' => '20 x 64 B', 'group' => 'mget'], function ($m) use ($batchKeys) { $t = hrtime(true); for ($i = 0; $i < $m; $i++) { $v = ephpm_kv_mget($batchKeys); } return hrtime(true) - $t; }, function ($m) use ($batchKeys) { $t = hrtime(true); for ($i = 0; $i < $m; $i++) { $v = apcu_fetch($batchKeys); } return hrtime(true) - $t; }, $nb, $runs, $warmup);
pair_rows($results, ['op' => 'mset', 'size' => '20 x 64 B', 'group' => 'mset'], function ($m) use ($batch) { $t = hrtime(true); for ($i = 0; $i < $m; $i++) { ephpm_kv_mset($batch); } return hrtime(true) - $t; }, function ($m) use ($batch) { $t = hrtime(true); for ($i = 0; $i < $m; $i++) { apcu_store($batch); } return hrtime(true) - $t; }, $nb, $runs, $warmup);
pair_rows($results, ['op' => 'get miss', 'size' => '', 'group' => 'miss'], function ($m) { $k = 'bench:missing'; $t = hrtime(true); for ($i = 0; $i < $m; $i++) { $v = ephpm_kv_get($k); } return hrtime(true) - $t; }, function ($m) { $k = 'bench:missing'; $t = hrtime(true); for ($i = 0; $i < $m; $i++) { $v = apcu_fetch($k); } return hrtime(true) - $t; }, $iterations, $runs, $warmup);

ephpm_kv_set('bench:ctr', '0');
apcu_store('bench:ctr', 0);
pair_rows($results, ['op' => 'incr', 'size' => 'counter', 'group' => 'incr'], 'loop_kv_incr', 'loop_apcu_inc', $iterations, $runs, $warmup);

echo json_encode([
    'php' => PHP_VERSION,
    'sapi' => PHP_SAPI,
    'binary' => basename(PHP_BINARY),
    'opcache' => is_array(opcache_get_status(false)) && opcache_get_status(false)['opcache_enabled'],
    'apcu' => phpversion('apcu'),
    'iterations' => $iterations,
    'iterations_64k' => $iterations64k,
    'runs' => $runs,
    'warmup' => $warmup,
    'kv' => ephpm_kv_stats(),
    'results' => $results,
], JSON_PRETTY_PRINT), "\n";
