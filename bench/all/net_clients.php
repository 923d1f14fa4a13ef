<?php
// phpredis and the Memcached extension against real servers on loopback, with the method of
// bench/php-native/bench.php (docs/anchors.md section 2): hrtime(true) around an inline loop of one
// call, after a warm-up, median (and min-max) of BENCH_RUNS runs. Same sizes and operations as
// bench/php-native (get hit / set at 64 B, 4 KiB, 64 KiB; incr), so bench/run.sh can put them in
// one table. Synchronous single-connection round trips: no pipelining, no multi-get.
// Raw Memcached client with its defaults (ASCII protocol), phpredis without serializer.
// Env: REDIS_PORT, MEMCACHED_PORT (a client whose port is unset is skipped),
//      BENCH_NET_ITER (5000), BENCH_RUNS (5), BENCH_NET_WARMUP (500). Prints one JSON document.

$iterations = (int) (getenv('BENCH_NET_ITER') ?: 5000);
$runs = (int) (getenv('BENCH_RUNS') ?: 5);
$warmup = (int) (getenv('BENCH_NET_WARMUP') ?: 500);

function measure(callable $loop, int $n, int $runs, int $warmup): array
{
    $loop(min($warmup, $n));
    $samples = [];
    for ($r = 0; $r < $runs; $r++) {
        $samples[] = $loop($n) / $n;
    }
    sort($samples);
    return ['median' => $samples[intdiv(count($samples), 2)], 'min' => $samples[0],
        'max' => $samples[count($samples) - 1], 'samples' => $samples, 'n' => $n];
}

$clients = [];
if (($port = getenv('REDIS_PORT')) && class_exists('Redis')) {
    $r = new Redis();
    $r->connect('127.0.0.1', (int) $port);
    $clients['phpredis'] = [
        'get' => function (int $n) use ($r): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $v = $r->get($k); } $e = hrtime(true) - $t; if (!is_string($v)) { throw new LogicException('redis miss'); } return $e; },
        'set' => fn (string $value) => function (int $n) use ($r, $value): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $r->set($k, $value); } return hrtime(true) - $t; },
        'incr' => function (int $n) use ($r): int { $k = 'bench:ctr'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $r->incr($k); } return hrtime(true) - $t; },
        'prepare' => function (string $value) use ($r): void { $r->flushAll(); $r->set('bench:key', $value); if ($r->get('bench:key') !== $value) { throw new LogicException('redis check'); } $r->set('bench:ctr', '0'); },
        'version' => phpversion('redis'),
    ];
}
if (($port = getenv('MEMCACHED_PORT')) && class_exists('Memcached')) {
    $m = new Memcached();
    $m->addServer('127.0.0.1', (int) $port);
    $clients['memcached'] = [
        'get' => function (int $n) use ($m): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $v = $m->get($k); } $e = hrtime(true) - $t; if (!is_string($v)) { throw new LogicException('memcached miss'); } return $e; },
        'set' => fn (string $value) => function (int $n) use ($m, $value): int { $k = 'bench:key'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $m->set($k, $value); } return hrtime(true) - $t; },
        'incr' => function (int $n) use ($m): int { $k = 'bench:ctr'; $t = hrtime(true); for ($i = 0; $i < $n; $i++) { $m->increment($k); } return hrtime(true) - $t; },
        'prepare' => function (string $value) use ($m): void { $m->flush(); $m->set('bench:key', $value); if ($m->get('bench:key') !== $value) { throw new LogicException('memcached check: ' . $m->getResultMessage()); } $m->set('bench:ctr', '0'); },
        'version' => phpversion('memcached'),
    ];
}

$results = [];
$sizes = ['64 B' => 64, '4 KiB' => 4096, '64 KiB' => 65536];
foreach ($clients as $name => $c) {
    foreach ($sizes as $label => $bytes) {
        $value = str_repeat('v', $bytes);
        $c['prepare']($value);
        $results[] = ['op' => 'get', 'size' => $label, 'group' => "get $label", 'kind' => $name] + measure($c['get'], $iterations, $runs, $warmup);
        $results[] = ['op' => 'set', 'size' => $label, 'group' => "set $label", 'kind' => $name] + measure($c['set']($value), $iterations, $runs, $warmup);
    }
    $results[] = ['op' => 'incr', 'size' => 'counter', 'group' => 'incr', 'kind' => $name] + measure($c['incr'], $iterations, $runs, $warmup);
    fwrite(STDERR, "  $name done\n");
}

echo json_encode([
    'php' => PHP_VERSION,
    'sapi' => PHP_SAPI,
    'versions' => array_map(fn ($c) => $c['version'], $clients),
    'iterations' => $iterations,
    'runs' => $runs,
    'warmup' => $warmup,
    'results' => $results,
], JSON_PRETTY_PRINT), "\n";
