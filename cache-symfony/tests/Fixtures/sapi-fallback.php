<?php

/*
 * SapiKvOps on an ePHPm-like runtime (functions from ephpm-like-runtime.php, no batch functions): prints JSON.
 *
 * argv: autoload
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\SapiKvOps;
use Ephpm\Cache\Symfony\Tests\Support\EphpmLikeKvOps;

if (function_exists('ephpm_kv_get')) {
    fwrite(STDERR, "the ephpm_kv_* functions already exist: run this with a plain php\n");
    exit(2);
}
require __DIR__ . '/ephpm-like-runtime.php';

$pool = new EphpmKvAdapter('fallback'); // SapiKvOps by default
$pool->saveDeferred($pool->getItem('a')->set(1));
$pool->saveDeferred($pool->getItem('b')->set(false));
$pool->saveDeferred($pool->getItem("nul\0key")->set('nul'));
$pool->saveDeferred($pool->getItem("nul\0other")->set('other'));
$committed = $pool->commit();

$fresh = new EphpmKvAdapter('fallback');
$read = [];
foreach ($fresh->getItems(['a', 'b', "nul\0key", "nul\0other", 'missing']) as $key => $item) {
    $read[bin2hex($key)] = [$item->isHit(), $item->get()];
}
$cleared = $fresh->clear();
$afterClear = $fresh->getItem('a')->isHit();

// A refused overwrite on ePHPm: the runtime already dropped the old value; the save must fail and read as a miss.
EphpmLikeKvOps::setMemoryLimit(2048);
$big = $fresh->save($fresh->getItem('big')->set(str_repeat('x', 100)));
$refused = $fresh->save($fresh->getItem('big')->set(str_repeat('y', 5000)));
$bigIsMiss = !(new EphpmKvAdapter('fallback'))->getItem('big')->isHit();

echo json_encode([
    'committed' => $committed,
    'read' => $read,
    'cleared' => $cleared,
    'after_clear_hit' => $afterClear,
    'big_saved' => $big,
    'refused_save' => $refused,
    'big_is_miss' => $bigIsMiss,
    'incr' => (new SapiKvOps())->incrBy('counter', 5),
    'calls' => $GLOBALS['ephpm_calls'],
]), "\n";
