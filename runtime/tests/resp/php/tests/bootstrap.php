<?php

declare(strict_types=1);

/*
 * REDIS_HOST, REDIS_PORT   the ephpm Redis-protocol listener under test (never a real Redis).
 * cache/integration-tests  Debian's php-cache-integration-tests (/usr/share/php/Cache/IntegrationTests), the PSR-6 and
 *                          PSR-16 suites run against Symfony's stock RedisAdapter over the listener.
 */

require dirname(__DIR__) . '/vendor/autoload.php';

if (!getenv('REDIS_HOST') || !getenv('REDIS_PORT')) {
    fwrite(STDERR, "REDIS_HOST and REDIS_PORT must name the ephpm listener under test.\n");
    exit(1);
}
$integrationDir = getenv('CACHE_INTEGRATION_TESTS') ?: '/usr/share/php/Cache/IntegrationTests';
if (!is_file($integrationDir . '/CachePoolTest.php')) {
    fwrite(STDERR, "cache/integration-tests not found in $integrationDir: apt-get install php-cache-integration-tests\n");
    exit(1);
}
// Only the test classes: Debian's autoload.php would also register its own psr/cache 1.0.
spl_autoload_register(static function (string $class) use ($integrationDir): void {
    $prefix = 'Cache\\IntegrationTests\\';
    if (str_starts_with($class, $prefix)) {
        $file = $integrationDir . '/' . substr($class, strlen($prefix)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
