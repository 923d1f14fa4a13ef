<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Symfony\Component\Cache\CacheItem;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * Exposes a Symfony CacheItem of a TagAwareAdapter with the item API of cache/integration-tests'
 * TaggableCachePoolTest (setTags() replaces the tags, getPreviousTags() = the tags stored with the fetched value).
 * Test glue only.
 */
final class TaggableItem
{
    /** @var list<string> tags stored with the value when it was fetched */
    private readonly array $previousTags;

    public function __construct(public readonly CacheItem $inner)
    {
        // Captured at fetch time: Symfony 7 also updates the item's metadata when it is saved.
        $this->previousTags = array_values($inner->getMetadata()[ItemInterface::METADATA_TAGS] ?? []);
    }

    public function getKey(): string
    {
        return $this->inner->getKey();
    }

    public function get(): mixed
    {
        return $this->inner->get();
    }

    public function isHit(): bool
    {
        return $this->inner->isHit();
    }

    public function set(mixed $value): static
    {
        $this->inner->set($value);

        return $this;
    }

    public function expiresAt(?\DateTimeInterface $expiration): static
    {
        $this->inner->expiresAt($expiration);

        return $this;
    }

    public function expiresAfter(int|\DateInterval|null $time): static
    {
        $this->inner->expiresAfter($time);

        return $this;
    }

    /** @return list<string> */
    public function getPreviousTags(): array
    {
        return $this->previousTags;
    }

    /** @param list<string> $tags */
    public function setTags(array $tags): static
    {
        // CacheItem::tag() only adds: drop the tags set so far, then let tag() validate and add the new ones.
        (function (): void {
            unset($this->newMetadata[ItemInterface::METADATA_TAGS]);
        })->call($this->inner);
        $this->inner->tag($tags);

        return $this;
    }
}
