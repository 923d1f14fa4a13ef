<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\KvOpsInterface;
use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;
use Ephpm\Cache\Symfony\Tests\Support\ArrayLogger;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Ephpm\Cache\Symfony\Tests\Support\CountingKvOps;
use Ephpm\Cache\Symfony\Tests\Support\FixedRandom;
use Ephpm\Cache\Symfony\Tests\Support\ParentPathAdapter;
use Psr\Cache\InvalidArgumentException;
use Symfony\Component\Cache\Adapter\TagAwareAdapter;
use Symfony\Component\Cache\CacheItem;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Component\Cache\Marshaller\DeflateMarshaller;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * The fast read paths of get(), getItem() and getItems() (docs/symfony-adapter.md section 11), compared with Symfony's
 * generic path (ParentPathAdapter: the same adapter with AbstractAdapter's read methods) on the backend chosen by
 * EPHPM_KV_BACKEND.
 */
final class FastPathTest extends AdapterTestCase
{
    /**
     * ctime of the items of the early-recomputation tests: as long as symfony/cache 5.4 can store (below 2^24 ms), so
     * that the test's own duration hardly moves the odds. 6.4+ packs it into 14 bits: the test uses what it reads back.
     */
    private const CTIME_MS = 16_000_000;
    private const DRAWS = 300;

    protected function tearDown(): void
    {
        FixedRandom::off();
        parent::tearDown();
    }

    /**
     * [seconds to expiry, beta, ctime in ms]. Symfony recomputes a hit early with probability
     * exp(-seconds to expiry / (ctime in s * beta)).
     *
     * @return iterable<string, array{float, float|null, int}>
     */
    public static function earlyRecomputationCases(): iterable
    {
        $ctime = self::CTIME_MS / 1000;
        yield 'p = 0.78' => [0.25 * $ctime, 1.0, self::CTIME_MS];
        yield 'p = 0.37, default beta' => [1.0 * $ctime, null, self::CTIME_MS];
        yield 'p = 0.22, beta 0.5' => [1.5 * $ctime * 0.5, 0.5, self::CTIME_MS];
        yield 'p = 0.05, beta 3' => [3.0 * $ctime * 3, 3.0, self::CTIME_MS];
        yield 'p = 2e-19, inside the window' => [43.0 * $ctime, 1.0, self::CTIME_MS];
        yield 'p = 0, outside the window' => [45.0 * $ctime, 1.0, self::CTIME_MS];
        yield 'beta 0: never early' => [0.25 * $ctime, 0.0, self::CTIME_MS];
        yield 'beta INF: always' => [0.25 * $ctime, \INF, self::CTIME_MS];
        yield 'ctime 0: never early' => [1.0, 1.0, 0];
    }

    /**
     * @dataProvider earlyRecomputationCases
     */
    public function testEarlyRecomputationRateIsTheParentPaths(float $toExpiry, ?float $beta, int $ctimeMs): void
    {
        $fast = $this->adapter('early');
        $parent = new ParentPathAdapter('early', 0, Backend::ops());
        self::assertTrue(self::saveWithMetadata($fast, 'k', 'stored', microtime(true) + $toExpiry, $ctimeMs));
        // What Symfony reads back (6.4+ rounds the ctime, every version rounds the expiry to seconds).
        $metadata = $parent->getItem('k')->getMetadata();
        $ctime = (float) ($metadata[ItemInterface::METADATA_CTIME] ?? 0) / 1000;
        $toExpiry = $metadata[ItemInterface::METADATA_EXPIRY] - microtime(true);
        self::assertEqualsWithDelta($ctimeMs / 1000, $ctime, $ctimeMs / 1000 * 0.01);

        [$fastRecomputed, $fastDraws, $parentRecomputed, $parentDraws]
            = self::recomputations($fast, $parent, 'k', $beta);
        // The same random sequence decides the same way on both paths.
        self::assertSame($parentRecomputed, $fastRecomputed);
        // And the rate is the one Symfony's formula gives.
        $b = $beta ?? 1.0;
        $p = \INF === $b ? 1.0 : (0.0 === $ctime || 0.0 === $b ? 0.0 : exp(-$toExpiry / ($ctime * $b)));
        $sigma = sqrt(self::DRAWS * $p * (1 - $p));
        self::assertEqualsWithDelta(self::DRAWS * $p, $fastRecomputed, 5 * $sigma + 1);

        // The fast path leaves the draw to the parent exactly when Symfony's window could contain the hit.
        $finite = \INF !== $b && 0.0 !== $ctime;
        $inWindow = $finite && $toExpiry <= $ctime * $b * 44;
        self::assertSame($inWindow ? self::DRAWS : 0, $fastDraws);
        self::assertSame($finite ? self::DRAWS : 0, $parentDraws);
    }

    public function testAHitIsOneBackendReadAndNoIdComputationAfterTheFirst(): void
    {
        $ops = new CountingKvOps(Backend::ops());
        $pool = new class ('count', 0, $ops) extends EphpmKvAdapter {
            public int $ids = 0;

            protected function getId(mixed $key, ?string $namespace = null): string
            {
                ++$this->ids;

                return parent::getId($key, $namespace);
            }
        };
        $pool->save($pool->getItem('a')->set(['x' => 1]));
        $pool->save($pool->getItem('b')->set('plain'));
        $pool->get('m', static function (ItemInterface $item): string {
            $item->expiresAfter(3600);

            return 'with metadata';
        });
        $pool->getItem('a');
        $ops->calls = [];
        $pool->ids = 0;

        for ($i = 0; $i < 5; ++$i) {
            self::assertSame(['x' => 1], $pool->get('a', self::noCallback()));
            self::assertSame('with metadata', $pool->get('m', self::noCallback()));
            self::assertSame('plain', $pool->getItem('b')->get());
        }
        self::assertSame(['get' => 15], $ops->calls);
        self::assertSame(0, $pool->ids);

        $ops->calls = [];
        $items = iterator_to_array($pool->getItems(['a', 'b', 'm', 'absent']));
        self::assertSame(['mget' => 1], $ops->calls);
        self::assertSame('plain', $items['b']->get());
        self::assertFalse($items['absent']->isHit());
    }

    public function testMetadataRoundTrip(): void
    {
        $pool = $this->adapter('meta');
        $written = null;
        $pool->get('k', static function (ItemInterface $item): string {
            $item->expiresAfter(600);
            usleep(5_000);

            return 'v';
        }, null, $written);
        self::assertIsArray($written);
        self::assertGreaterThanOrEqual(5, $written[ItemInterface::METADATA_CTIME]);

        $parent = new ParentPathAdapter('meta', 0, Backend::ops());
        foreach ([$pool, $this->adapter('meta')] as $reader) {
            for ($i = 0; $i < 3; ++$i) { // the third read comes from the unserialize memo
                $fastMetadata = $parentMetadata = ['stale' => true];
                self::assertSame('v', $reader->get('k', self::noCallback(), null, $fastMetadata));
                self::assertSame('v', $parent->get('k', self::noCallback(), null, $parentMetadata));
                self::assertSame($parentMetadata, $fastMetadata);
                self::assertSame($parent->getItem('k')->getMetadata(), $reader->getItem('k')->getMetadata());
                self::assertEqualsWithDelta($written[ItemInterface::METADATA_EXPIRY], $fastMetadata['expiry'], 1.0);
                self::assertSame($written[ItemInterface::METADATA_CTIME], $fastMetadata['ctime']);
            }
        }

        // A value without metadata: get() reports none, whatever $metadata held before.
        $pool->save($pool->getItem('plain')->set('p'));
        $metadata = ['stale' => true];
        self::assertSame('p', $pool->get('plain', self::noCallback(), null, $metadata));
        self::assertSame([], $metadata);
    }

    public function testTagsThroughTagAwareAdapter(): void
    {
        $tags = new TagAwareAdapter($this->adapter('tagged'), $this->adapter('tags'));
        $calls = 0;
        $compute = static function (ItemInterface $item) use (&$calls): string {
            ++$calls;
            $item->tag(['t1', 't2'])->expiresAfter(600);

            return "computed $calls";
        };
        self::assertSame('computed 1', $tags->get('k', $compute));
        $metadata = null;
        for ($i = 0; $i < 3; ++$i) {
            self::assertSame('computed 1', $tags->get('k', $compute, null, $metadata));
        }
        self::assertIsArray($metadata);
        self::assertSame(['t1' => 't1', 't2' => 't2'], $metadata[ItemInterface::METADATA_TAGS]);
        self::assertTrue($tags->invalidateTags(['t2']));
        self::assertSame('computed 2', $tags->get('k', $compute));
        self::assertSame('computed 2', (new TagAwareAdapter($this->adapter('tagged'), $this->adapter('tags')))
            ->getItem('k')->get());
    }

    public function testDeferredItemsAreReadBeforeTheStore(): void
    {
        $ops = new CountingKvOps(Backend::ops());
        $pool = $this->adapter('deferred', 0, $ops);
        $pool->save($pool->getItem('k')->set('stored'));
        self::assertSame('stored', $pool->get('k', self::noCallback()));

        $pool->saveDeferred($pool->getItem('k')->set('deferred'));
        self::assertSame('deferred', $pool->get('k', self::noCallback()), 'get() commits the queue first');

        $pool->saveDeferred($pool->getItem('i')->set('item'));
        self::assertSame('item', $pool->getItem('i')->get());

        $pool->saveDeferred($pool->getItem('j')->set('items'));
        $items = iterator_to_array($pool->getItems(['j', 'k']));
        self::assertSame('items', $items['j']->get());
        self::assertSame('deferred', $items['k']->get());

        $pool->saveDeferred($pool->getItem('dropped')->set('x'));
        $pool->deleteItem('dropped');
        self::assertSame('recomputed', $pool->get('dropped', static fn (): string => 'recomputed'));

        // Once committed, a hit is one backend read again.
        $ops->calls = [];
        self::assertSame('deferred', $pool->get('k', self::noCallback()));
        self::assertSame(['get' => 1], $ops->calls);
    }

    public function testClearThenGetInTheSameInstance(): void
    {
        $pool = $this->adapter('clear');
        $value = ['payload' => str_repeat('x', 100)];
        $pool->save($pool->getItem('k')->set($value));
        for ($i = 0; $i < 3; ++$i) {
            self::assertSame($value, $pool->get('k', self::noCallback()));
        }

        self::assertTrue($pool->clear());
        self::assertFalse($pool->getItem('k')->isHit());
        self::assertFalse(iterator_to_array($pool->getItems(['k']))['k']->isHit());
        self::assertSame('recomputed', $pool->get('k', static fn (): string => 'recomputed'));
        self::assertSame('recomputed', $pool->get('k', self::noCallback()));

        // Deferred items are dropped by clear().
        $pool->saveDeferred($pool->getItem('d')->set('queued'));
        self::assertTrue($pool->clear());
        self::assertFalse($pool->getItem('d')->isHit());
        self::assertFalse($pool->getItem('k')->isHit());

        // reset() makes the pool read the namespace version again; nothing else changes.
        $pool->save($pool->getItem('k')->set('after reset'));
        $pool->reset();
        self::assertSame('after reset', $pool->get('k', self::noCallback()));
    }

    /**
     * @return iterable<string, array{MarshallerInterface}>
     */
    public static function otherMarshallers(): iterable
    {
        yield 'DeflateMarshaller' => [new DeflateMarshaller(new DefaultMarshaller())];
        yield 'a DefaultMarshaller subclass (no memo)' => [new class () extends DefaultMarshaller {
        }];
    }

    /**
     * @dataProvider otherMarshallers
     */
    public function testAnotherMarshallerReadsTheSameAsTheParentPath(MarshallerInterface $marshaller): void
    {
        $pool = $this->adapter('marshaller', 0, null, $marshaller);
        $parent = new ParentPathAdapter('marshaller', 0, Backend::ops(), $marshaller);
        $value = ['payload' => str_repeat('x', 200), 'n' => 1];
        $pool->save($pool->getItem('plain')->set($value));
        $pool->get('meta', static function (ItemInterface $item) use ($value): array {
            $item->expiresAfter(600);

            return $value;
        });
        for ($i = 0; $i < 3; ++$i) {
            $fastMetadata = $parentMetadata = null;
            self::assertSame($value, $pool->get('plain', self::noCallback()));
            self::assertSame($value, $pool->get('meta', self::noCallback(), null, $fastMetadata));
            self::assertSame($value, $parent->get('meta', self::noCallback(), null, $parentMetadata));
            self::assertSame($parentMetadata, $fastMetadata);
            self::assertSame($value, $pool->getItem('plain')->get());
            self::assertSame(
                self::describe($parent->getItems(['plain', 'meta', 'absent'])),
                self::describe($pool->getItems(['plain', 'meta', 'absent'])),
            );
        }
    }

    public function testUnreadableValuesAndFailingBackendsAreMissesAndLogged(): void
    {
        $throwing = new class () extends DefaultMarshaller {
            public function unmarshall(string $value): mixed
            {
                if (str_contains($value, 'poison')) {
                    throw new \UnexpectedValueException('cannot read');
                }

                return parent::unmarshall($value);
            }
        };
        // Fails every read except the namespace version record's (id ":<namespace>:").
        $failing = new class (Backend::ops()) implements KvOpsInterface {
            public function __construct(private readonly KvOpsInterface $inner)
            {
            }

            public function get(string $key): ?string
            {
                return str_starts_with($key, ':') ? $this->inner->get($key) : throw new \RuntimeException('down');
            }

            public function mget(array $keys): array
            {
                throw new \RuntimeException('backend down');
            }

            public function set(string $key, string $value, int $ttl = 0): bool
            {
                return $this->inner->set($key, $value, $ttl);
            }

            public function mset(array $values, int $ttl = 0): bool
            {
                return $this->inner->mset($values, $ttl);
            }

            public function del(string $key): bool
            {
                return $this->inner->del($key);
            }

            public function exists(string $key): bool
            {
                return $this->inner->exists($key);
            }

            public function ttl(string $key): int
            {
                return $this->inner->ttl($key);
            }

            public function incrBy(string $key, int $delta): int|false
            {
                return $this->inner->incrBy($key, $delta);
            }
        };
        $writer = $this->adapter('broken');
        foreach (['marshaller' => [null, $throwing], 'backend' => [$failing, null]] as $case => [$ops, $marshaller]) {
            $results = [];
            foreach ([EphpmKvAdapter::class, ParentPathAdapter::class] as $class) {
                self::assertTrue($writer->save($writer->getItem('k')->set('poison')));
                $logger = new ArrayLogger();
                $pool = new $class('broken', 0, $ops ?? Backend::ops(), $marshaller);
                $pool->setLogger($logger);
                $results[$class] = [
                    $pool->getItem('k')->isHit(),
                    self::describe($pool->getItems(['k'])),
                    $pool->get('k', static fn (): string => 'recomputed'),
                    $logger->messages('warning'),
                ];
            }
            self::assertSame($results[ParentPathAdapter::class], $results[EphpmKvAdapter::class], $case);
            self::assertFalse($results[EphpmKvAdapter::class][0], $case);
            self::assertSame('recomputed', $results[EphpmKvAdapter::class][2], $case);
            self::assertNotEmpty($results[EphpmKvAdapter::class][3], "$case: warnings are logged");
        }
    }

    public function testKeysThatNeedTheEncodingOrAHash(): void
    {
        $pool = $this->adapter('keys');
        $keys = ["\xff", "a\0b", "\xc3", 'é', 'brace-free key', str_repeat('long', 100)];
        foreach ($keys as $i => $key) {
            self::assertTrue($pool->save($pool->getItem($key)->set(['i' => $i, 'pad' => str_repeat('p', 80)])));
        }
        self::assertStringStartsWith('{', self::backendKeyOf($pool, "\xff"));
        self::assertStringStartsWith('{', self::backendKeyOf($pool, "a\0b"));

        $fresh = $this->adapter('keys');
        for ($round = 0; $round < 3; ++$round) {
            foreach ($keys as $i => $key) {
                self::assertSame($i, $fresh->get($key, self::noCallback())['i'], bin2hex($key));
                self::assertSame($i, $fresh->getItem($key)->get()['i'], bin2hex($key));
            }
            foreach ($fresh->getItems($keys) as $key => $item) {
                self::assertSame(array_search($key, $keys, true), $item->get()['i'], bin2hex((string) $key));
            }
        }
    }

    public function testReservedCharactersAreRefusedAsOnTheParentPath(): void
    {
        self::assertSame('1', ini_get('zend.assertions'), 'run the suite with -d zend.assertions=1');
        $pool = $this->adapter('reserved');
        foreach (['{a}', 'a:b', 'a/b', 'a@b', '(x)', 'a\\b', ''] as $key) {
            $calls = [
                'get' => static fn () => $pool->get($key, static fn (): string => 'v'),
                'getItem' => static fn () => $pool->getItem($key),
                'getItems' => static fn () => iterator_to_array($pool->getItems(['ok', $key])),
            ];
            foreach ($calls as $method => $call) {
                try {
                    $call();
                    self::fail("$method(" . json_encode($key) . ') did not throw');
                } catch (InvalidArgumentException $e) {
                    self::assertStringContainsString('key', strtolower($e->getMessage()));
                }
            }
        }
    }

    public function testGetItemsYieldsWhatTheParentYields(): void
    {
        $pool = $this->adapter('items');
        $parent = new ParentPathAdapter('items', 0, Backend::ops());
        foreach (['a' => 1, 'b' => null, '123' => 'numeric', 'c' => false] as $key => $value) {
            $pool->save($pool->getItem((string) $key)->set($value));
        }
        $keys = ['c', 'missing', 'a', '123', 'a', 'b', 'missing too', 'missing'];
        for ($i = 0; $i < 3; ++$i) {
            self::assertSame(self::describe($parent->getItems($keys)), self::describe($pool->getItems($keys)));
        }
        self::assertSame([], self::describe($pool->getItems([])));
        $assoc = ['first' => 'a', 'second' => 'missing'];
        self::assertSame(self::describe($parent->getItems($assoc)), self::describe($pool->getItems($assoc)));
    }

    public function testBetaIsValidatedAndInfinityRecomputesAHit(): void
    {
        $pool = $this->adapter('beta');
        $pool->save($pool->getItem('k')->set('stored'));
        try {
            $pool->get('k', self::noCallback(), -1.0);
            self::fail('a negative beta is refused');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('beta', $e->getMessage());
        }
        self::assertSame('recomputed', $pool->get('k', static fn (): string => 'recomputed', \INF));
        self::assertSame('recomputed', $pool->get('k', self::noCallback()), 'and saved');
    }

    public function testTheMemoOfBackendKeysSurvivesManyKeysAndClones(): void
    {
        $pool = $this->adapter('many');
        for ($i = 0; $i < 1500; ++$i) {
            $pool->saveDeferred($pool->getItem("k$i")->set($i));
        }
        $pool->commit();
        for ($round = 0; $round < 2; ++$round) {
            for ($i = 0; $i < 1500; $i += 7) {
                self::assertSame($i, $pool->get("k$i", self::noCallback()));
            }
        }

        $clone = clone $pool;
        self::assertSame(7, $clone->get('k7', self::noCallback()));
        if (method_exists($pool, 'withSubNamespace')) { // symfony/cache >= 7.3
            $sub = $pool->withSubNamespace('sub');
            self::assertSame('in sub', $sub->get('k7', static fn (): string => 'in sub'));
            self::assertSame(7, $pool->get('k7', self::noCallback()));
            self::assertSame('in sub', $sub->get('k7', self::noCallback()));
        }
    }

    public function testAValueWrittenByAnotherProcessIsReadAtOnce(): void
    {
        $dir = null;
        $backend = 'sapi';
        if (Backend::SAPI !== Backend::name()) {
            // InMemoryKvOps and the ePHPm-like double live in one process: share a directory instead.
            $dir = sys_get_temp_dir() . '/ephpm-xproc-' . getmypid() . '-' . bin2hex(random_bytes(4));
            $backend = $dir;
        }
        try {
            $fixture = \dirname(__DIR__) . '/Fixtures/another-process.php';
            [$code, $out, $err] = self::runProcess([\PHP_BINARY, $fixture, (string) EPHPM_TEST_AUTOLOAD, $backend]);
        } finally {
            if (null !== $dir && is_dir($dir)) {
                array_map('unlink', glob("$dir/*") ?: []);
                rmdir($dir);
            }
        }
        self::assertSame(0, $code, $out . $err);
        /** @var array<string, mixed> $r */
        $r = json_decode($out, true, 512, \JSON_THROW_ON_ERROR);
        $old = ['get' => 1, 'getItem' => 1, 'getItems' => 1, 'get_meta' => 1, 'getItems_meta' => 1];
        self::assertIsArray($r['before']);
        foreach ($r['before'] as $read) {
            self::assertIsArray($read);
            self::assertSame($old, array_intersect_key($read, $old));
        }
        self::assertIsArray($r['after_write']);
        self::assertSame(
            ['get' => 2, 'getItem' => 2, 'getItems' => 2, 'get_meta' => 2, 'getItems_meta' => 2],
            array_intersect_key($r['after_write'], $old),
        );
        $before = $r['before'][0];
        self::assertIsArray($before);
        self::assertGreaterThan($before['meta_expiry'], $r['after_write']['meta_expiry'], 'the new metadata');
        self::assertTrue($r['after_clear_is_hit'], 'Symfony memoises the namespace version until reset()');
        self::assertFalse($r['after_clear_and_reset_is_hit']);
        self::assertSame('recomputed', $r['after_clear_and_reset_get']);
    }

    private static function noCallback(): \Closure
    {
        return static fn (): never => throw new \LogicException('the callback must not run on a hit');
    }

    /**
     * Saves $value under $key with the metadata get() would have written (expiry, ctime), as this symfony/cache
     * version packs it.
     */
    private static function saveWithMetadata(
        EphpmKvAdapter $pool,
        string $key,
        mixed $value,
        float $expiry,
        int $ctimeMs,
    ): bool {
        $item = $pool->getItem($key);
        (function () use ($value, $expiry, $ctimeMs): void {
            $this->value = $value;
            $this->expiry = $expiry;
            $this->newMetadata = [CacheItem::METADATA_EXPIRY => $expiry, CacheItem::METADATA_CTIME => $ctimeMs];
        })->call($item);

        return $pool->save($item);
    }

    /**
     * How often DRAWS get() calls recompute $key (without saving the result) on each pool, and how many random numbers
     * they drew: the pools take turns, each drawing from its own copy of one fixed random sequence, so that each pair
     * of calls sees the same time and the same draw.
     *
     * @return array{int, int, int, int} recomputations and draws of $fast, then of $parent
     */
    private static function recomputations(
        EphpmKvAdapter $fast,
        EphpmKvAdapter $parent,
        string $key,
        ?float $beta,
    ): array {
        FixedRandom::seed(20261205, ['fast', 'parent']);
        $recomputed = ['fast' => 0, 'parent' => 0];
        for ($i = 0; $i < self::DRAWS; ++$i) {
            foreach (['fast' => $fast, 'parent' => $parent] as $name => $pool) {
                FixedRandom::select($name);
                $before = $recomputed[$name];
                $recompute = static function (ItemInterface $item, bool &$save) use (&$recomputed, $name): string {
                    ++$recomputed[$name];
                    $save = false;

                    return 'recomputed';
                };
                $value = $pool->get($key, $recompute, $beta);
                self::assertSame($recomputed[$name] > $before ? 'recomputed' : 'stored', $value);
            }
        }
        $result = [
            $recomputed['fast'],
            FixedRandom::draws('fast'),
            $recomputed['parent'],
            FixedRandom::draws('parent'),
        ];
        FixedRandom::off();

        return $result;
    }

    /**
     * What an iteration of getItems() yields, in order: [key (with its type), hit, value, metadata].
     *
     * @param iterable<mixed, CacheItem> $items
     *
     * @return list<array{mixed, bool, mixed, array<mixed>}>
     */
    private static function describe(iterable $items): array
    {
        $out = [];
        foreach ($items as $key => $item) {
            $out[] = [$key, $item->isHit(), $item->get(), $item->getMetadata()];
        }

        return $out;
    }
}
