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
 *   so it reads as a miss, never as a stale hit); lifetime 0 means no expiry; false/null/''/0/[] are ordinary hits.
 */
class EphpmKvAdapter extends AbstractAdapter
{
    /** Longest id handed to the backend before Symfony replaces the key part by a hash. */
    public const MAX_ID_LENGTH = 250;

    /** Ids stored as they are: valid UTF-8 (the "u" flag fails on anything else), no NUL, no "{". */
    private const PLAIN_ID = '/^[^\x00{]*+$/Du';

    /** Unserialize memo: only values of at least / at most this many serialized bytes, this many in total. */
    private const MEMO_MIN_BYTES = 64;
    private const MEMO_MAX_BYTES = 65536;
    private const MEMO_MAX_ENTRIES = 1000;
    private const MEMO_MAX_TOTAL = 4 << 20;

    /** How serialize() writes Symfony's metadata wrapper (the immutable class "\xA9", symfony/cache >= 6.x). */
    private const WRAPPER_PREFIX = "O:1:\"\xA9\":";

    private readonly KvOpsInterface $ops;
    private readonly MarshallerInterface $marshaller;
    private readonly bool $memoizable;
    /** The ops are SapiKvOps on a runtime with ephpm_kv_mget: reads call the functions directly (one call less). */
    private readonly bool $direct;

    /**
     * Unserialize memo of this pool instance (one request under `ephpm serve`, the whole run of a CLI script).
     * $seen: backend key => the bytes read last time. The first read of some bytes only records them; the second read
     * of the same bytes checks once whether their value may be shared ($shareable, see isShareable()); from the third
     * read on, a shareable value ($shared) is handed out without unserialize(). A value is only handed out when the
     * bytes just read are identical to the recorded ones, so it is always what unserialize() of those bytes returns.
     *
     * @var array<array-key, string>
     */
    private array $seen = [];
    private int $seenBytes = 0;
    /** @var array<array-key, bool> */
    private array $shareable = [];
    /** @var array<array-key, mixed> */
    private array $shared = [];

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
        $this->memoizable = DefaultMarshaller::class === $this->marshaller::class;
        $this->direct = $this->ops instanceof SapiKvOps && \function_exists('ephpm_kv_mget');
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
            // getItem() / get(): one id, one backend call; a value read again unchanged skips unserialize().
            $id = reset($ids);
            if (!\is_string($id)) {
                $id = self::toId($id);
            }
            $key = 1 === preg_match(self::PLAIN_ID, $id) ? $id : self::encodeId($id); // encodeId(), inlined
            $value = $this->direct ? \ephpm_kv_get($key) : $this->ops->get($key);
            if (null === $value) {
                return [];
            }
            if (isset($this->shared[$key]) && $this->seen[$key] === $value) {
                return [$id => $this->shared[$key]];
            }
            $byKey = [$key => $id];
            $raw = [$key => $value];
        } else {
            $keys = [];
            foreach ($ids as $id) {
                $keys[] = \is_string($id) ? $id : self::toId($id);
            }
            // One check for the whole batch: "\n" is itself plain and cannot end a UTF-8 sequence, so the joined
            // string is plain exactly when every id is. Then the store keys are the ids.
            if (1 === preg_match(self::PLAIN_ID, implode("\n", $keys))) {
                $byKey = array_combine($keys, $keys);
            } else {
                $byKey = [];
                foreach ($keys as $i => $id) {
                    $keys[$i] = $key = self::encodeId($id);
                    $byKey[$key] = $id;
                }
            }
            $raw = $this->direct ? \ephpm_kv_mget($keys) : $this->ops->mget($keys);
        }

        $values = [];
        $error = null;
        $memoizable = $this->memoizable;
        foreach ($raw as $key => $value) {
            if (!isset($byKey[$key])) {
                continue; // never yield an id nobody asked for
            }
            $known = $memoizable && isset($this->seen[$key]) && $this->seen[$key] === $value;
            if ($known && isset($this->shared[$key])) {
                $values[$byKey[$key]] = $this->shared[$key];
                continue;
            }
            try {
                $values[$byKey[$key]] = $unmarshalled = $this->marshaller->unmarshall($value);
            } catch (\Throwable $e) {
                // An \Error (e.g. from a throwing __wakeup) would escape Symfony's \Exception-only error handling.
                $error ??= $e instanceof \Exception
                    ? $e
                    : new \ErrorException($e->getMessage(), $e->getCode(), \E_ERROR, $e->getFile(), $e->getLine(), $e);
                continue;
            }
            if (!$memoizable) {
                continue;
            }
            if (!$known) {
                $this->remember($key, $value); // first read of these bytes: only record them
            } elseif (!isset($this->shareable[$key])) {
                // Second read of the same bytes: decide once whether the value may be shared from now on.
                if ($this->shareable[$key] = self::isShareable($value)) {
                    $this->shared[$key] = $unmarshalled;
                }
            }
        }

        return null === $error ? $values : self::yieldThenThrow($values, $error);
    }

    /**
     * Whether unserialize($raw) can be shared between reads: PHP's serialize format (what DefaultMarshaller writes
     * without igbinary), large enough for unserialize() to cost more than the check, and holding no object and no
     * reference (those could be mutated through one read and seen by the next). Symfony's own value wrapper for
     * metadata is an object that Symfony never exposes nor modifies, so it may stand at the top.
     */
    private static function isShareable(string $raw): bool
    {
        $length = \strlen($raw);
        if ($length < self::MEMO_MIN_BYTES || $length > self::MEMO_MAX_BYTES || ':' !== $raw[1]) {
            return false;
        }
        $offset = 0;
        if ('O' === $raw[0]) {
            if (!str_starts_with($raw, self::WRAPPER_PREFIX)) {
                return false;
            }
            $offset = \strlen(self::WRAPPER_PREFIX);
        } elseif ('C' === $raw[0]) {
            return false;
        }

        return 0 === preg_match('/[;{][OCRr]:[0-9]/', $raw, $m, 0, $offset);
    }

    private function remember(int|string $key, string $raw): void
    {
        $length = \strlen($raw);
        if ($length < self::MEMO_MIN_BYTES || $length > self::MEMO_MAX_BYTES) {
            return;
        }
        if (isset($this->shareable[$key])) {
            unset($this->shareable[$key], $this->shared[$key]); // the bytes changed
        }
        $this->seen[$key] = $raw;
        // Overwrites count twice here; the exact figure is recomputed when trimming.
        if (($this->seenBytes += $length) > self::MEMO_MAX_TOTAL || \count($this->seen) > self::MEMO_MAX_ENTRIES) {
            // Forget the older half (insertion order), as Symfony does for its id memo.
            $this->seen = \array_slice($this->seen, intdiv(\count($this->seen), 2), null, true);
            $this->shareable = array_intersect_key($this->shareable, $this->seen);
            $this->shared = array_intersect_key($this->shared, $this->seen);
            $this->seenBytes = array_sum(array_map('strlen', $this->seen));
        }
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
