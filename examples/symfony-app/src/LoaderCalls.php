<?php

namespace App;

/**
 * Counts how often a cache loader really ran, per pool, in the ephpm store itself (outside every cache pool, so
 * clearing a pool does not reset it). This is what makes a miss observable from outside: the JSON responses carry
 * the count, and a test sees it go up exactly when the server recomputes.
 */
final class LoaderCalls
{
    private const PREFIX = 'symfony-app.loader-calls.';

    public function increment(string $pool): int
    {
        return (int) ephpm_kv_incr(self::PREFIX.$pool);
    }

    public function get(string $pool): int
    {
        return (int) (ephpm_kv_get(self::PREFIX.$pool) ?? 0);
    }
}
