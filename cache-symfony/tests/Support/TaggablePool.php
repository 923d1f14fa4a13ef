<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Symfony\Component\Cache\Adapter\TagAwareAdapter;

/**
 * Exposes Symfony's TagAwareAdapter with the pool API of cache/integration-tests' TaggableCachePoolTest. Test glue
 * only: every call goes straight to the TagAwareAdapter.
 */
final class TaggablePool
{
    public function __construct(public readonly TagAwareAdapter $inner)
    {
    }

    public function getItem(string $key): TaggableItem
    {
        return new TaggableItem($this->inner->getItem($key));
    }

    /**
     * @param list<string> $keys
     *
     * @return array<string, TaggableItem>
     */
    public function getItems(array $keys = []): array
    {
        $items = [];
        foreach ($this->inner->getItems($keys) as $key => $item) {
            $items[$key] = new TaggableItem($item);
        }

        return $items;
    }

    public function hasItem(string $key): bool
    {
        return $this->inner->hasItem($key);
    }

    public function clear(): bool
    {
        return $this->inner->clear();
    }

    public function deleteItem(string $key): bool
    {
        return $this->inner->deleteItem($key);
    }

    /** @param list<string> $keys */
    public function deleteItems(array $keys): bool
    {
        return $this->inner->deleteItems($keys);
    }

    public function save(TaggableItem $item): bool
    {
        return $this->inner->save($item->inner);
    }

    public function saveDeferred(TaggableItem $item): bool
    {
        return $this->inner->saveDeferred($item->inner);
    }

    public function commit(): bool
    {
        return $this->inner->commit();
    }

    public function invalidateTag(string $tag): bool
    {
        return $this->inner->invalidateTags([$tag]);
    }

    /** @param list<string> $tags */
    public function invalidateTags(array $tags): bool
    {
        return $this->inner->invalidateTags($tags);
    }
}
