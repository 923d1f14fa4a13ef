<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\InMemoryKvOps;
use Ephpm\Cache\Symfony\KvOpsInterface;

/**
 * InMemoryKvOps that refuses values longer than a limit the way the ephpm runtime refuses writes under noeviction:
 * the write returns false and the previous value stays in place.
 */
final class RefusingKvOps implements KvOpsInterface
{
    private InMemoryKvOps $inner;
    public int $refusals = 0;

    public function __construct(private readonly int $maxValueLength)
    {
        $this->inner = new InMemoryKvOps();
    }

    public function get(string $key): ?string
    {
        return $this->inner->get($key);
    }

    public function mget(array $keys): array
    {
        return $this->inner->mget($keys);
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        if (\strlen($value) > $this->maxValueLength) {
            ++$this->refusals;

            return false;
        }

        return $this->inner->set($key, $value, $ttl);
    }

    public function mset(array $values, int $ttl = 0): bool
    {
        $ok = true;
        foreach ($values as $key => $value) {
            $ok = $this->set((string) $key, $value, $ttl) && $ok;
        }

        return $ok;
    }

    public function del(string $key): bool
    {
        return $this->inner->del($key);
    }

    public function exists(string $key): bool
    {
        return $this->inner->exists($key);
    }

    public function ttl(string $key): int
    {
        return $this->inner->ttl($key);
    }

    public function incrBy(string $key, int $delta): int|false
    {
        return $this->inner->incrBy($key, $delta);
    }
}
