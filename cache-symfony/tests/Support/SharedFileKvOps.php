<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\KvOpsInterface;

/**
 * Test double: a KvOpsInterface in a directory, so that several processes share one store (the stampede test).
 * Each key is a file holding serialize([deadline, value]); writes go through a temporary file and rename().
 */
final class SharedFileKvOps implements KvOpsInterface
{
    public function __construct(private readonly string $dir)
    {
        if (!is_dir($dir) && !mkdir($dir, 0700, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create $dir");
        }
    }

    private function path(string $key): string
    {
        return $this->dir . '/' . hash('xxh128', $key);
    }

    public function get(string $key): ?string
    {
        $raw = @file_get_contents($this->path($key));
        if (false === $raw) {
            return null;
        }
        /** @var array{float, string} $entry */
        $entry = unserialize($raw);
        if ($entry[0] <= microtime(true)) {
            @unlink($this->path($key));

            return null;
        }

        return $entry[1];
    }

    public function mget(array $keys): array
    {
        $hits = [];
        foreach ($keys as $key) {
            if (null !== $value = $this->get((string) $key)) {
                $hits[$key] = $value;
            }
        }

        return $hits;
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        $tmp = $this->path($key) . '.' . getmypid() . '.tmp';
        file_put_contents($tmp, serialize([$ttl > 0 ? microtime(true) + $ttl : \INF, $value]));

        return rename($tmp, $this->path($key));
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
        return @unlink($this->path($key));
    }

    public function exists(string $key): bool
    {
        return null !== $this->get($key);
    }

    public function ttl(string $key): int
    {
        $raw = @file_get_contents($this->path($key));
        if (false === $raw || null === $this->get($key)) {
            return -2;
        }
        /** @var array{float, string} $entry */
        $entry = unserialize($raw);

        return \INF === $entry[0] ? -1 : max(1, (int) ceil($entry[0] - microtime(true)));
    }

    public function incrBy(string $key, int $delta): int|false
    {
        $current = $this->get($key) ?? '0';
        $value = filter_var($current, \FILTER_VALIDATE_INT);
        if (false === $value) {
            return false;
        }

        return $this->set($key, (string) ($value + $delta)) ? $value + $delta : false;
    }
}
