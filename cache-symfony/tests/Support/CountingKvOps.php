<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\KvOpsInterface;

/**
 * A KvOpsInterface that counts the calls it forwards to another one, per method.
 */
final class CountingKvOps implements KvOpsInterface
{
    /** @var array<string, int> */
    public array $calls = [];

    public function __construct(private readonly KvOpsInterface $inner)
    {
    }

    public function total(): int
    {
        return array_sum($this->calls);
    }

    public function get(string $key): ?string
    {
        $this->calls['get'] = ($this->calls['get'] ?? 0) + 1;

        return $this->inner->get($key);
    }

    public function mget(array $keys): array
    {
        $this->calls['mget'] = ($this->calls['mget'] ?? 0) + 1;

        return $this->inner->mget($keys);
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        $this->calls['set'] = ($this->calls['set'] ?? 0) + 1;

        return $this->inner->set($key, $value, $ttl);
    }

    public function mset(array $values, int $ttl = 0): bool
    {
        $this->calls['mset'] = ($this->calls['mset'] ?? 0) + 1;

        return $this->inner->mset($values, $ttl);
    }

    public function del(string $key): bool
    {
        $this->calls['del'] = ($this->calls['del'] ?? 0) + 1;

        return $this->inner->del($key);
    }

    public function exists(string $key): bool
    {
        $this->calls['exists'] = ($this->calls['exists'] ?? 0) + 1;

        return $this->inner->exists($key);
    }

    public function ttl(string $key): int
    {
        $this->calls['ttl'] = ($this->calls['ttl'] ?? 0) + 1;

        return $this->inner->ttl($key);
    }

    public function incrBy(string $key, int $delta): int|false
    {
        $this->calls['incrBy'] = ($this->calls['incrBy'] ?? 0) + 1;

        return $this->inner->incrBy($key, $delta);
    }
}
