<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

/**
 * The backend seam of EphpmKvAdapter: the few key-value operations the adapter (and application code that wants
 * counters next to its cache) needs.
 *
 * Keys and values are byte strings. Implementations report backend failures by throwing an \Exception subclass (never
 * an \Error), because Symfony's AbstractAdapter only turns \Exception into a logged cache miss / failed save.
 *
 * TTLs are whole seconds; a TTL <= 0 means "no expiry".
 */
interface KvOpsInterface
{
    /**
     * The stored bytes, or null when the key is absent or expired. A stored "" is returned as "".
     */
    public function get(string $key): ?string;

    /**
     * Batch read. Returns key => value for hits only (misses are absent). As with any PHP array, a numeric-string key
     * such as "42" comes back as the int key 42: callers cast keys back with (string).
     *
     * @param list<string> $keys
     *
     * @return array<array-key, string>
     */
    public function mget(array $keys): array;

    /**
     * Stores $value with a TTL in seconds (<= 0: no expiry, and any earlier TTL is cleared).
     *
     * @return bool false when the store refused the write (memory limit under noeviction)
     */
    public function set(string $key, string $value, int $ttl = 0): bool;

    /**
     * Writes every pair like set() with the same TTL. Not atomic across keys.
     *
     * @param array<array-key, string> $values
     *
     * @return bool false when at least one pair was refused (which one is not reported)
     */
    public function mset(array $values, int $ttl = 0): bool;

    /**
     * Removes the key. Deleting an absent key is not an error.
     *
     * @return bool true when a live key was removed
     */
    public function del(string $key): bool;

    public function exists(string $key): bool;

    /**
     * Remaining lifetime in seconds (rounded up): -2 when absent or expired, -1 when the key has no expiry.
     */
    public function ttl(string $key): int;

    /**
     * Atomically adds $delta to an integer counter. A missing key is created holding $delta (no TTL); a live key
     * keeps its TTL.
     *
     * @return int|false the new value, or false when the stored value is not an integer, the sum would overflow, or
     *                   the write was refused
     */
    public function incrBy(string $key, int $delta): int|false;
}
