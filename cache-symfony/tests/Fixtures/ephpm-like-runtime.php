<?php

/*
 * Defines the 14 ephpm_kv_* functions of the original ePHPm runtime (no ephpm_kv_mget / _mset / _stats) on a plain
 * php, over the EphpmLikeKvOps double (keys cut at NUL, non-UTF-8 keys fail, a refused set drops the old value).
 * Lets SapiKvOps run its one-call-per-key fallbacks. Only for a php without the real functions: the includer checks
 * (the declarations below are bound when this file is compiled, before any code in it runs).
 *
 * argv: autoload
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\Tests\Support\EphpmLikeKvOps;

$loader = require $argv[1];
$loader->addPsr4('Ephpm\\Cache\\Symfony\\Tests\\', dirname(__DIR__));

/** @var array<string, int> $calls */
$GLOBALS['ephpm_calls'] = [];

function ephpm_like(string $function): EphpmLikeKvOps
{
    $GLOBALS['ephpm_calls'][$function] = ($GLOBALS['ephpm_calls'][$function] ?? 0) + 1;

    return new EphpmLikeKvOps();
}

function ephpm_kv_get(string $key): ?string
{
    return ephpm_like(__FUNCTION__)->get($key);
}

function ephpm_kv_set(string $key, string $value, int $ttl = 0): bool
{
    return ephpm_like(__FUNCTION__)->set($key, $value, $ttl);
}

function ephpm_kv_del(string $key): int
{
    return ephpm_like(__FUNCTION__)->del($key) ? 1 : 0;
}

function ephpm_kv_exists(string $key): bool
{
    return ephpm_like(__FUNCTION__)->exists($key);
}

function ephpm_kv_ttl(string $key): int
{
    return ephpm_like(__FUNCTION__)->ttl($key);
}

function ephpm_kv_incr_by(string $key, int $delta): int|false
{
    return ephpm_like(__FUNCTION__)->incrBy($key, $delta);
}
