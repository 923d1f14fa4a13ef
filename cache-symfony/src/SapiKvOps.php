<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

use Ephpm\Cache\Symfony\Exception\KvUnavailableException;

/**
 * KvOpsInterface over the ephpm_kv_* functions of the ephpm runtime (also works on the original ePHPm runtime).
 *
 * The batch functions ephpm_kv_mget / ephpm_kv_mset are used when the runtime has them; otherwise the batch methods
 * fall back to one call per key. Nothing store-specific is cached in the object (only which functions exist), so an
 * instance stays valid across requests and for runtimes that pick a per-site store on every call.
 */
final class SapiKvOps implements KvOpsInterface
{
    private readonly bool $hasMget;
    private readonly bool $hasMset;

    /**
     * @throws KvUnavailableException when the ephpm_kv_* functions are not available
     */
    public function __construct()
    {
        if (!\function_exists('ephpm_kv_get')) {
            throw KvUnavailableException::create();
        }
        $this->hasMget = \function_exists('ephpm_kv_mget');
        $this->hasMset = \function_exists('ephpm_kv_mset');
    }

    public function get(string $key): ?string
    {
        return \ephpm_kv_get($key);
    }

    public function mget(array $keys): array
    {
        if ($this->hasMget) {
            return \ephpm_kv_mget($keys);
        }
        $hits = [];
        foreach ($keys as $key) {
            $value = \ephpm_kv_get($key);
            if (null !== $value) {
                $hits[$key] = $value;
            }
        }

        return $hits;
    }

    public function set(string $key, string $value, int $ttl = 0): bool
    {
        return \ephpm_kv_set($key, $value, $ttl);
    }

    public function mset(array $values, int $ttl = 0): bool
    {
        if ($this->hasMset) {
            return \ephpm_kv_mset($values, $ttl);
        }
        $ok = true;
        foreach ($values as $key => $value) {
            if (!\ephpm_kv_set((string) $key, $value, $ttl)) {
                $ok = false;
            }
        }

        return $ok;
    }

    public function del(string $key): bool
    {
        return \ephpm_kv_del($key) > 0;
    }

    public function exists(string $key): bool
    {
        return \ephpm_kv_exists($key);
    }

    public function ttl(string $key): int
    {
        return \ephpm_kv_ttl($key);
    }

    public function incrBy(string $key, int $delta): int|false
    {
        return \ephpm_kv_incr_by($key, $delta);
    }
}
