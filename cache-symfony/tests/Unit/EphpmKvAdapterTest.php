<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\InMemoryKvOps;
use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;
use Ephpm\Cache\Symfony\Tests\Support\ArrayLogger;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Symfony\Component\Cache\Exception\InvalidArgumentException;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * Behaviour the public suites do not check (docs/symfony-adapter.md section 9), on the backend chosen by
 * EPHPM_KV_BACKEND.
 */
final class EphpmKvAdapterTest extends AdapterTestCase
{
    public function testZeroLifetimeMeansForever(): void
    {
        $pool = $this->adapter('forever');
        self::assertTrue($pool->save($pool->getItem('k')->set('v')));

        // The backend key has no TTL at all (not a short one, not the backend's default).
        self::assertSame(-1, Backend::ops()->ttl(self::backendKeyOf($pool, 'k')));

        // An explicit expiresAfter(null) and a pool default of 0 mean the same.
        self::assertTrue($pool->save($pool->getItem('k2')->set('v')->expiresAfter(null)));
        self::assertSame(-1, Backend::ops()->ttl(self::backendKeyOf($pool, 'k2')));

        usleep(1_100_000);
        $fresh = $this->adapter('forever');
        self::assertTrue($fresh->getItem('k')->isHit());
        self::assertSame('v', $fresh->getItem('k')->get());
    }

    public function testLifetimesReachTheBackendInSeconds(): void
    {
        $pool = $this->adapter('ttl', 300);
        $pool->save($pool->getItem('default')->set(1));
        $pool->save($pool->getItem('explicit')->set(1)->expiresAfter(60));
        $pool->save($pool->getItem('at')->set(1)->expiresAt(new \DateTimeImmutable('+1 day')));

        $ttl = Backend::ops()->ttl(self::backendKeyOf($pool, 'default'));
        self::assertGreaterThanOrEqual(290, $ttl); // slack for a loaded machine
        self::assertLessThanOrEqual(300, $ttl);
        $ttl = Backend::ops()->ttl(self::backendKeyOf($pool, 'explicit'));
        self::assertGreaterThanOrEqual(50, $ttl);
        self::assertLessThanOrEqual(60, $ttl);
        $ttl = Backend::ops()->ttl(self::backendKeyOf($pool, 'at'));
        self::assertGreaterThanOrEqual(86_390, $ttl);
        self::assertLessThanOrEqual(86_400, $ttl);
    }

    public function testItemsExpire(): void
    {
        $pool = $this->adapter('expiry');
        $pool->save($pool->getItem('short')->set('v')->expiresAfter(1));
        self::assertTrue($pool->getItem('short')->isHit());
        usleep(2_100_000);
        self::assertFalse($pool->getItem('short')->isHit());
        self::assertFalse($pool->hasItem('short'));
    }

    /**
     * @return iterable<string, array{mixed}>
     */
    public static function falsyValues(): iterable
    {
        yield 'false' => [false];
        yield 'null' => [null];
        yield 'empty string' => [''];
        yield 'string zero' => ['0'];
        yield 'int zero' => [0];
        yield 'float zero' => [0.0];
        yield 'empty array' => [[]];
    }

    /**
     * @dataProvider falsyValues
     */
    public function testFalsyValuesAreHits(mixed $value): void
    {
        $pool = $this->adapter('falsy');
        self::assertTrue($pool->save($pool->getItem('k')->set($value)));
        $pool->saveDeferred($pool->getItem('batch1')->set($value));
        $pool->saveDeferred($pool->getItem('batch2')->set($value));
        self::assertTrue($pool->commit());

        $fresh = $this->adapter('falsy');
        $item = $fresh->getItem('k');
        self::assertTrue($item->isHit());
        self::assertSame($value, $item->get());
        self::assertTrue($fresh->hasItem('k'));

        foreach ($fresh->getItems(['batch1', 'batch2', 'absent']) as $key => $item) {
            if ('absent' === $key) {
                self::assertFalse($item->isHit());
                continue;
            }
            self::assertTrue($item->isHit(), $key);
            self::assertSame($value, $item->get(), $key);
        }

        $calls = 0;
        self::assertSame($value, $fresh->get('k', function () use (&$calls) {
            ++$calls;

            return 'recomputed';
        }));
        self::assertSame(0, $calls, 'a stored falsy value is a hit for get() too');
    }

    public function testUnserializableValueIsNotSaved(): void
    {
        $logger = new ArrayLogger();
        $pool = $this->adapter('marshal');
        $pool->setLogger($logger);

        self::assertFalse($pool->save($pool->getItem('closure')->set(static fn (): int => 1)));
        self::assertCount(1, $logger->messages('warning'));
        self::assertStringContainsString('Failed to save key', $logger->messages('warning')[0]);

        // In one commit: the bad item fails the commit, the good ones are stored anyway.
        $pool->saveDeferred($pool->getItem('ok1')->set('one'));
        $pool->saveDeferred($pool->getItem('bad')->set(new class () {
            public \Closure $f;

            public function __construct()
            {
                $this->f = static fn (): int => 1;
            }
        }));
        $pool->saveDeferred($pool->getItem('ok2')->set('two'));
        self::assertFalse($pool->commit());
        self::assertCount(2, $logger->messages('warning'));

        $fresh = $this->adapter('marshal');
        self::assertFalse($fresh->getItem('closure')->isHit());
        self::assertFalse($fresh->getItem('bad')->isHit());
        self::assertSame('one', $fresh->getItem('ok1')->get());
        self::assertSame('two', $fresh->getItem('ok2')->get());
    }

    public function testUnreadableStoredBytesAreMissesAndDoNotSpoilABatch(): void
    {
        $logger = new ArrayLogger();
        $pool = $this->adapter('garbage');
        $pool->setLogger($logger);
        $pool->save($pool->getItem('good')->set('fine'));
        $pool->save($pool->getItem('bad')->set('x'));
        // Unknown class: unserialize() must fail instead of yielding __PHP_Incomplete_Class.
        Backend::ops()->set(self::backendKeyOf($pool, 'bad'), 'O:18:"Ephpm\NoSuchClass1":0:{}');

        self::assertFalse($pool->getItem('bad')->isHit());
        $items = iterator_to_array($pool->getItems(['good', 'bad']));
        self::assertTrue($items['good']->isHit());
        self::assertSame('fine', $items['good']->get());
        self::assertFalse($items['bad']->isHit());
        self::assertNotEmpty($logger->messages('warning'));
    }

    public function testLongKeysAreHashedNotTruncated(): void
    {
        $pool = $this->adapter('long');
        $prefix = str_repeat('p', 250);
        $long = str_repeat('k', 300);
        $a = $prefix . 'A' . str_repeat('x', 49);
        $b = $prefix . 'B' . str_repeat('x', 49);

        self::assertTrue($pool->save($pool->getItem($long)->set('long')));
        self::assertTrue($pool->save($pool->getItem($a)->set('a')));
        self::assertTrue($pool->save($pool->getItem($b)->set('b')));
        foreach ([$long, $a, $b] as $key) {
            self::assertLessThanOrEqual(EphpmKvAdapter::MAX_ID_LENGTH, \strlen(self::idOf($pool, $key)));
        }

        $fresh = $this->adapter('long');
        self::assertSame('long', $fresh->getItem($long)->get());
        self::assertSame('a', $fresh->getItem($a)->get());
        self::assertSame('b', $fresh->getItem($b)->get());
        $fresh->deleteItem($a);
        self::assertFalse($fresh->hasItem($a));
        self::assertTrue($fresh->hasItem($b));
    }

    public function testOddKeysRoundTripWithoutCollisions(): void
    {
        $keys = [
            "a\0b", "a\0c", 'a', "a\0", "\0", "\xff\xfe", "\xff",
            "line\nbreak", "cr\rlf\n", "tab\there", 'é', "\xc3", 'ns.x', ' ',
        ];
        $pool = $this->adapter('odd');
        foreach ($keys as $i => $key) {
            self::assertTrue($pool->save($pool->getItem($key)->set("value $i")), bin2hex($key));
        }

        $fresh = $this->adapter('odd');
        foreach ($keys as $i => $key) {
            self::assertSame("value $i", $fresh->getItem($key)->get(), bin2hex($key));
        }
        $items = iterator_to_array($fresh->getItems($keys));
        foreach ($keys as $i => $key) {
            self::assertTrue($items[$key]->isHit(), bin2hex($key));
            self::assertSame("value $i", $items[$key]->get(), bin2hex($key));
        }
        self::assertTrue($fresh->deleteItem("a\0b"));
        self::assertFalse($fresh->hasItem("a\0b"));
        self::assertTrue($fresh->hasItem("a\0c"));
        self::assertTrue($fresh->hasItem('a'));
    }

    public function testIdsWithReservedCharactersAreEncodedInjectively(): void
    {
        // With zend.assertions off, PSR-6 keys are not validated, and "{" can reach the backend. Ids that look like
        // encoded ids must not collide with the ids they encode.
        $encodedNul = EphpmKvAdapter::encodeId("a\0b");
        self::assertStringStartsWith('{', $encodedNul);
        $ids = ["a\0b", $encodedNul, '{', '{{', '}', "{\0", 'plain', "\xff"];
        $keys = array_map(EphpmKvAdapter::encodeId(...), $ids);
        self::assertSame(\count($ids), \count(array_unique($keys)));
        foreach ($keys as $key) {
            self::assertStringNotContainsString("\0", $key);
            self::assertTrue(mb_check_encoding($key, 'UTF-8'));
        }
        self::assertSame('plain', EphpmKvAdapter::encodeId('plain'));
        self::assertSame('ns:v:é+/=', EphpmKvAdapter::encodeId('ns:v:é+/='));

        $pool = $this->adapter('raw');
        $values = [];
        foreach ($ids as $i => $id) {
            $values[$id] = "v$i";
        }
        self::assertSame([], self::callDo($pool, 'doSave', [$values, 0]));
        $fetched = self::callDo($pool, 'doFetch', [$ids]);
        self::assertIsIterable($fetched);
        self::assertSame($values, iterator_to_array($fetched));
        foreach ($ids as $id) {
            self::assertTrue(self::callDo($pool, 'doHave', [$id]));
        }
    }

    public function testLargeValueRoundTrip(): void
    {
        $pool = $this->adapter('big');
        $value = random_bytes(1 << 20);
        self::assertTrue($pool->save($pool->getItem('mib')->set($value)));
        self::assertSame($value, $this->adapter('big')->getItem('mib')->get());
    }

    public function testClearHidesOldItemsAndReturnsTrue(): void
    {
        $pool = $this->adapter('app');
        $other = $this->adapter('other');
        $ops = Backend::ops();
        $pool->save($pool->getItem('a')->set(1));
        $pool->save($pool->getItem('b')->set(2));
        $other->save($other->getItem('a')->set('kept'));
        self::assertTrue($ops->set('raw-key', 'raw'));

        self::assertTrue($pool->clear());
        self::assertFalse($pool->getItem('a')->isHit());
        self::assertFalse($pool->hasItem('b'));
        self::assertSame([], array_filter(array_map(
            static fn ($i): bool => $i->isHit(),
            iterator_to_array($pool->getItems(['a', 'b'])),
        )));

        // No flush: other namespaces and raw keys are untouched.
        self::assertSame('kept', $other->getItem('a')->get());
        self::assertSame('raw', $ops->get('raw-key'));

        // The pool works after clear(); the version record has no TTL.
        $pool->save($pool->getItem('a')->set('new'));
        self::assertSame('new', $pool->getItem('a')->get());
        self::assertSame(-1, $ops->ttl(EphpmKvAdapter::encodeId(':app:')));
        self::assertNotNull($ops->get(EphpmKvAdapter::encodeId(':app:')));
    }

    public function testClearIsSeenByAnotherInstanceAfterReset(): void
    {
        $writer = $this->adapter('shared');
        $reader = $this->adapter('shared');
        $writer->save($writer->getItem('k')->set('v'));
        self::assertSame('v', $reader->getItem('k')->get());

        self::assertTrue($writer->clear());
        self::assertFalse($writer->getItem('k')->isHit());
        // The reader memoizes the namespace version until reset() (Symfony's services_resetter calls it).
        $reader->reset();
        self::assertFalse($reader->getItem('k')->isHit());
        self::assertFalse($this->adapter('shared')->getItem('k')->isHit());
    }

    public function testClearWithEmptyNamespace(): void
    {
        $pool = $this->adapter('');
        $pool->save($pool->getItem('k')->set('v'));
        self::assertSame('v', $this->adapter('')->getItem('k')->get());
        self::assertTrue($pool->clear());
        self::assertFalse($this->adapter('')->getItem('k')->isHit());
    }

    public function testGetWithCallback(): void
    {
        $pool = $this->adapter('contracts');
        $calls = 0;
        $compute = function (ItemInterface $item) use (&$calls): array {
            ++$calls;
            $item->expiresAfter(3600);

            return ['computed' => $calls];
        };
        self::assertSame(['computed' => 1], $pool->get('k', $compute));
        self::assertSame(['computed' => 1], $pool->get('k', $compute));
        self::assertSame(['computed' => 1], $this->adapter('contracts')->get('k', $compute));
        self::assertSame(1, $calls);
        $ttl = Backend::ops()->ttl(self::backendKeyOf($pool, 'k'));
        self::assertGreaterThan(3590, $ttl);

        // $save = false: returned but not stored.
        self::assertSame('once', $pool->get('nosave', function (ItemInterface $item, bool &$save): string {
            $save = false;

            return 'once';
        }));
        self::assertFalse($pool->hasItem('nosave'));

        self::assertTrue($pool->delete('k'));
        self::assertSame(['computed' => 2], $pool->get('k', $compute));
    }

    public function testBetaEarlyExpiration(): void
    {
        $pool = $this->adapter('beta');
        $calls = 0;
        $compute = function (ItemInterface $item) use (&$calls): int {
            $item->expiresAfter(60);
            usleep(5_000); // a measurable computation time, stored as the ctime metadata

            return ++$calls;
        };
        self::assertSame(1, $pool->get('k', $compute));
        self::assertSame(1, $pool->get('k', $compute, 0.0), 'beta 0 never recomputes early');
        self::assertSame(1, $pool->get('k', $compute));
        self::assertSame(2, $pool->get('k', $compute, \INF), 'beta INF always recomputes');
        self::assertSame(2, $this->adapter('beta')->get('k', $compute), 'the early recomputation was stored');

        $metadata = $pool->getItem('k')->getMetadata();
        self::assertArrayHasKey(ItemInterface::METADATA_EXPIRY, $metadata);
        self::assertEqualsWithDelta(microtime(true) + 60, $metadata[ItemInterface::METADATA_EXPIRY], 2.0);
        self::assertArrayHasKey(ItemInterface::METADATA_CTIME, $metadata);
        self::assertGreaterThanOrEqual(5, $metadata[ItemInterface::METADATA_CTIME]);
    }

    public function testIgbinaryMarshallerInjection(): void
    {
        if (!\extension_loaded('igbinary')) {
            self::markTestSkipped('the igbinary extension is not loaded in this PHP');
        }
        $marshaller = new DefaultMarshaller(true);
        $pool = $this->adapter('igb', 0, null, $marshaller);
        $value = ['id' => 42, 'tags' => ['a', 'b'], 'at' => new \DateTimeImmutable('2026-01-01T00:00:00Z')];
        self::assertTrue($pool->save($pool->getItem('k')->set($value)));

        $raw = Backend::ops()->get(self::backendKeyOf($pool, 'k'));
        self::assertIsString($raw);
        self::assertSame("\x00\x00\x00\x02", substr($raw, 0, 4), 'stored in igbinary format');
        self::assertEquals($value, $this->adapter('igb', 0, null, $marshaller)->getItem('k')->get());
        self::assertSame('x', $pool->get('cb', static fn (): string => 'x'));
        self::assertSame('x', $this->adapter('igb', 0, null, $marshaller)->get('cb', static fn (): string => 'y'));
    }

    public function testCustomMarshallerIsUsedBothWays(): void
    {
        $marshaller = new class () implements MarshallerInterface {
            public int $marshalled = 0;
            public int $unmarshalled = 0;

            /**
             * @param array<mixed> $values
             * @param array<mixed>|null $failed
             *
             * @return array<mixed>
             */
            public function marshall(array $values, ?array &$failed): array
            {
                $failed = [];
                $out = [];
                foreach ($values as $id => $value) {
                    ++$this->marshalled;
                    $out[$id] = 'custom:' . serialize($value);
                }

                return $out;
            }

            public function unmarshall(string $value): mixed
            {
                ++$this->unmarshalled;
                if (!str_starts_with($value, 'custom:')) {
                    throw new \UnexpectedValueException('not mine');
                }

                return unserialize(substr($value, 7));
            }
        };
        $pool = $this->adapter('custom', 0, null, $marshaller);
        $pool->save($pool->getItem('k')->set([1, 2]));
        self::assertStringStartsWith('custom:', (string) Backend::ops()->get(self::backendKeyOf($pool, 'k')));
        self::assertSame([1, 2], $this->adapter('custom', 0, null, $marshaller)->getItem('k')->get());
        self::assertGreaterThan(0, $marshaller->marshalled);
        self::assertGreaterThan(0, $marshaller->unmarshalled);
    }

    public function testReadmeHealthCheck(): void
    {
        $cache = $this->adapter('app');
        // Verbatim from the README ("Verifying the connection is live").
        $item = $cache->getItem('__healthcheck')->set('1')->expiresAfter(5);
        $cache->save($item);
        assert($cache->getItem('__healthcheck')->get() === '1');

        self::assertSame('1', $cache->getItem('__healthcheck')->get());
    }

    public function testReadmeVisitCounter(): void
    {
        // The README's end-to-end index.php, run twice (two requests).
        foreach ([1, 2] as $expected) {
            $cache = $this->adapter('demo', 60);
            $visits = $cache->get('visits', function ($item) {
                $item->expiresAfter(3600);

                return 0;
            });
            self::assertIsInt($visits);
            $item = $cache->getItem('visits');
            $item->set(($item->get() ?? 0) + 1);
            $cache->save($item);
            self::assertSame($expected, $item->get());
        }
    }

    public function testCountersThroughIncrBy(): void
    {
        $ops = Backend::ops();
        self::assertSame(1, $ops->incrBy('visits:total', 1));
        self::assertSame(6, $ops->incrBy('visits:total', 5));
        self::assertSame(4, $ops->incrBy('visits:total', -2));
        self::assertSame('4', $ops->get('visits:total'));
        self::assertSame(-1, $ops->ttl('visits:total'));
        $ops->set('not-a-number', 'abc');
        self::assertFalse($ops->incrBy('not-a-number', 1));
        self::assertSame('abc', $ops->get('not-a-number'));
    }

    public function testBatchReadsAndDeletes(): void
    {
        $pool = $this->adapter('batch');
        $keys = [];
        for ($i = 0; $i < 20; ++$i) {
            $keys[] = "k$i";
            $pool->saveDeferred($pool->getItem("k$i")->set($i));
        }
        self::assertTrue($pool->commit());
        $items = iterator_to_array($this->adapter('batch')->getItems(array_merge($keys, ['missing', '42'])));
        self::assertCount(22, $items);
        foreach ($keys as $i => $key) {
            self::assertSame($i, $items[$key]->get());
        }
        self::assertFalse($items['missing']->isHit());
        self::assertTrue($pool->deleteItems(['k1', 'k2', 'never-existed']));
        self::assertFalse($pool->hasItem('k1'));
        self::assertTrue($pool->hasItem('k3'));
    }

    public function testNumericKeys(): void
    {
        $pool = $this->adapter('');
        $pool->save($pool->getItem('42')->set('answer'));
        $pool->save($pool->getItem('7')->set('seven'));
        $items = iterator_to_array($this->adapter('')->getItems(['42', '7', '8']));
        self::assertSame('answer', $items['42']->get());
        self::assertSame('seven', $items['7']->get());
        self::assertFalse($items['8']->isHit());
    }

    public function testDeferredItemsAreCommittedOnDestruct(): void
    {
        $pool = $this->adapter('deferred');
        $pool->saveDeferred($pool->getItem('k')->set('v'));
        unset($pool);
        self::assertSame('v', $this->adapter('deferred')->getItem('k')->get());
    }

    public function testSurvivesClone(): void
    {
        $pool = $this->adapter('cloned');
        $pool->save($pool->getItem('k')->set('v'));
        $copy = clone $pool;
        self::assertSame('v', $copy->getItem('k')->get());
        $copy->save($copy->getItem('k2')->set('v2'));
        self::assertSame('v2', $pool->getItem('k2')->get());
        unset($pool);
        self::assertSame('v', $copy->getItem('k')->get());
        self::assertTrue($copy->clear());
        self::assertFalse($copy->getItem('k')->isHit());

        if (method_exists($copy, 'withSubNamespace')) { // symfony/cache >= 7.3
            $sub = $copy->withSubNamespace('sub');
            $sub->save($sub->getItem('k')->set('in-sub'));
            self::assertSame('in-sub', $sub->getItem('k')->get());
            self::assertFalse($copy->getItem('k')->isHit());
        }
    }

    public function testNamespaceValidation(): void
    {
        $this->adapter(str_repeat('n', 226));
        $this->expectException(InvalidArgumentException::class);
        $this->adapter(str_repeat('n', 227));
    }

    public function testReservedCharactersInNamespaceAreRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->adapter('a{b');
    }

    public function testInMemoryStorageIsSharedAndResettable(): void
    {
        $a = new InMemoryKvOps();
        $b = new InMemoryKvOps();
        $a->set('shared', 'x');
        self::assertSame('x', $b->get('shared'));
        InMemoryKvOps::reset();
        self::assertNull($b->get('shared'));
    }
}
