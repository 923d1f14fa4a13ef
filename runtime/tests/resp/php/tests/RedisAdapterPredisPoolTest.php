<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use Cache\IntegrationTests\CachePoolTest;
use Psr\Cache\CacheItemPoolInterface;
use Symfony\Component\Cache\Adapter\RedisAdapter;

/** The same PSR-6 suite with RedisAdapter on Predis (its createConnection picks Predis with class => Predis\Client). */
final class RedisAdapterPredisPoolTest extends CachePoolTest
{
    public function createCachePool(): CacheItemPoolInterface
    {
        $client = RedisAdapter::createConnection(Listener::dsn(), ['class' => \Predis\Client::class]);
        return new RedisAdapter($client, 'resp_predis');
    }
}
