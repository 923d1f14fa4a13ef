<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use Cache\IntegrationTests\SimpleCacheTest;
use Psr\SimpleCache\CacheInterface;
use Symfony\Component\Cache\Adapter\RedisAdapter;
use Symfony\Component\Cache\Psr16Cache;

/** cache/integration-tests' PSR-16 suite through Symfony's Psr16Cache on RedisAdapter, over the listener. */
final class Psr16OverRedisAdapterTest extends SimpleCacheTest
{
    public function createSimpleCache(): CacheInterface
    {
        return new Psr16Cache(new RedisAdapter(RedisAdapter::createConnection(Listener::dsn()), 'resp_psr16'));
    }
}
