<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Integration;

use Cache\IntegrationTests\CachePoolTest as BaseCachePoolTest;
use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\Tests\Support\Backend;

/**
 * cache/integration-tests' PSR-6 suite against EphpmKvAdapter, on the backend chosen by EPHPM_KV_BACKEND.
 */
final class CachePoolTest extends BaseCachePoolTest
{
    public static function setUpBeforeClass(): void
    {
        Backend::flush();
    }

    public function createCachePool(): EphpmKvAdapter
    {
        return new EphpmKvAdapter('psr6', 0, Backend::ops());
    }
}
