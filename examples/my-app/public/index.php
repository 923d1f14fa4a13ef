<?php
// public/index.php
require_once __DIR__ . '/../vendor/autoload.php';

use Ephpm\Cache\Symfony\EphpmKvAdapter;

// One-time setup. In a real app this lives in your DI container: see the framework integration section below.
$cache = new EphpmKvAdapter(namespace: 'demo', defaultLifetime: 60);

// Symfony Contracts API (the nicer one).
$visits = $cache->get('visits', function ($item) {
    $item->expiresAfter(3600);

    return 0;
});

// Increment + write back. (You could also keep the counter in the store directly with
// (new Ephpm\Cache\Symfony\SapiKvOps())->incrBy('visits', 1): see "How it works" below.)
$item = $cache->getItem('visits');
$item->set(($item->get() ?? 0) + 1);
$cache->save($item);

header('Content-Type: text/plain');
echo "This page has been served {$item->get()} times.\n";
