<?php

/*
 * One of the two processes of StampedeTest: get() of the same key through EphpmKvAdapter over a store shared by
 * both processes, with both processes using the same (private) LockRegistry lock file.
 *
 * argv: autoload, store dir, lock file, compute log, sleep (ms)
 */

declare(strict_types=1);

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\Tests\Support\SharedFileKvOps;
use Symfony\Component\Cache\LockRegistry;
use Symfony\Contracts\Cache\ItemInterface;

[, $autoload, $storeDir, $lockFile, $computeLog, $sleepMs] = $argv;
$loader = require $autoload;
$loader->addPsr4('Ephpm\\Cache\\Symfony\\Tests\\', dirname(__DIR__));

LockRegistry::setFiles([$lockFile]);
$pool = new EphpmKvAdapter('stampede', 0, new SharedFileKvOps($storeDir));
// symfony/cache turns LockRegistry off under the cli/phpdbg SAPIs (7.4: also embed), which is what both `php` and
// `ephpm php` report; `ephpm serve` (SAPI fpm-fcgi) gets it by default. Turn it on explicitly for the test.
$pool->setCallbackWrapper(Closure::fromCallable([LockRegistry::class, 'compute']));

$value = $pool->get('report', static function (ItemInterface $item) use ($computeLog, $sleepMs): string {
    file_put_contents($computeLog, getmypid() . "\n", FILE_APPEND | LOCK_EX);
    usleep((int) $sleepMs * 1000);
    $item->expiresAfter(60);

    return 'computed by ' . getmypid();
});
echo $value;
