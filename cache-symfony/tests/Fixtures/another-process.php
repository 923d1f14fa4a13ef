<?php

/*
 * Run by FastPathTest: one pool reads a key again and again (its fast paths and unserialize memo warm), a forked
 * process writes through its own pool on the same store between two reads, and the first pool must see the new value
 * at once; then the forked process clear()s the pool, which the first pool sees after reset() (Symfony memoises the
 * namespace version until then). Prints what the first pool read, as JSON.
 *
 * argv: autoload, backend ("sapi": the real store, shared with pcntl_fork() children under `ephpm php`; else a
 * directory for SharedFileKvOps)
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\KvOpsInterface;
use Ephpm\Cache\Symfony\SapiKvOps;
use Ephpm\Cache\Symfony\Tests\Support\SharedFileKvOps;
use Symfony\Contracts\Cache\ItemInterface;

[, $autoload, $backend] = $argv;
$loader = require $autoload;
$loader->addPsr4('Ephpm\\Cache\\Symfony\\Tests\\', dirname(__DIR__));

$makeOps = static fn (): KvOpsInterface => 'sapi' === $backend ? new SapiKvOps() : new SharedFileKvOps($backend);
// Large enough (> UnserializeMemo::MIN_BYTES) for the memo to hand the value out from the third read on.
$value = static fn (int $version): array => ['version' => $version, 'padding' => str_repeat('p', 100)];
$inChild = static function (callable $work): void {
    $pid = pcntl_fork();
    if (-1 === $pid) {
        fwrite(STDERR, "fork failed\n");
        exit(1);
    }
    if (0 === $pid) {
        $work();
        exit(0);
    }
    pcntl_waitpid($pid, $status);
    if (!pcntl_wifexited($status) || 0 !== pcntl_wexitstatus($status)) {
        fwrite(STDERR, "the writing process failed\n");
        exit(1);
    }
};
$noCallback = static fn (): never => throw new LogicException('the callback must not run on a hit');
$read = static function (EphpmKvAdapter $pool) use ($noCallback): array {
    $items = iterator_to_array($pool->getItems(['k', 'meta']));
    $metadata = null;
    $meta = $pool->get('meta', $noCallback, null, $metadata);

    return [
        'get' => $pool->get('k', $noCallback)['version'],
        'getItem' => $pool->getItem('k')->get()['version'],
        'getItems' => $items['k']->get()['version'],
        'get_meta' => $meta['version'],
        'getItems_meta' => $items['meta']->get()['version'],
        'meta_expiry' => $metadata[ItemInterface::METADATA_EXPIRY] ?? null,
    ];
};

$pool = new EphpmKvAdapter('xproc', 0, $makeOps());
$pool->save($pool->getItem('k')->set($value(1)));
$pool->get('meta', static function (ItemInterface $item) use ($value): array {
    $item->expiresAfter(3600);

    return $value(1);
});
$result = [];
for ($i = 0; $i < 4; ++$i) {
    $result['before'][] = $read($pool);
}

$inChild(static function () use ($makeOps, $value): void {
    $other = new EphpmKvAdapter('xproc', 0, $makeOps());
    $other->save($other->getItem('k')->set($value(2)));
    $other->get('meta', static function (ItemInterface $item) use ($value): array {
        $item->expiresAfter(7200);

        return $value(2);
    }, \INF);
});
$result['after_write'] = $read($pool);

$inChild(static function () use ($makeOps): void {
    (new EphpmKvAdapter('xproc', 0, $makeOps()))->clear();
});
$result['after_clear_is_hit'] = $pool->getItem('k')->isHit();
$pool->reset();
$result['after_clear_and_reset_is_hit'] = $pool->getItem('k')->isHit();
$result['after_clear_and_reset_get'] = $pool->get('k', static fn (): string => 'recomputed');

echo json_encode($result, JSON_THROW_ON_ERROR);
