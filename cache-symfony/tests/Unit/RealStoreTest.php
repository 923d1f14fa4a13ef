<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\SapiKvOps;
use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;

/**
 * Behaviour only the real store has (memory limit, eviction policy, ephpm_kv_mget/mset). Runs in the SapiKvOps leg
 * only: `EPHPM_KV_BACKEND=sapi ephpm php -d zend.assertions=1 vendor/bin/phpunit --group real-store`.
 *
 * @group real-store
 */
final class RealStoreTest extends AdapterTestCase
{
    public function testNoevictionOverTheLimitFailsTheSaveAndKeepsEarlierItems(): void
    {
        $config = tempnam(sys_get_temp_dir(), 'ephpm-noeviction-') ?: self::fail('tempnam');
        file_put_contents($config, "[kv]\nmemory_limit = \"1MB\"\neviction_policy = \"noeviction\"\n");
        try {
            [$code, $out, $err] = self::runProcess(
                [\PHP_BINARY, \dirname(__DIR__) . '/Fixtures/noeviction.php', (string) EPHPM_TEST_AUTOLOAD],
                ['EPHPM_CONFIG' => $config],
            );
        } finally {
            unlink($config);
        }
        self::assertSame(0, $code, $out . $err);
        /** @var array<string, mixed> $r */
        $r = json_decode($out, true, 512, \JSON_THROW_ON_ERROR);

        self::assertSame(1 << 20, $r['memory_limit'], 'the child process runs with the tiny [kv] config');
        self::assertGreaterThan(3, $r['saved']);
        self::assertLessThan(300, $r['saved'], '1 MB cannot hold 300 items of 4 KiB');
        self::assertNotNull($r['refused'], 'a save over the limit returns false');
        self::assertSame($r['saved'], $r['still_hits'], 'every item saved before the refusal is kept (noeviction)');
        self::assertTrue($r['refused_is_miss']);
        self::assertFalse($r['overwrite_result'], 'a refused overwrite is a failed save');
        self::assertTrue($r['overwrite_is_miss'], 'a refused overwrite reads as a miss, not as the stale value');
        self::assertTrue($r['small_save']);
        self::assertSame('fits', $r['small_hit']);
    }

    public function testTheRealStoreHasTheBatchFunctions(): void
    {
        self::assertTrue(\function_exists('ephpm_kv_mget'));
        self::assertTrue(\function_exists('ephpm_kv_mset'));
        $ops = new SapiKvOps();
        self::assertTrue($ops->mset(['a' => '1', '42' => 'num', "b\0c" => 'nul'], 0));
        $hits = $ops->mget(['a', 'missing', '42', "b\0c", "b\0d"]);
        self::assertSame(['a' => '1', 42 => 'num', "b\0c" => 'nul'], $hits);
    }

    public function testTheSameStoreBacksEveryAdapterInTheProcess(): void
    {
        $a = new EphpmKvAdapter('proc');
        $a->save($a->getItem('k')->set('v'));
        self::assertSame('v', (new EphpmKvAdapter('proc'))->getItem('k')->get());
        self::assertIsString(\ephpm_kv_get(EphpmKvAdapter::encodeId(self::idOf($a, 'k'))));
    }
}
