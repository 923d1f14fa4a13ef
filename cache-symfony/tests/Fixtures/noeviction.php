<?php

/*
 * Run by RealStoreTest under `ephpm php` with a tiny [kv] memory_limit and eviction_policy = "noeviction".
 * Fills the store through EphpmKvAdapter until a save is refused, then reports what is still readable, as JSON.
 *
 * argv: autoload
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;

require $argv[1];

$stats = ephpm_kv_stats();
$pool = new EphpmKvAdapter('fill');
$value = str_repeat('v', 4096);
$saved = [];
$refused = null;
for ($i = 0; $i < 5000; ++$i) {
    if (!$pool->save($pool->getItem("k$i")->set($value))) {
        $refused = "k$i";
        break;
    }
    $saved[] = "k$i";
}

$fresh = new EphpmKvAdapter('fill');
$stillHits = 0;
foreach ($saved as $key) {
    $stillHits += $fresh->getItem($key)->isHit() && $fresh->getItem($key)->get() === $value ? 1 : 0;
}
$refusedIsMiss = null !== $refused && !$fresh->getItem($refused)->isHit();

// A refused overwrite of an existing item: failed save, and a miss afterwards (never the stale old value).
$overwriteKey = $saved[0] ?? 'none';
$overwriteResult = $fresh->save($fresh->getItem($overwriteKey)->set(str_repeat('w', 4 * 1024 * 1024)));
$overwriteIsMiss = !(new EphpmKvAdapter('fill'))->getItem($overwriteKey)->isHit();

// The store keeps working once memory is freed.
$fresh->deleteItems($saved);
$smallSave = $fresh->save($fresh->getItem('small')->set('fits'));

echo json_encode([
    'memory_limit' => $stats['memory_limit'],
    'saved' => count($saved),
    'refused' => $refused,
    'still_hits' => $stillHits,
    'refused_is_miss' => $refusedIsMiss,
    'overwrite_result' => $overwriteResult,
    'overwrite_is_miss' => $overwriteIsMiss,
    'small_save' => $smallSave,
    'small_hit' => (new EphpmKvAdapter('fill'))->getItem('small')->get(),
]), "\n";
