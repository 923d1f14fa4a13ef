<?php

/*
 * Symfony Cache adapters compared on one workload: getItem() hit (one item, and cycling through 2,000), get($key, $cb)
 * hit (a value without metadata, and one with an expiry, i.e. metadata), get($key, $cb) miss, getItems() of 20 keys,
 * save(). Every adapter stores the same value (an array that serializes to about 1 KiB). Prints JSON:
 *   {"env": {...}, "results": {"<adapter>": {"<op>": [ns/op of each run, ...]}}}
 *
 * Run by bench/symfony/run.sh under `ephpm php -d apc.enable_cli=1`. Options (env):
 *   BENCH_AUTOLOAD  Composer autoloader with symfony/cache + ephpm/cache-symfony (default: cache-symfony/vendor)
 *   BENCH_RUNS      runs per measurement (default 7; the report uses the median)
 *   BENCH_TIME      target seconds per run (default 0.2)
 *   REDIS_PORT, MEMCACHED_PORT   loopback servers (adapters without them are left out)
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\InMemoryKvOps;
use Symfony\Component\Cache\Adapter\AdapterInterface;
use Symfony\Component\Cache\Adapter\ApcuAdapter;
use Symfony\Component\Cache\Adapter\ArrayAdapter;
use Symfony\Component\Cache\Adapter\MemcachedAdapter;
use Symfony\Component\Cache\Adapter\RedisAdapter;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Contracts\Cache\CacheInterface;
use Symfony\Contracts\Cache\ItemInterface;

require getenv('BENCH_AUTOLOAD') ?: dirname(__DIR__, 2) . '/cache-symfony/vendor/autoload.php';

$runs = (int) (getenv('BENCH_RUNS') ?: 7);
$target = (float) (getenv('BENCH_TIME') ?: 0.2);

// ~1 KiB once serialized: 16 fields of 40-byte strings plus a few scalars.
$value = ['id' => 42, 'title' => 'A benchmark value', 'published' => true, 'score' => 4.5];
for ($i = 0; $i < 16; ++$i) {
    $value["field$i"] = str_repeat(chr(97 + $i), 40);
}
$valueBytes = strlen(serialize($value));

$adapters = [];
$ephpmBackend = function_exists('ephpm_kv_get') ? 'SapiKvOps (ephpm_kv_*)' : 'InMemoryKvOps (no ephpm runtime!)';
$adapters['EphpmKvAdapter'] = fn (): AdapterInterface => function_exists('ephpm_kv_get')
    ? new EphpmKvAdapter('bench')
    : new EphpmKvAdapter('bench', 0, new InMemoryKvOps());
$adapters['ArrayAdapter'] = fn (): AdapterInterface => new ArrayAdapter();
if (ApcuAdapter::isSupported()) {
    $adapters['ApcuAdapter'] = fn (): AdapterInterface => new ApcuAdapter('bench');
}
if (($port = getenv('REDIS_PORT')) && extension_loaded('redis')) {
    $adapters['RedisAdapter'] = fn (): AdapterInterface => new RedisAdapter(
        RedisAdapter::createConnection("redis://127.0.0.1:$port"),
        'bench',
    );
}
if (($port = getenv('MEMCACHED_PORT')) && MemcachedAdapter::isSupported()) {
    $adapters['MemcachedAdapter'] = fn (): AdapterInterface => new MemcachedAdapter(
        MemcachedAdapter::createConnection("memcached://127.0.0.1:$port"),
        'bench',
    );
}

/**
 * How many calls of $op take about $target seconds.
 */
function calibrate(Closure $op, float $target): int
{
    $n = 1;
    while (true) {
        $t = hrtime(true);
        for ($i = 0; $i < $n; ++$i) {
            $op($i);
        }
        $elapsed = (hrtime(true) - $t) / 1e9;
        if ($elapsed > $target / 10 || $n >= 1 << 24) {
            return max(1, (int) ($n * $target / max($elapsed, 1e-6)));
        }
        $n *= 4;
    }
}

/** ns per call of $op over $n calls. */
function measure(Closure $op, int $n): float
{
    $t = hrtime(true);
    for ($i = 0; $i < $n; ++$i) {
        $op($i);
    }

    return (hrtime(true) - $t) / $n;
}

// Set every pool up first, then interleave: each run measures every adapter and operation once, so a change of
// machine load during the benchmark hits all adapters alike instead of distorting the ratios.
$benches = [];
foreach ($adapters as $name => $make) {
    /** @var AdapterInterface&CacheInterface $pool */
    $pool = $make();
    $pool->clear();
    $keys = [];
    for ($i = 0; $i < 20; ++$i) {
        $keys[] = "item$i";
        $pool->save($pool->getItem("item$i")->set($value));
    }
    $pool->get('cb', fn () => $value);
    // get() writes metadata (expiry, computation time) next to a value whose callback sets an expiry.
    $pool->get('cb-expiry', static function (ItemInterface $item) use ($value): array {
        $item->expiresAfter(3600);

        return $value;
    });
    // 2,000 more items: more than EphpmKvAdapter's unserialize memo holds, so every read of them unserializes,
    // as the first read of an item in a request does.
    for ($i = 0; $i < 2000; $i += 100) {
        for ($j = $i; $j < $i + 100; ++$j) {
            $pool->saveDeferred($pool->getItem("cold$j")->set($value));
        }
        $pool->commit();
    }
    $miss = static fn () => throw new LogicException('the callback must not run on a hit');
    // A miss that stays a miss: the callback computes the value and declines to save it.
    $compute = static function (ItemInterface $item, bool &$save) use ($value): array {
        $save = false;

        return $value;
    };

    // Sanity: every operation below really hits.
    if (!$pool->getItem('item0')->isHit() || $pool->getItem('item0')->get() !== $value) {
        throw new RuntimeException("$name: getItem() is not a hit");
    }
    $metadata = [];
    if ($pool->get('cb-expiry', $miss, null, $metadata) !== $value || !isset($metadata[ItemInterface::METADATA_EXPIRY])) {
        throw new RuntimeException("$name: get() of a value with an expiry is not a hit with metadata");
    }
    if ($pool->getItem('absent')->isHit()) {
        throw new RuntimeException("$name: the miss key is a hit");
    }
    foreach ($pool->getItems($keys) as $item) {
        if (!$item->isHit()) {
            throw new RuntimeException("$name: getItems() has a miss");
        }
    }

    $benches[$name] = [
        'getItem() hit' => static function () use ($pool): void {
            $pool->getItem('item0')->get();
        },
        'getItem() hit, 2,000 keys' => static function (int $i) use ($pool): void {
            $pool->getItem('cold' . ($i % 2000))->get();
        },
        'get($key, $cb) hit' => static function () use ($pool, $miss): void {
            $pool->get('cb', $miss);
        },
        'get($key, $cb) hit, with expiry' => static function () use ($pool, $miss): void {
            $pool->get('cb-expiry', $miss);
        },
        'get($key, $cb) miss' => static function () use ($pool, $compute): void {
            $pool->get('absent', $compute);
        },
        'save()' => static function (int $i) use ($pool, $value): void {
            $pool->save($pool->getItem('w' . ($i & 1023))->set($value));
        },
        'getItems() x20' => static function () use ($pool, $keys): void {
            foreach ($pool->getItems($keys) as $item) {
                $item->get();
            }
        },
    ];
}

$counts = [];
foreach ($benches as $name => $ops) {
    foreach ($ops as $op => $f) {
        $counts[$name][$op] = calibrate($f, $target);
    }
}
$results = [];
for ($r = 0; $r < $runs; ++$r) {
    foreach ($benches as $name => $ops) {
        foreach ($ops as $op => $f) {
            $results[$name][$op][] = measure($f, $counts[$name][$op]);
        }
    }
    fwrite(STDERR, '  run ' . ($r + 1) . "/$runs done\n");
}

echo json_encode([
    'env' => [
        'php' => PHP_VERSION,
        'sapi' => PHP_SAPI,
        'binary' => PHP_BINARY,
        'ephpm_backend' => $ephpmBackend,
        'symfony_cache' => Composer\InstalledVersions::getPrettyVersion('symfony/cache'),
        'marshaller' => 'DefaultMarshaller (' . (':' === ((new DefaultMarshaller())->marshall(['v' => [1]], $failed)['v'][1] ?? '')
            ? 'serialize' : 'igbinary') . ')',
        'value_bytes' => $valueBytes,
        'runs' => $runs,
        'opcache' => (bool) ini_get('opcache.enable_cli'),
    ],
    'results' => $results,
], JSON_PRETTY_PRINT), "\n";
