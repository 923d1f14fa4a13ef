<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Integration;

use Cache\IntegrationTests\TaggableCachePoolTest as BaseTaggableCachePoolTest;
use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Ephpm\Cache\Symfony\Tests\Support\TaggablePool;
use Symfony\Component\Cache\Adapter\TagAwareAdapter;

/**
 * cache/integration-tests' tag suite against Symfony's TagAwareAdapter over two EphpmKvAdapter pools (items, tags).
 */
final class TaggableCachePoolTest extends BaseTaggableCachePoolTest
{
    public static function setUpBeforeClass(): void
    {
        Backend::flush();
    }

    public function createCachePool(): TaggablePool
    {
        return new TaggablePool(new TagAwareAdapter(
            new EphpmKvAdapter('tagged', 0, Backend::ops()),
            new EphpmKvAdapter('tags', 0, Backend::ops()),
        ));
    }
}
