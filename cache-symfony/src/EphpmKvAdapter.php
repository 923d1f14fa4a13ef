<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

use Psr\Cache\CacheItemInterface;
use Symfony\Component\Cache\Adapter\AbstractAdapter;
use Symfony\Component\Cache\CacheItem;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * A Symfony Cache pool (PSR-6 + Symfony Contracts) stored in the in-process key-value store of the ephpm runtime,
 * through the ephpm_kv_* functions (SapiKvOps), or through any other KvOpsInterface.
 *
 * One class for symfony/cache 5.4, 6.4 and 7.x:
 * - clear() works without key enumeration: namespace versioning makes every old id unreachable at once;
 * - ids that contain NUL or "{", or are not valid UTF-8, are stored under an injective encoding ("{" + base64url), so
 *   the pool is also correct on runtimes whose keys are C strings;
 * - refused writes and values that cannot be serialized are reported as failed saves (and a refused key is deleted,
 *   so it reads as a miss, never as a stale hit); lifetime 0 means no expiry; false/null/''/0/[] are ordinary hits;
 * - with Symfony's DefaultMarshaller, a value read again unchanged skips unserialize() (UnserializeMemo).
 *
 * The do* methods map one to one onto the backend (KvOpsInterface): doFetch → get/mget, doHave → exists,
 * doDelete → del, doSave → mset (set per key when the batch is refused), doClear → nothing (namespace versioning).
 *
 * get(), getItem() and getItems() read hits without Symfony's generic path (docs/symfony-adapter.md section 11): the
 * backend key of each PSR-6 key is memoised, one backend read, and Symfony's own CacheItem factory where an item is
 * returned. Everything else (a miss in get(), an early recomputation that may be elected, queued deferred saves, a
 * failed read) takes the parent's path, which owns stampede protection and early expiration.
 */
class EphpmKvAdapter extends AbstractAdapter
{
    /** Longest id handed to the backend before Symfony replaces the key part by a hash. */
    public const MAX_ID_LENGTH = 250;

    /** Ids stored as they are: valid UTF-8 (the "u" flag fails on anything else), no NUL, no "{". */
    private const PLAIN_ID = '/^[^\x00{]*+$/Du';

    /**
     * Symfony elects a hit for early recomputation when expiry <= now + ctime / 1000 * beta * x, where
     * x = -log(random_int(1, PHP_INT_MAX) / PHP_INT_MAX) is at most log(PHP_INT_MAX) = 43.67. Rounded up, so that a hit
     * outside this window is one Symfony can never elect, whatever its random draw and float rounding.
     */
    private const EARLY_RECOMPUTATION_WINDOW = 44.0;

    /** How many backend keys the memo holds before it forgets the older half (as Symfony's id memo does). */
    private const MAX_MEMOISED_KEYS = 1000;

    private readonly KvOpsInterface $ops;
    private readonly MarshallerInterface $marshaller;
    /** Set when the marshaller is plain unserialize(), see UnserializeMemo. */
    private readonly ?UnserializeMemo $memo;

    /**
     * PSR-6 key => backend key, for the current namespace version: forgotten whenever Symfony may compute other ids
     * (clear(), reset(), enableVersioning(), a clone such as withSubNamespace()).
     *
     * @var array<array-key, string>
     */
    private array $backendKeys = [];

    /** True from saveDeferred() until commit() or clear() empty Symfony's queue: reads must commit first then. */
    private bool $mayHaveDeferred = false;

    /**
     * Symfony's own CacheItem factory (AbstractAdapter::$createCacheItem: unpacks metadata as this symfony/cache
     * version packs it); false when this symfony/cache has none, which turns the fast paths off.
     */
    private static \Closure|false|null $itemFactory = null;

    /**
     * The class of Symfony's metadata wrapper (6.4+: "\xA9", public readonly $value and $metadata), null when this
     * symfony/cache has none (5.4 packs metadata into an array) or it is not what is expected.
     *
     * @var class-string|null
     */
    private static ?string $wrapperClass = null;

    /**
     * @param string                   $namespace       prefix of every key of this pool (the reserved
     *                                                   characters {}()/\@: are refused)
     * @param int                      $defaultLifetime seconds for items saved without an explicit expiry;
     *                                                   0 = no expiry
     * @param KvOpsInterface|null      $ops             the backend; defaults to SapiKvOps (the ephpm_kv_* functions)
     * @param MarshallerInterface|null $marshaller      defaults to Symfony's DefaultMarshaller
     *
     * @throws Exception\KvUnavailableException when $ops is null and the ephpm_kv_* functions are not available
     */
    public function __construct(
        string $namespace = '',
        int $defaultLifetime = 0,
        ?KvOpsInterface $ops = null,
        ?MarshallerInterface $marshaller = null,
    ) {
        // Must be set before the parent constructor, which validates the namespace length against it. The property is
        // declared (differently) by symfony/cache 5.4/6.4 and 7.x, so it is only assigned here, never redeclared.
        $this->maxIdLength = self::MAX_ID_LENGTH;
        parent::__construct($namespace, $defaultLifetime);
        $this->enableVersioning();
        $this->ops = $ops ?? new SapiKvOps();
        $this->marshaller = $marshaller ?? new DefaultMarshaller();
        // Only DefaultMarshaller is known to turn the same bytes into the same value (plain unserialize()).
        $this->memo = DefaultMarshaller::class === $this->marshaller::class ? new UnserializeMemo() : null;
        // The parent constructor has created the factory by now.
        if (null === self::$itemFactory) {
            self::$itemFactory = self::symfonyItemFactory();
            self::$wrapperClass = self::symfonyValueWrapper();
        }
    }

    /**
     * The key under which the backend stores the item with this Symfony id.
     *
     * Ids that are valid UTF-8 and contain neither NUL nor "{" are used unchanged (the common case: readable keys, no
     * cost). Every other id becomes "{" . base64url(id). The mapping is injective for all byte strings: unchanged keys
     * never contain "{", encoded keys always start with it.
     */
    public static function encodeId(string $id): string
    {
        if (1 === preg_match(self::PLAIN_ID, $id)) {
            return $id;
        }

        return '{' . rtrim(strtr(base64_encode($id), '+/', '-_'), '=');
    }

    /**
     * Symfony's get($key, $callback, $beta, $metadata), with a hit read directly: one backend read, the memoised value
     * or unmarshall(), and no CacheItem at all for a value without metadata. The parent's path runs for a miss, for
     * $beta = INF (forced recomputation) or an invalid $beta, and for a hit whose metadata puts it inside the window in
     * which Symfony may elect it for early recomputation: the parent then draws the random number as always, so the
     * recomputation rate, stampede protection (LockRegistry) and logging are Symfony's own.
     *
     * @param array<array-key, mixed>|null $metadata
     */
    public function get(string $key, callable $callback, ?float $beta = null, ?array &$metadata = null): mixed
    {
        // !($beta < INF) also routes NAN and INF to the parent; a negative $beta makes the parent throw.
        if (null !== $beta && !($beta >= 0.0 && $beta < \INF)) {
            return parent::get($key, $callback, $beta, $metadata);
        }
        if (true === $this->readHit($key, $value)) {
            // Only an object (6.4+: Symfony's wrapper) or an array of one element (the 5.4 packing) carries metadata.
            if (!\is_object($value) && !(\is_array($value) && 1 === \count($value))) {
                $metadata = [];

                return $value;
            }
            if (null !== self::$wrapperClass && $value instanceof self::$wrapperClass) {
                // What CacheItem unpacks from the wrapper, without building the item.
                /** @var object{value: mixed, metadata: array<array-key, mixed>} $wrapper */
                $wrapper = $value;
                $itemMetadata = $wrapper->metadata;
                $value = $wrapper->value;
            } else {
                /** @var \Closure(string, mixed, bool): CacheItem $factory */
                $factory = self::$itemFactory;
                $item = $factory($key, $value, true);
                $itemMetadata = $item->getMetadata();
                $value = $item->get();
            }
            if (!self::mayBeRecomputedEarly($itemMetadata, $beta ?? 1.0)) {
                $metadata = $itemMetadata;

                return $value;
            }
        }

        return parent::get($key, $callback, $beta, $metadata);
    }

    /**
     * @param mixed $key a string; anything else takes the parent's path, which validates it
     */
    public function getItem(mixed $key): CacheItem
    {
        if (!\is_string($key)) {
            // @phpstan-ignore argument.type (the parent validates keys)
            return parent::getItem($key);
        }
        $hit = $this->readHit($key, $value);
        if (null === $hit) {
            return parent::getItem($key);
        }
        /** @var \Closure(string, mixed, bool): CacheItem $factory */
        $factory = self::$itemFactory;

        return $factory($key, $value, $hit);
    }

    /**
     * Symfony's getItems() with one backend read (mget) for the memoised backend keys. The items come from Symfony's
     * own factory, hits first, then misses, each key once, as the parent yields them; in an array, or in a generator
     * when a key is a decimal integer string (which an array key would turn into an int).
     *
     * @param array<mixed> $keys
     *
     * @return iterable<string, CacheItem>
     */
    public function getItems(array $keys = []): iterable
    {
        /** @var \Closure(string, mixed, bool): CacheItem|false|null $factory */
        $factory = self::$itemFactory;
        if ($this->mayHaveDeferred || false === $factory || null === $factory) {
            // @phpstan-ignore argument.type (the parent validates keys)
            return parent::getItems($keys);
        }
        /** @var array<array-key, string> $backendKeys PSR-6 key (an int for "123") => backend key, in order */
        $backendKeys = [];
        foreach ($keys as $key) {
            if (!\is_string($key)) {
                // @phpstan-ignore argument.type (the parent validates keys)
                return parent::getItems($keys);
            }
            $backendKeys[$key] = $this->backendKeys[$key] ?? $this->memoiseBackendKey($key);
        }
        try {
            $raw = $this->ops->mget(array_values($backendKeys));
        } catch (\Exception) {
            return parent::getItems($keys); // the parent logs the failure
        }
        $shared = null === $this->memo ? [] : $this->memo->lookupAll($raw);
        $items = [];
        $misses = [];
        $intKeys = false;
        foreach ($backendKeys as $key => $backendKey) {
            $intKeys = $intKeys || \is_int($key);
            if (!isset($raw[$backendKey])) {
                $misses[] = $key;
                continue;
            }
            if (isset($shared[$backendKey])) {
                $value = $shared[$backendKey];
            } else {
                $bytes = $raw[$backendKey];
                try {
                    $value = $this->marshaller->unmarshall($bytes);
                } catch (\Throwable) {
                    return parent::getItems($keys); // reads again, logs, and turns the unreadable ones into misses
                }
                $this->memo?->learn($backendKey, $bytes, $value);
            }
            $items[$key] = $factory((string) $key, $value, true);
        }
        foreach ($misses as $key) {
            $items[$key] = $factory((string) $key, null, false);
        }

        if ($intKeys) {
            return self::withStringKeys($items);
        }

        /** @var array<string, CacheItem> $items no int keys */
        return $items;
    }

    public function saveDeferred(CacheItemInterface $item): bool
    {
        $this->mayHaveDeferred = true;

        return parent::saveDeferred($item);
    }

    public function commit(): bool
    {
        try {
            return parent::commit();
        } finally {
            $this->mayHaveDeferred = false; // the parent empties its queue before it saves
        }
    }

    public function clear(string $prefix = ''): bool
    {
        $this->backendKeys = [];
        try {
            return parent::clear($prefix);
        } finally {
            $this->mayHaveDeferred = false; // clear() drops the queue
            $this->backendKeys = [];
        }
    }

    public function reset(): void
    {
        $this->backendKeys = [];
        parent::reset();
    }

    public function enableVersioning(bool $enable = true): bool
    {
        $this->backendKeys = [];

        return parent::enableVersioning($enable);
    }

    public function __clone()
    {
        // withSubNamespace() clones, then changes the namespace of the clone.
        $this->backendKeys = [];
    }

    /**
     * @param array<mixed> $ids
     *
     * @return iterable<array-key, mixed>
     */
    protected function doFetch(array $ids): iterable
    {
        if (1 === \count($ids)) {
            // getItem() / get(): one id, one backend call; a value read again unchanged skips unserialize(). This is
            // the hot path of a cache, so toId() and encodeId() are inlined here.
            $id = reset($ids);
            if (!\is_string($id)) {
                $id = self::toId($id);
            }
            $key = 1 === preg_match(self::PLAIN_ID, $id) ? $id : self::encodeId($id);
            $raw = $this->ops->get($key);
            if (null === $raw) {
                return [];
            }
            if (null === $this->memo) {
                return $this->unmarshallAll([$key => $raw], [$key => $id]);
            }
            $value = $this->memo->lookup($key, $raw);
            if (null === $value) {
                try {
                    $value = $this->marshaller->unmarshall($raw);
                } catch (\Throwable $e) {
                    return self::yieldThenThrow([], self::asException($e));
                }
                $this->memo->learn($key, $raw, $value);
            }

            return [$id => $value];
        }

        $keys = [];
        foreach ($ids as $id) {
            $keys[] = self::toId($id);
        }
        // One check for the whole batch: "\n" is itself plain and cannot end a UTF-8 sequence, so the joined string is
        // plain exactly when every id is. Then the store keys are the ids.
        if (1 === preg_match(self::PLAIN_ID, implode("\n", $keys))) {
            $byKey = array_combine($keys, $keys);
        } else {
            $byKey = [];
            foreach ($keys as $i => $id) {
                $keys[$i] = $key = self::encodeId($id);
                $byKey[$key] = $id;
            }
        }

        return $this->unmarshallAll($this->ops->mget($keys), $byKey);
    }

    /**
     * @param array<array-key, string> $raw   backend key => bytes read
     * @param array<array-key, string> $byKey backend key => Symfony id, for the keys that were asked for
     *
     * @return iterable<array-key, mixed>
     */
    private function unmarshallAll(array $raw, array $byKey): iterable
    {
        $values = [];
        $error = null;
        $memo = $this->memo;
        foreach ($raw as $key => $bytes) {
            if (!isset($byKey[$key])) {
                continue; // never yield an id nobody asked for
            }
            if (null !== $memo && null !== $value = $memo->lookup($key, $bytes)) {
                $values[$byKey[$key]] = $value;
                continue;
            }
            try {
                $values[$byKey[$key]] = $value = $this->marshaller->unmarshall($bytes);
            } catch (\Throwable $e) {
                $error ??= self::asException($e);
                continue;
            }
            $memo?->learn($key, $bytes, $value);
        }

        return null === $error ? $values : self::yieldThenThrow($values, $error);
    }

    protected function doHave(string $id): bool
    {
        return $this->ops->exists(self::encodeId($id));
    }

    /**
     * Namespace versioning makes clear() work: it writes a new version record and returns true when that succeeded.
     * Entries of older versions are left to TTL / eviction. The store also holds other pools, other applications and
     * lock keys, so nothing is ever flushed here.
     */
    protected function doClear(string $namespace): bool
    {
        return false;
    }

    /**
     * @param array<mixed> $ids
     */
    protected function doDelete(array $ids): bool
    {
        foreach ($ids as $id) {
            $this->ops->del(self::encodeId(self::toId($id)));
        }

        return true;
    }

    /**
     * @param array<array-key, mixed> $values
     *
     * @return list<array-key>|bool
     */
    protected function doSave(array $values, int $lifetime): array|bool
    {
        $notSerialized = null;
        $serialized = $this->marshaller->marshall($values, $notSerialized);
        // Values the marshaller could not serialize (closures, ...) are failures, never silently dropped.
        $failed = [];
        foreach ($notSerialized ?? [] as $id) {
            $failed[] = self::toId($id);
        }

        $batch = [];
        $keys = [];
        foreach ($serialized as $id => $value) {
            if (!\is_string($value)) {
                $failed[] = $id; // a marshaller must produce strings
                continue;
            }
            $keys[$id] = $key = self::encodeId((string) $id);
            $batch[$key] = $value;
        }
        if ([] === $batch) {
            return $failed;
        }

        if (1 === \count($batch) || !$this->ops->mset($batch, $lifetime)) {
            // One value, or the store refused at least one pair of the batch without saying which: write one by one.
            foreach ($keys as $id => $key) {
                if (!$this->ops->set($key, $batch[$key], $lifetime)) {
                    // Report the failure, and drop whatever older value the key held: a failed overwrite must read as
                    // a miss, not as a stale hit (the original ePHPm has already dropped it; ephpm keeps it).
                    $failed[] = $id;
                    $this->ops->del($key);
                }
            }
        }

        return $failed;
    }

    /**
     * Reads $key directly: true with $value set for a hit, false for a miss, null when the parent's path must run
     * (queued deferred saves, no item factory, a backend or unmarshall failure, which the parent then logs).
     */
    private function readHit(string $key, mixed &$value): ?bool
    {
        if ($this->mayHaveDeferred || false === self::$itemFactory) {
            return null;
        }
        $backendKey = $this->backendKeys[$key] ?? $this->memoiseBackendKey($key);
        try {
            $raw = $this->ops->get($backendKey);
        } catch (\Exception) {
            return null;
        }
        if (null === $raw) {
            return false;
        }
        if (null !== $this->memo && null !== $value = $this->memo->lookup($backendKey, $raw)) {
            return true;
        }
        try {
            $value = $this->marshaller->unmarshall($raw);
        } catch (\Throwable) {
            return null;
        }
        $this->memo?->learn($backendKey, $raw, $value);

        return true;
    }

    /**
     * The backend key of $key, through Symfony's getId() (key validation, namespace version, hashing of long ids),
     * remembered until the namespace version may change.
     */
    private function memoiseBackendKey(string $key): string
    {
        if (\count($this->backendKeys) >= self::MAX_MEMOISED_KEYS) {
            $this->backendKeys = \array_slice($this->backendKeys, intdiv(self::MAX_MEMOISED_KEYS, 2), null, true);
        }

        return $this->backendKeys[$key] = self::encodeId($this->getId($key));
    }

    /**
     * Whether Symfony could elect a hit with this metadata for early recomputation (CacheTrait::doGet(): never without
     * both an expiry and a ctime).
     *
     * @param array<array-key, mixed> $metadata
     */
    private static function mayBeRecomputedEarly(array $metadata, float $beta): bool
    {
        $expiry = $metadata[ItemInterface::METADATA_EXPIRY] ?? 0;
        $ctime = $metadata[ItemInterface::METADATA_CTIME] ?? 0;
        if (!(\is_int($expiry) || \is_float($expiry)) || !(\is_int($ctime) || \is_float($ctime))) {
            return true; // not what Symfony writes: let Symfony decide
        }
        if (0.0 === (float) $expiry || 0.0 === (float) $ctime) {
            return false;
        }

        return $expiry <= microtime(true) + $ctime / 1000 * $beta * self::EARLY_RECOMPUTATION_WINDOW;
    }

    /**
     * @param array<array-key, CacheItem> $items
     *
     * @return \Generator<string, CacheItem>
     */
    private static function withStringKeys(array $items): \Generator
    {
        foreach ($items as $key => $item) {
            yield (string) $key => $item;
        }
    }

    /**
     * AbstractAdapter's private factory of CacheItems, or false when this symfony/cache has none.
     */
    private static function symfonyItemFactory(): \Closure|false
    {
        if (!property_exists(AbstractAdapter::class, 'createCacheItem')) {
            return false;
        }
        // @phpstan-ignore staticProperty.private (read in AbstractAdapter's scope, bound below)
        $read = static fn (): mixed => self::$createCacheItem ?? null;
        $factory = \Closure::bind($read, null, AbstractAdapter::class)();

        return $factory instanceof \Closure ? $factory : false;
    }

    /**
     * @return class-string|null
     */
    private static function symfonyValueWrapper(): ?string
    {
        $class = "\xA9";
        if (!class_exists($class) || !property_exists($class, 'value') || !property_exists($class, 'metadata')) {
            return null;
        }

        return $class;
    }

    private static function toId(mixed $id): string
    {
        if (\is_string($id)) {
            return $id;
        }
        if (\is_int($id)) {
            return (string) $id;
        }

        throw new \UnexpectedValueException('Cache ids are strings, got ' . get_debug_type($id) . '.');
    }

    /** An \Error (e.g. from a throwing __wakeup) would escape Symfony's \Exception-only error handling. */
    private static function asException(\Throwable $e): \Exception
    {
        return $e instanceof \Exception
            ? $e
            : new \ErrorException($e->getMessage(), $e->getCode(), \E_ERROR, $e->getFile(), $e->getLine(), $e);
    }

    /**
     * @param array<array-key, mixed> $values
     *
     * @return \Generator<array-key, mixed>
     */
    private static function yieldThenThrow(array $values, \Exception $error): \Generator
    {
        yield from $values;

        // Symfony logs this and turns the remaining ids (the unreadable ones) into misses.
        throw $error;
    }
}
