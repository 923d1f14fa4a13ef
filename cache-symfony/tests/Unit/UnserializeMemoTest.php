<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\KvOpsInterface;
use Ephpm\Cache\Symfony\UnserializeMemo;
use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * UnserializeMemo on its own (lookup/learn/isShareable/trimming), then through the adapter, which reuses the
 * unserialized value when the bytes read are identical to the bytes it unserialized before: reads must stay
 * indistinguishable from a fresh unserialize().
 */
final class UnserializeMemoTest extends AdapterTestCase
{
    /**
     * PHP's serialize() format on every symfony/cache version (5.4/6.4 would pick igbinary when it is loaded, and the
     * memo only applies to the serialize() format).
     */
    protected function adapter(
        string $namespace = 'unit',
        int $defaultLifetime = 0,
        ?KvOpsInterface $ops = null,
        ?MarshallerInterface $marshaller = null,
    ): EphpmKvAdapter {
        return parent::adapter($namespace, $defaultLifetime, $ops, $marshaller ?? new DefaultMarshaller(false));
    }

    public function testAValueIsHandedOutFromTheThirdReadOfTheSameBytesOn(): void
    {
        $memo = new UnserializeMemo();
        $raw = serialize(self::bigArray());
        self::assertNull($memo->lookup('k', $raw), 'never read');
        $memo->learn('k', $raw, unserialize($raw));
        self::assertNull($memo->lookup('k', $raw), 'read once: only recorded');
        $memo->learn('k', $raw, unserialize($raw));
        self::assertNotNull($value = $memo->lookup('k', $raw), 'read twice: shared from now on');
        self::assertSame(self::bigArray(), $value);
        self::assertNull($memo->lookup('other', $raw), 'per key');
    }

    public function testLookupAllAnswersLikeLookupForEveryKey(): void
    {
        $memo = new UnserializeMemo();
        $a = serialize(self::bigArray('a'));
        $b = serialize(self::bigArray('b'));
        $c = serialize(self::bigArray('c'));
        foreach ([1, 2] as $read) {
            $memo->learn('a', $a, unserialize($a));
            $memo->learn(42, $b, unserialize($b));
        }
        $memo->learn('c', $c, unserialize($c)); // read once only
        $batch = ['a' => $a, 42 => $b, 'c' => $c, 'never read' => $a];
        self::assertSame(['a' => self::bigArray('a'), 42 => self::bigArray('b')], $memo->lookupAll($batch));
        foreach ($batch as $key => $raw) {
            self::assertSame($memo->lookup($key, $raw), $memo->lookupAll([$key => $raw])[$key] ?? null);
        }
        self::assertSame([], $memo->lookupAll(['a' => $b]), 'other bytes under the same key');
    }

    public function testChangedBytesAreNeverHandedOutAndStartOver(): void
    {
        $memo = new UnserializeMemo();
        $x = serialize(self::bigArray('x'));
        $y = serialize(self::bigArray('y'));
        $memo->learn('k', $x, unserialize($x));
        $memo->learn('k', $x, unserialize($x));
        self::assertNull($memo->lookup('k', $y), 'other bytes under the same key');
        $memo->learn('k', $y, unserialize($y));
        self::assertNull($memo->lookup('k', $x), 'the old bytes are forgotten');
        self::assertNull($memo->lookup('k', $y), 'the new bytes were read once only');
        $memo->learn('k', $y, unserialize($y));
        self::assertNotNull($value = $memo->lookup('k', $y));
        self::assertSame(self::bigArray('y'), $value);
    }

    public function testIsShareable(): void
    {
        $big = self::bigArray();
        self::assertTrue(UnserializeMemo::isShareable(serialize($big)), 'plain array');
        self::assertTrue(UnserializeMemo::isShareable(serialize(str_repeat('s', 100))), 'long string');
        self::assertFalse(UnserializeMemo::isShareable(serialize('tiny')), 'below MIN_BYTES');
        self::assertFalse(
            UnserializeMemo::isShareable(serialize(str_repeat('s', UnserializeMemo::MAX_BYTES))),
            'above MAX_BYTES',
        );
        self::assertFalse(UnserializeMemo::isShareable(serialize(new \ArrayObject($big))), 'object at the top');
        self::assertFalse(UnserializeMemo::isShareable(serialize($big + ['o' => new \stdClass()])), 'nested object');
        $withRef = $big;
        $withRef['alias'] = &$withRef['field1'];
        self::assertFalse(UnserializeMemo::isShareable(serialize($withRef)), 'reference');
        self::assertFalse(UnserializeMemo::isShareable("\0\0\0\2" . serialize($big)), 'igbinary header');
    }

    public function testValuesOutsideTheSizeRangeAreNotRecorded(): void
    {
        $memo = new UnserializeMemo();
        $small = serialize('tiny');
        for ($i = 0; $i < 3; ++$i) {
            $memo->learn('k', $small, 'tiny');
        }
        self::assertNull($memo->lookup('k', $small));
    }

    public function testTrimmingForgetsTheOlderHalf(): void
    {
        $memo = new UnserializeMemo();
        $raw = static fn (int $i): string => serialize(self::bigArray() + ['i' => $i]);
        for ($i = 0; $i <= UnserializeMemo::MAX_ENTRIES; ++$i) {
            $memo->learn("k$i", $raw($i), null);
        }
        // The (MAX_ENTRIES + 1)-th entry trimmed the memo to the newer half: k0 was forgotten, the last one was not.
        $memo->learn('k0', $raw(0), unserialize($raw(0)));
        $last = UnserializeMemo::MAX_ENTRIES;
        $memo->learn("k$last", $raw($last), unserialize($raw($last)));
        self::assertNull($memo->lookup('k0', $raw(0)), 'k0 starts over after trimming');
        self::assertNotNull($value = $memo->lookup("k$last", $raw($last)), 'the newest entry was kept');
        self::assertSame($last, \is_array($value) ? $value['i'] : null);
    }

    public function testOnlyObjectAndReferenceFreeValuesAreMemoized(): void
    {
        $pool = $this->adapter('memo');
        $withRef = self::bigArray();
        $withRef['alias'] = &$withRef['field1'];
        $pool->save($pool->getItem('plain')->set(self::bigArray()));
        $pool->save($pool->getItem('object')->set(new \ArrayObject(self::bigArray())));
        $pool->save($pool->getItem('ref')->set($withRef));
        $pool->save($pool->getItem('small')->set('tiny'));
        $memoOf = static fn (EphpmKvAdapter $pool): UnserializeMemo
            => (fn (): UnserializeMemo => $this->memo)->call($pool);
        /** @return array{array<array-key, string>, array<array-key, bool>, array<array-key, mixed>} */
        $memo = static fn (): array
            => (fn (): array => [$this->seen, $this->shareable, $this->shared])->call($memoOf($pool));
        $key = static fn (string $k): string => self::backendKeyOf($pool, $k);

        foreach (['plain', 'object', 'ref', 'small'] as $k) {
            self::assertTrue($pool->getItem($k)->isHit());
        }
        // After one read: the bytes are recorded, nothing is checked or kept (a value read once costs nothing more).
        [$seen, $shareable, $shared] = $memo();
        self::assertArrayHasKey($key('plain'), $seen);
        self::assertArrayHasKey($key('object'), $seen);
        self::assertArrayNotHasKey($key('small'), $seen, 'too small to be worth it');
        self::assertSame([], $shareable);
        self::assertSame([], $shared);

        foreach (['plain', 'object', 'ref', 'small'] as $k) {
            self::assertTrue($pool->getItem($k)->isHit());
        }
        [, $shareable, $shared] = $memo();
        self::assertTrue($shareable[$key('plain')]);
        self::assertSame(self::bigArray(), $shared[$key('plain')], 'shared from the third read on');
        foreach (['object', 'ref'] as $k) {
            self::assertFalse($shareable[$key($k)], $k);
            self::assertArrayNotHasKey($key($k), $shared, $k);
        }
    }

    /** @return array<string, string> */
    private static function bigArray(string $tag = 'x'): array
    {
        $value = [];
        for ($i = 0; $i < 10; ++$i) {
            $value["field$i"] = str_repeat($tag, 40);
        }

        return $value;
    }

    public function testModifyingAReadArrayDoesNotChangeTheNextRead(): void
    {
        $pool = $this->adapter('memo');
        $pool->save($pool->getItem('k')->set(self::bigArray()));
        // Reads 1 and 2 unserialize, from read 3 on the value is shared: every read must still see the original.
        for ($read = 1; $read <= 5; ++$read) {
            $value = ($read % 2 ? $pool : $this->adapter('memo'))->getItem('k')->get();
            self::assertSame(self::bigArray(), $value, "read $read");
            self::assertIsArray($value);
            $value['field0'] = 'changed';
            $value['new'] = 1;
        }
        foreach ($this->adapter('memo')->getItems(['k']) as $item) {
            self::assertSame(self::bigArray(), $item->get());
        }
    }

    public function testObjectsAreNeverShared(): void
    {
        $pool = $this->adapter('memo');
        $pool->save($pool->getItem('obj')->set(new \ArrayObject(self::bigArray())));
        $pool->save($pool->getItem('nested')->set(['list' => self::bigArray(), 'obj' => new \ArrayObject([1])]));

        $previous = null;
        for ($read = 1; $read <= 5; ++$read) {
            $object = $pool->getItem('obj')->get();
            self::assertInstanceOf(\ArrayObject::class, $object);
            self::assertNotSame($previous, $object, "read $read");
            self::assertSame(str_repeat('x', 40), $object['field0'], "read $read");
            $object['field0'] = 'mutated';
            $previous = $object;

            $nested = $pool->getItem('nested')->get();
            self::assertIsArray($nested);
            self::assertInstanceOf(\ArrayObject::class, $nested['obj']);
            self::assertSame(1, $nested['obj'][0], "read $read");
            $nested['obj'][0] = 'mutated';
        }
    }

    public function testValuesWithReferencesAreNeverShared(): void
    {
        $pool = $this->adapter('memo');
        $value = self::bigArray();
        $value['alias'] = &$value['field0'];
        $pool->save($pool->getItem('ref')->set($value));
        unset($value);

        for ($read = 1; $read <= 5; ++$read) {
            $a = $pool->getItem('ref')->get();
            self::assertIsArray($a);
            self::assertSame(str_repeat('x', 40), $a['field0'], "read $read");
            self::assertSame(str_repeat('x', 40), $a['alias'], "read $read");
            $a['alias'] = 'changed through the reference';
            self::assertSame('changed through the reference', $a['field0']);
        }
    }

    public function testANewValueWrittenBehindTheAdaptersBackIsSeen(): void
    {
        $pool = $this->adapter('memo');
        $pool->save($pool->getItem('k')->set(self::bigArray('x')));
        self::assertSame(self::bigArray('x'), $pool->getItem('k')->get());

        // Another process / another pool instance overwrites the item.
        $other = $this->adapter('memo');
        $other->save($other->getItem('k')->set(self::bigArray('y')));
        self::assertSame(self::bigArray('y'), $pool->getItem('k')->get());
        self::assertSame(self::bigArray('y'), iterator_to_array($pool->getItems(['k']))['k']->get());

        $pool->deleteItem('k');
        self::assertFalse($pool->getItem('k')->isHit());
        Backend::flush();
        self::assertFalse($this->adapter('memo')->getItem('k')->isHit());
    }

    public function testMetadataOfGetIsPreserved(): void
    {
        $pool = $this->adapter('memo');
        $compute = static function (ItemInterface $item): array {
            $item->expiresAfter(120);
            usleep(3_000);

            return self::bigArray();
        };
        self::assertSame(self::bigArray(), $pool->get('meta', $compute));
        for ($i = 0; $i < 3; ++$i) {
            $item = $pool->getItem('meta');
            self::assertSame(self::bigArray(), $item->get());
            $metadata = $item->getMetadata();
            self::assertEqualsWithDelta(microtime(true) + 120, $metadata[ItemInterface::METADATA_EXPIRY] ?? 0, 3.0);
            self::assertGreaterThanOrEqual(3, $metadata[ItemInterface::METADATA_CTIME] ?? 0);
        }
    }

    public function testManyDistinctValuesStayCorrect(): void
    {
        $pool = $this->adapter('memo');
        for ($i = 0; $i < 2500; ++$i) {
            $pool->saveDeferred($pool->getItem("k$i")->set(self::bigArray((string) ($i % 10)) + ['i' => $i]));
        }
        self::assertTrue($pool->commit());
        for ($round = 0; $round < 2; ++$round) {
            foreach ([0, 1, 999, 1000, 1001, 2499] as $i) {
                $value = $pool->getItem("k$i")->get();
                self::assertIsArray($value);
                self::assertSame($i, $value['i']);
            }
        }
        $keys = array_map(static fn (int $i): string => "k$i", range(0, 2499, 7));
        foreach ($pool->getItems($keys) as $key => $item) {
            self::assertIsArray($item->get());
            self::assertSame((int) substr($key, 1), $item->get()['i']);
        }
    }

    public function testAnotherMarshallerNeverGetsAMemoizedValue(): void
    {
        $pool = $this->adapter('memo');
        $pool->save($pool->getItem('k')->set(self::bigArray()));
        self::assertSame(self::bigArray(), $pool->getItem('k')->get());
        self::assertSame(self::bigArray(), $pool->getItem('k')->get()); // shared from now on

        $upper = new class () implements MarshallerInterface {
            /**
             * @param array<mixed>      $values
             * @param array<mixed>|null $failed
             *
             * @return array<mixed>
             */
            public function marshall(array $values, ?array &$failed): array
            {
                $failed = [];

                return array_map('serialize', $values);
            }

            public function unmarshall(string $value): mixed
            {
                $v = unserialize($value);

                return \is_array($v) ? array_map(static fn ($s) => \is_string($s) ? strtoupper($s) : $s, $v) : $v;
            }
        };
        $other = $this->adapter('memo', 0, null, $upper);
        $upperCased = array_map('strtoupper', self::bigArray());
        self::assertSame($upperCased, $other->getItem('k')->get());
        self::assertSame($upperCased, iterator_to_array($other->getItems(['k']))['k']->get());
    }
}
