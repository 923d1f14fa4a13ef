<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Symfony\Component\Cache\Adapter\AbstractAdapter;
use Symfony\Component\Cache\CacheItem;

/**
 * EphpmKvAdapter with Symfony's generic read path only (AbstractAdapter's get(), getItem(), getItems()): the reference
 * the fast paths are compared with. Same backend, same do* methods.
 */
final class ParentPathAdapter extends EphpmKvAdapter
{
    /**
     * @param array<array-key, mixed>|null $metadata
     */
    public function get(string $key, callable $callback, ?float $beta = null, ?array &$metadata = null): mixed
    {
        return AbstractAdapter::get($key, $callback, $beta, $metadata);
    }

    public function getItem(mixed $key): CacheItem
    {
        return AbstractAdapter::getItem($key);
    }

    /**
     * @param array<mixed> $keys
     *
     * @return iterable<string, CacheItem>
     */
    public function getItems(array $keys = []): iterable
    {
        return AbstractAdapter::getItems($keys);
    }
}
