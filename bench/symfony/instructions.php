<?php

/*
 * Workload for the instruction counts of bench/symfony/run.sh (callgrind: independent of machine load).
 * argv: adapter (EphpmKvAdapter|ArrayAdapter|ApcuAdapter), keys (1 = one item read again and again, 2000 = a cold
 * read each time), reads. The report subtracts a run with 0 reads, so setup costs cancel out.
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Symfony\Component\Cache\Adapter\ApcuAdapter;
use Symfony\Component\Cache\Adapter\ArrayAdapter;

require getenv('BENCH_AUTOLOAD') ?: dirname(__DIR__, 2) . '/cache-symfony/vendor/autoload.php';

[, $adapter, $keys, $reads] = $argv;
$keys = (int) $keys;
$value = ['id' => 42, 'title' => 'A benchmark value', 'published' => true, 'score' => 4.5];
for ($i = 0; $i < 16; ++$i) {
    $value["field$i"] = str_repeat(chr(97 + $i), 40);
}
$pool = match ($adapter) {
    'EphpmKvAdapter' => new EphpmKvAdapter('bench'),
    'ArrayAdapter' => new ArrayAdapter(),
    'ApcuAdapter' => new ApcuAdapter('bench'),
};
for ($i = 0; $i < $keys; ++$i) {
    $pool->save($pool->getItem("k$i")->set($value));
}
for ($i = 0; $i < 3; ++$i) {
    $pool->getItem('k0')->get();
}
for ($i = 0, $n = (int) $reads; $i < $n; ++$i) {
    $pool->getItem('k' . ($i % $keys))->get();
}
