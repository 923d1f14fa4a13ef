<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\KvOpsInterface;

/**
 * Test double that behaves like the original ePHPm runtime's ephpm_kv_* functions, which SapiKvOps also drives:
 *
 * - keys cross a C boundary as NUL-terminated strings: "a\0b" is stored as "a";
 * - a key that is not valid UTF-8 silently fails (get null, set false, del 0, exists false, ttl -2, incr false);
 * - there is no ephpm_kv_mget / ephpm_kv_mset: the batch methods loop over single calls, as SapiKvOps does there;
 * - with a memory limit (setMemoryLimit(), bytes of key + value), an overwrite removes the old entry *before* the
 *   memory check, so a refused set loses the previous value;
 * - del() of an expired but not yet reaped key returns true.
 *
 * Storage is static (shared by all instances), like the runtime's store.
 */
final class EphpmLikeKvOps implements KvOpsInterface
{
    /** @var array<array-key, array{string, float}> */
    private static array $data = [];
    private static int $memoryLimit = 0;
    private static int $used = 0;

    public static function reset(): void
    {
        self::$data = [];
        self::$used = 0;
        self::$memoryLimit = 0;
    }

    /** 0 = unlimited. Writes that would exceed the limit are refused (noeviction). */
    public static function setMemoryLimit(int $bytes): void
    {
        self::$memoryLimit = $bytes;
    }

    /** The key as ePHPm's C side sees it, or null when it cannot cross (not UTF-8). */
    private static function cKey(string $key): ?string
    {
        if (!mb_check_encoding($key, 'UTF-8')) {
            return null;
        }
        $nul = strpos($key, "\0");

        return false === $nul ? $key : substr($key, 0, $nul);
    }

    private static function live(string $k): ?string
    {
        $entry = self::$data[$k] ?? null;
        if (null === $entry) {
            return null;
        }
        if ($entry[1] <= microtime(true)) {
            self::remove($k);

            return null;
        }

        return $entry[0];
    }

    private static function remove(string $k): void
    {
        if (isset(self::$data[$k])) {
            self::$used -= \strlen($k) + \strlen(self::$data[$k][0]);
            unset(self::$data[$k]);
        }
    }

    public function get(string $key): ?string
    {
        $k = self::cKey($key);

        return null === $k ? null : self::live($k);
    }

    public function mget(array $keys): array
    {
        $hits = [];
        foreach ($keys as $key) {
            $value = $this->get((string) $key);
            if (null !== $value) {
                $hits[$key] = $value;
            }
        }

        return $hits;
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        $k = self::cKey($key);
        if (null === $k) {
            return false;
        }
        self::remove($k); // ePHPm drops the old entry before checking memory
        $size = \strlen($k) + \strlen($value);
        if (self::$memoryLimit > 0 && self::$used + $size > self::$memoryLimit) {
            return false;
        }
        self::$data[$k] = [$value, $ttl > 0 ? microtime(true) + $ttl : \INF];
        self::$used += $size;

        return true;
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
        $k = self::cKey($key);
        if (null === $k || !isset(self::$data[$k])) {
            return false;
        }
        self::remove($k);

        return true;
    }

    public function exists(string $key): bool
    {
        return null !== $this->get($key);
    }

    public function ttl(string $key): int
    {
        $k = self::cKey($key);
        if (null === $k || null === self::live($k)) {
            return -2;
        }
        $deadline = self::$data[$k][1];

        return \INF === $deadline ? -1 : max(1, (int) ceil($deadline - microtime(true)));
    }

    public function incrBy(string $key, int $delta): int|false
    {
        $k = self::cKey($key);
        if (null === $k) {
            return false;
        }
        $current = self::live($k);
        if (null === $current) {
            return $this->set($k, (string) $delta) ? $delta : false;
        }
        $value = filter_var($current, \FILTER_VALIDATE_INT);
        if (false === $value || !\is_int($sum = $value + $delta)) {
            return false;
        }
        $deadline = self::$data[$k][1];
        $ttl = \INF === $deadline ? 0 : max(1, (int) ceil($deadline - microtime(true)));

        return $this->set($k, (string) $sum, $ttl) ? $sum : false;
    }
}
