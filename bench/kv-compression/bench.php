<?php
// [kv] compression from PHP, under `ephpm php` with the config bench/kv-compression/run.sh wrote
// for one algorithm (BENCH_ALGO). Prints one JSON object:
//  * bytes per entry (used_memory / keys) on a corpus generated here, deterministically: HTML page
//    fragments, JSON API responses and PHP-serialized arrays, 1–64 KiB (log-uniform), per kind;
//  * ns per ephpm_kv_get / ephpm_kv_set of a 4 KiB HTML fragment (stored compressed when the
//    algorithm shrinks it), of a 4 KiB value stored raw (random bytes: no codec shrinks them),
//    and apcu_fetch / apcu_store of the same fragment: all in this one process, one run.
// Timing: the process's CPU time (getrusage: user + system) around an inline loop, after a warm-up;
// median of BENCH_RUNS runs. CPU time rather than wall time, so that other load on the machine
// (a shared 2-core VM) does not inflate the figures.
$algo = getenv('BENCH_ALGO') ?: 'none';
$entries = (int) (getenv('BENCH_ENTRIES') ?: 600);  // per kind
$iterations = (int) (getenv('BENCH_ITER') ?: 200000);
$runs = (int) (getenv('BENCH_RUNS') ?: 5);
if (!function_exists('apcu_fetch') || !apcu_enabled()) {
    fwrite(STDERR, "bench: APCu is not enabled (-d apc.enable_cli=1)\n");
    exit(1);
}
mt_srand(20261205);

const WORDS = ['product', 'customer', 'order', 'shipping', 'invoice', 'account', 'settings', 'search',
    'results', 'price', 'available', 'details', 'review', 'rating', 'category', 'checkout', 'cart',
    'delivery', 'payment', 'profile', 'message', 'notification', 'update', 'status', 'total'];

function words(int $n): string
{
    $w = [];
    for ($i = 0; $i < $n; $i++) {
        $w[] = WORDS[mt_rand(0, count(WORDS) - 1)];
    }
    return implode(' ', $w);
}

function size_between(int $min, int $max): int
{
    return (int) round(exp(log($min) + (log($max) - log($min)) * mt_rand() / mt_getrandmax()));
}

function html_fragment(int $bytes): string
{
    $s = "<section class=\"product-list\" data-page=\"" . mt_rand(1, 500) . "\">\n";
    while (strlen($s) < $bytes) {
        $id = mt_rand(1000, 99999);
        $s .= "  <article class=\"card\" id=\"p$id\">\n    <h3><a href=\"/products/$id\">" . ucfirst(words(3))
            . "</a></h3>\n    <p class=\"desc\">" . words(mt_rand(8, 20)) . "</p>\n"
            . "    <span class=\"price\">" . mt_rand(1, 999) . '.' . sprintf('%02d', mt_rand(0, 99))
            . " EUR</span> <button data-id=\"$id\" class=\"btn btn-primary\">Add to cart</button>\n  </article>\n";
    }
    return substr($s, 0, $bytes);
}

function api_record(): array
{
    return ['id' => mt_rand(1, 1 << 30), 'name' => ucfirst(words(2)), 'email' => 'user' . mt_rand(1, 99999) . '@example.com',
        'active' => (bool) mt_rand(0, 1), 'score' => mt_rand(0, 10000) / 100, 'tags' => explode(' ', words(3)),
        'created_at' => date('c', 1700000000 + mt_rand(0, 30000000)), 'address' => ['city' => ucfirst(words(1)),
        'zip' => sprintf('%05d', mt_rand(0, 99999))]];
}

function sized(callable $encode, int $bytes): string
{
    $items = [];
    $s = $encode($items);
    while (strlen($s) < $bytes) {
        $items[] = api_record();
        $s = $encode($items);
    }
    return $s;
}

$kinds = [
    'HTML fragments' => fn (int $b) => html_fragment($b),
    'JSON API responses' => fn (int $b) => sized(fn ($items) => json_encode(['data' => $items, 'meta' => ['page' => 1]]), $b),
    'PHP-serialized arrays' => fn (int $b) => sized(fn ($items) => serialize($items), $b),
];

$out = ['algo' => $algo, 'corpus' => [], 'ns' => []];
$allRaw = 0;
$allStored = 0;
$allKeys = 0;
foreach ($kinds as $kind => $make) {
    ephpm_kv_flush_all();
    $raw = 0;
    for ($i = 0; $i < $entries; $i++) {
        $v = $make(size_between(1024, 65536));
        $raw += strlen($v);
        if (!ephpm_kv_set("c:$i", $v)) {
            throw new RuntimeException("set refused ($kind, entry $i)");
        }
    }
    $st = ephpm_kv_stats();
    $out['corpus'][$kind] = ['entries' => $st['keys'], 'value_bytes_per_entry' => $raw / $entries,
        'bytes_per_entry' => $st['used_memory'] / $st['keys'], 'bytes_saved' => $st['bytes_saved']];
    $allRaw += $raw;
    $allStored += $st['used_memory'];
    $allKeys += $st['keys'];
}
$out['corpus']['all'] = ['entries' => $allKeys, 'value_bytes_per_entry' => $allRaw / $allKeys,
    'bytes_per_entry' => $allStored / $allKeys];

function cpu_ns(): int
{
    $r = getrusage();
    return ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec']) * 1_000_000_000
        + ($r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec']) * 1000;
}

function median(array $xs): float
{
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
}

// ns per iteration of $loop($n), median of $runs runs after a warm-up run.
function measure(callable $loop, int $n, int $runs): float
{
    $loop(intdiv($n, 10));
    $t = [];
    for ($r = 0; $r < $runs; $r++) {
        $t[] = $loop($n) / $n;
    }
    return median($t);
}

ephpm_kv_flush_all();
apcu_clear_cache();
$fragment = html_fragment(4096);
$random = random_bytes(4096);
ephpm_kv_set('frag', $fragment);
ephpm_kv_set('rand', $random);
apcu_store('frag', $fragment);
if (ephpm_kv_get('frag') !== $fragment || ephpm_kv_get('rand') !== $random || apcu_fetch('frag') !== $fragment) {
    throw new LogicException('read-back check');
}
$st = ephpm_kv_stats();
$out['fragment_4k_stored_bytes'] = 4096 - ($algo === 'none' ? 0 : $st['bytes_saved']);

$get = function (string $k): callable {
    return function (int $n) use ($k): int {
        $t = cpu_ns();
        for ($i = 0; $i < $n; $i++) {
            $v = ephpm_kv_get($k);
        }
        return cpu_ns() - $t;
    };
};
$out['ns']['ephpm_kv_get 4 KiB fragment'] = measure($get('frag'), $iterations, $runs);
$out['ns']['ephpm_kv_get 4 KiB stored raw'] = measure($get('rand'), $iterations, $runs);
$out['ns']['apcu_fetch 4 KiB fragment'] = measure(function (int $n): int {
    $t = cpu_ns();
    for ($i = 0; $i < $n; $i++) {
        $v = apcu_fetch('frag');
    }
    return cpu_ns() - $t;
}, $iterations, $runs);
$out['ns']['ephpm_kv_set 4 KiB fragment'] = measure(function (int $n) use ($fragment): int {
    $t = cpu_ns();
    for ($i = 0; $i < $n; $i++) {
        ephpm_kv_set('frag', $fragment);
    }
    return cpu_ns() - $t;
}, intdiv($iterations, 4), $runs);
$out['ns']['apcu_store 4 KiB fragment'] = measure(function (int $n) use ($fragment): int {
    $t = cpu_ns();
    for ($i = 0; $i < $n; $i++) {
        apcu_store('frag', $fragment);
    }
    return cpu_ns() - $t;
}, intdiv($iterations, 4), $runs);
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
