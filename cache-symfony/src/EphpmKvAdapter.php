<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony;

use Symfony\Component\Cache\Adapter\AbstractAdapter;
use Symfony\Component\Cache\Marshaller\DefaultMarshaller;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;

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
 */
class EphpmKvAdapter extends AbstractAdapter
{
    /** Longest id handed to the backend before Symfony replaces the key part by a hash. */
    public const MAX_ID_LENGTH = 250;

    /** Ids stored as they are: valid UTF-8 (the "u" flag fails on anything else), no NUL, no "{". */
    private const PLAIN_ID = '/^[^\x00{]*+$/Du';

    private readonly KvOpsInterface $ops;
    private readonly MarshallerInterface $marshaller;
    /** Set when the marshaller is plain unserialize(), see UnserializeMemo. */
    private readonly ?UnserializeMemo $memo;

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
