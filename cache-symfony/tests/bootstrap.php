<?php

declare(strict_types=1);

/*
 * Test bootstrap.
 *
 * EPHPM_CACHE_AUTOLOAD      Composer autoloader to use (the version-matrix legs point it at .matrix/<ver>/vendor);
 *                           default: ../vendor/autoload.php.
 * EPHPM_KV_BACKEND          memory (default; InMemoryKvOps), ephpm-like (the original-ePHPm double) or sapi
 *                           (SapiKvOps, the real store: run under `ephpm php`).
 * CACHE_INTEGRATION_TESTS   directory of cache/integration-tests 0.17's src/ (CachePoolTest.php ...); default: the
 *                           Composer copy if one is installed, else Debian's php-cache-integration-tests
 *                           (/usr/share/php/Cache/IntegrationTests; our Packagist mirror lacks the package).
 */

use Symfony\Component\Cache\LockRegistry;

$autoload = getenv('EPHPM_CACHE_AUTOLOAD') ?: dirname(__DIR__) . '/vendor/autoload.php';
if (!is_file($autoload)) {
    fwrite(STDERR, "Autoloader $autoload not found: run `composer install` in cache-symfony/ first.\n");
    exit(1);
}
/** @var Composer\Autoload\ClassLoader $loader */
$loader = require $autoload;
define('EPHPM_TEST_AUTOLOAD', realpath($autoload));
// The matrix legs install this package as a path dependency, whose autoload-dev is not loaded.
$loader->addPsr4('Ephpm\\Cache\\Symfony\\Tests\\', __DIR__);

// Before any test: Symfony's early-recomputation draw goes through FixedRandom (off unless a test seeds it).
require __DIR__ . '/Support/fixed-random.php';

// A Composer copy (`composer require --dev cache/integration-tests:^0.17` where Packagist has it) wins over Debian's.
$composerCopy = dirname($autoload) . '/cache/integration-tests/src';
$integrationDir = getenv('CACHE_INTEGRATION_TESTS')
    ?: (is_file($composerCopy . '/CachePoolTest.php') ? $composerCopy : '/usr/share/php/Cache/IntegrationTests');
if (!is_file($integrationDir . '/CachePoolTest.php')) {
    fwrite(STDERR, "cache/integration-tests not found in $integrationDir: apt-get install php-cache-integration-tests"
        . " (or set CACHE_INTEGRATION_TESTS to its src/ directory).\n");
    exit(1);
}
// Only the test classes: Debian's autoload.php would also register its own psr/cache 1.0.
spl_autoload_register(static function (string $class) use ($integrationDir): void {
    $prefix = 'Cache\\IntegrationTests\\';
    if (!str_starts_with($class, $prefix)) {
        return;
    }
    $file = $integrationDir . '/' . substr($class, strlen($prefix)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});

// Stampede protection flock()s files of the symfony/cache package by default. Processes that run tests in parallel
// (matrix legs, other suites) with separate stores must not wait on each other's locks: use private lock files.
$lockDir = sys_get_temp_dir() . '/ephpm-cache-symfony-locks-' . getmypid();
@mkdir($lockDir, 0700, true);
$lockFiles = [];
for ($i = 0; $i < 4; ++$i) {
    touch($lockFiles[] = "$lockDir/lock$i");
}
LockRegistry::setFiles($lockFiles);
register_shutdown_function(static function () use ($lockDir, $lockFiles): void {
    foreach ($lockFiles as $f) {
        @unlink($f);
    }
    @rmdir($lockDir);
});

Ephpm\Cache\Symfony\Tests\Support\Backend::announce();
