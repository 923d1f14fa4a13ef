<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

/**
 * FOR TESTS ONLY: a KvOpsInterface kept in PHP arrays, so that code using EphpmKvAdapter runs on a plain php-cli.
 *
 * - Storage is static: every instance in the process sees the same data (like the runtime's store, which is shared by
 *   everything running in the process). Call InMemoryKvOps::reset() between tests.
 * - TTLs expire lazily, on access. There is no memory limit and no eviction.
 *
 * Do not use it in production: nothing is shared between processes and nothing is ever reclaimed.
 */
final class InMemoryKvOps implements KvOpsInterface
{
    /** @var array<array-key, array{string, float}> key => [value, deadline (microtime, INF = no expiry)] */
    private static array $data = [];

    /**
     * Empties the storage shared by all instances.
     */
    public static function reset(): void
    {
        self::$data = [];
    }

    /**
     * Number of entries held (expired ones not yet touched included).
     */
    public static function count(): int
    {
        return \count(self::$data);
    }

    public function get(string $key): ?string
    {
        $entry = self::$data[$key] ?? null;
        if (null === $entry) {
            return null;
        }
        if ($entry[1] <= microtime(true)) {
            unset(self::$data[$key]);

            return null;
        }

        return $entry[0];
    }

    public function mget(array $keys): array
    {
        $hits = [];
        foreach ($keys as $key) {
            $value = $this->get($key);
            if (null !== $value) {
                $hits[$key] = $value;
            }
        }

        return $hits;
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        self::$data[$key] = [$value, $ttl > 0 ? microtime(true) + $ttl : \INF];

        return true;
    }

    public function mset(array $values, int $ttl = 0): bool
    {
        foreach ($values as $key => $value) {
            $this->set((string) $key, $value, $ttl);
        }

        return true;
    }

    public function del(string $key): bool
    {
        $live = null !== $this->get($key);
        unset(self::$data[$key]);

        return $live;
    }

    public function exists(string $key): bool
    {
        return null !== $this->get($key);
    }

    public function ttl(string $key): int
    {
        if (null === $this->get($key)) {
            return -2;
        }
        $deadline = self::$data[$key][1];
        if (\INF === $deadline) {
            return -1;
        }

        return max(1, (int) ceil($deadline - microtime(true)));
    }

    public function incrBy(string $key, int $delta): int|false
    {
        $current = $this->get($key);
        if (null === $current) {
            self::$data[$key] = [(string) $delta, \INF];

            return $delta;
        }
        // Accepted counter text: optional sign, then digits (leading zeros allowed), within int64.
        if (1 !== preg_match('/^([+-]?)0*([0-9]+)$/D', $current, $m)) {
            return false;
        }
        $value = filter_var(('-' === $m[1] ? '-' : '') . $m[2], \FILTER_VALIDATE_INT);
        if (false === $value) {
            return false;
        }
        if (($delta > 0 && $value > \PHP_INT_MAX - $delta) || ($delta < 0 && $value < \PHP_INT_MIN - $delta)) {
            return false; // int64 overflow
        }
        $sum = $value + $delta;
        self::$data[$key][0] = (string) $sum;

        return $sum;
    }
}
