<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\InMemoryKvOps;
use Ephpm\Cache\Symfony\Tests\Support\ArrayLogger;
use Ephpm\Cache\Symfony\Tests\Support\EphpmLikeKvOps;
use Ephpm\Cache\Symfony\Tests\Support\RefusingKvOps;
use PHPUnit\Framework\TestCase;

/**
 * A write the store refuses (memory limit under noeviction) is a failed save, and the key then reads as a miss on
 * both runtime flavours: ephpm keeps the old value on refusal (the adapter deletes it), the original ePHPm has already
 * dropped it. The real store is exercised by RealStoreTest (group real-store, `ephpm php` only).
 */
final class RefusedSaveTest extends TestCase
{
    protected function setUp(): void
    {
        InMemoryKvOps::reset();
        EphpmLikeKvOps::reset();
    }

    protected function tearDown(): void
    {
        InMemoryKvOps::reset();
        EphpmLikeKvOps::reset();
    }

    public function testRefusedOverwriteOnARuntimeThatKeepsTheOldValueReadsAsAMiss(): void
    {
        $ops = new RefusingKvOps(200);
        $logger = new ArrayLogger();
        $pool = new EphpmKvAdapter('refuse', 0, $ops);
        $pool->setLogger($logger);

        self::assertTrue($pool->save($pool->getItem('a')->set('small')));
        self::assertTrue($pool->save($pool->getItem('b')->set('small')));
        self::assertFalse($pool->save($pool->getItem('a')->set(str_repeat('x', 1000))));
        self::assertSame(1, $ops->refusals);
        self::assertCount(1, $logger->messages('warning'));

        $fresh = new EphpmKvAdapter('refuse', 0, $ops);
        self::assertFalse($fresh->getItem('a')->isHit(), 'a refused overwrite must not leave a stale hit');
        self::assertSame('small', $fresh->getItem('b')->get());
    }

    public function testRefusalInsideABatchFailsOnlyThatItem(): void
    {
        $ops = new RefusingKvOps(200);
        $logger = new ArrayLogger();
        $pool = new EphpmKvAdapter('batch', 0, $ops);
        $pool->setLogger($logger);
        $pool->save($pool->getItem('big')->set('old'));

        $pool->saveDeferred($pool->getItem('one')->set(1));
        $pool->saveDeferred($pool->getItem('big')->set(str_repeat('x', 1000)));
        $pool->saveDeferred($pool->getItem('two')->set(2));
        self::assertFalse($pool->commit());
        self::assertCount(1, $logger->messages('warning'));
        $log = json_encode($logger->records, \JSON_THROW_ON_ERROR | \JSON_INVALID_UTF8_SUBSTITUTE);
        self::assertStringContainsString('big', $log);

        $fresh = new EphpmKvAdapter('batch', 0, $ops);
        self::assertSame(1, $fresh->getItem('one')->get());
        self::assertSame(2, $fresh->getItem('two')->get());
        self::assertFalse($fresh->getItem('big')->isHit());
    }

    public function testRefusedWritesOnTheEphpmLikeRuntime(): void
    {
        EphpmLikeKvOps::setMemoryLimit(4096);
        $pool = new EphpmKvAdapter('ephpm', 0, new EphpmLikeKvOps());
        $saved = [];
        for ($i = 0; $i < 100; ++$i) {
            if (!$pool->save($pool->getItem("k$i")->set(str_repeat('v', 300)))) {
                break;
            }
            $saved[] = "k$i";
        }
        self::assertGreaterThan(3, \count($saved));
        self::assertLessThan(100, \count($saved), 'the memory limit must refuse a write');

        $fresh = new EphpmKvAdapter('ephpm', 0, new EphpmLikeKvOps());
        foreach ($saved as $key) {
            self::assertTrue($fresh->getItem($key)->isHit(), "$key was saved and must still be there");
        }
        self::assertFalse($fresh->getItem('k' . \count($saved))->isHit());

        // An overwrite that does not fit: ePHPm drops the old value itself; either way it is a failed save + miss.
        self::assertFalse($fresh->save($fresh->getItem($saved[0])->set(str_repeat('w', 8000))));
        self::assertFalse((new EphpmKvAdapter('ephpm', 0, new EphpmLikeKvOps()))->getItem($saved[0])->isHit());
    }

    public function testClearWorksOnTheEphpmLikeRuntime(): void
    {
        $pool = new EphpmKvAdapter('c', 0, new EphpmLikeKvOps());
        $pool->save($pool->getItem("nul\0key")->set('v'));
        self::assertTrue($pool->clear());
        self::assertFalse($pool->getItem("nul\0key")->isHit());
    }
}
