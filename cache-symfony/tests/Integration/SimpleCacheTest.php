<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Integration;

use Cache\IntegrationTests\SimpleCacheTest as BaseSimpleCacheTest;
use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Symfony\Component\Cache\Psr16Cache;

/**
 * cache/integration-tests' PSR-16 suite against Symfony's Psr16Cache over EphpmKvAdapter.
 */
final class SimpleCacheTest extends BaseSimpleCacheTest
{
    public static function setUpBeforeClass(): void
    {
        Backend::flush();
    }

    public function createSimpleCache(): Psr16Cache
    {
        return new Psr16Cache(new EphpmKvAdapter('psr16', 0, Backend::ops()));
    }
}
