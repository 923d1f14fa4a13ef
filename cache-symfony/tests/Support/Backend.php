<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\InMemoryKvOps;
use Ephpm\Cache\Symfony\KvOpsInterface;
use Ephpm\Cache\Symfony\SapiKvOps;

/**
 * The backend the suites run against, chosen by EPHPM_KV_BACKEND:
 * memory (InMemoryKvOps, plain php), ephpm-like (EphpmLikeKvOps, the original-ePHPm double) or sapi (SapiKvOps, the
 * real store; run the suite under `ephpm php`).
 */
final class Backend
{
    public const MEMORY = 'memory';
    public const EPHPM_LIKE = 'ephpm-like';
    public const SAPI = 'sapi';

    public static function name(): string
    {
        $name = getenv('EPHPM_KV_BACKEND') ?: self::MEMORY;
        if (!\in_array($name, [self::MEMORY, self::EPHPM_LIKE, self::SAPI], true)) {
            throw new \InvalidArgumentException("EPHPM_KV_BACKEND must be memory, ephpm-like or sapi, not \"$name\".");
        }

        return $name;
    }

    public static function ops(): KvOpsInterface
    {
        return match (self::name()) {
            self::MEMORY => new InMemoryKvOps(),
            self::EPHPM_LIKE => new EphpmLikeKvOps(),
            self::SAPI => new SapiKvOps(),
        };
    }

    /**
     * Empties the whole store of this process. Test-only: an application must never flush the shared store.
     */
    public static function flush(): void
    {
        match (self::name()) {
            self::MEMORY => InMemoryKvOps::reset(),
            self::EPHPM_LIKE => EphpmLikeKvOps::reset(),
            self::SAPI => \ephpm_kv_flush_all(),
        };
    }

    public static function announce(): void
    {
        $version = class_exists(\Composer\InstalledVersions::class)
            ? \Composer\InstalledVersions::getPrettyVersion('symfony/cache') : '?';
        fwrite(\STDOUT, sprintf(
            "backend: %s, symfony/cache %s, PHP %s (%s), zend.assertions=%s\n",
            self::name(),
            $version,
            \PHP_VERSION,
            \PHP_SAPI,
            ini_get('zend.assertions')
        ));
        if (self::SAPI === self::name() && !\function_exists('ephpm_kv_get')) {
            fwrite(\STDERR, "EPHPM_KV_BACKEND=sapi needs the ephpm_kv_* functions: run under `ephpm php`.\n");
            exit(1);
        }
    }

    public static function symfonyMajor(): int
    {
        $version = \Composer\InstalledVersions::getVersion('symfony/cache') ?? '0';

        return (int) ltrim($version, 'v');
    }
}
