<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use Cache\IntegrationTests\CachePoolTest;
use Psr\Cache\CacheItemPoolInterface;
use Symfony\Component\Cache\Adapter\RedisAdapter;

/** cache/integration-tests' PSR-6 suite against Symfony's stock RedisAdapter on phpredis, over the listener. */
final class RedisAdapterPoolTest extends CachePoolTest
{
    public function createCachePool(): CacheItemPoolInterface
    {
        return new RedisAdapter(RedisAdapter::createConnection(Listener::dsn()), 'resp_psr6');
    }
}
