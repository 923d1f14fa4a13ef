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

    private readonly KvOpsInterface $ops;
    private readonly MarshallerInterface $marshaller;

    /**
     * @param string                   $namespace       prefix of every key of this pool (reserved characters {}()/\@: are refused)
     * @param int                      $defaultLifetime seconds for items saved without an explicit expiry; 0 = no expiry
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
        if (1 === preg_match('/^[^\x00{]*+$/Du', $id)) {
            return $id;
        }

        return '{' . rtrim(strtr(base64_encode($id), '+/', '-_'), '=');
    }

    /**
     * @param array<array-key, string> $ids
     *
     * @return iterable<array-key, mixed>
     */
    protected function doFetch(array $ids): iterable
    {
        $byKey = [];
        foreach ($ids as $id) {
            $byKey[self::encodeId($id)] = $id;
        }
        if (1 === \count($byKey)) {
            $key = (string) array_key_first($byKey);
            $value = $this->ops->get($key);
            $raw = null === $value ? [] : [$key => $value];
        } else {
            $keys = [];
            foreach ($byKey as $key => $id) {
                $keys[] = (string) $key;
            }
            $raw = $this->ops->mget($keys);
        }

        $values = [];
        $error = null;
        foreach ($raw as $key => $value) {
            if (!isset($byKey[$key])) {
                continue; // never yield an id nobody asked for
            }
            try {
                $values[$byKey[$key]] = $this->marshaller->unmarshall($value);
            } catch (\Exception $e) {
                $error ??= $e;
            } catch (\Error $e) {
                $error ??= new \ErrorException($e->getMessage(), (int) $e->getCode(), \E_ERROR, $e->getFile(), $e->getLine(), $e);
            }
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
     * @param array<array-key, string> $ids
     */
    protected function doDelete(array $ids): bool
    {
        foreach ($ids as $id) {
            $this->ops->del(self::encodeId((string) $id));
        }

        return true;
    }

    /**
     * @param array<array-key, mixed> $values
     *
     * @return array<array-key, array-key>|bool
     */
    protected function doSave(array $values, int $lifetime): array|bool
    {
        $failed = [];
        $serialized = $this->marshaller->marshall($values, $failed);
        $failed ??= [];
        if ([] === $serialized) {
            return $failed;
        }

        if (1 === \count($serialized)) {
            foreach ($serialized as $id => $value) {
                $this->write((string) $id, $value, $lifetime, $failed);
            }

            return $failed;
        }

        $batch = [];
        foreach ($serialized as $id => $value) {
            $batch[self::encodeId((string) $id)] = $value;
        }
        if (!$this->ops->mset($batch, $lifetime)) {
            // The store refused at least one pair without saying which: write them one by one to find out.
            foreach ($serialized as $id => $value) {
                $this->write((string) $id, $value, $lifetime, $failed);
            }
        }

        return $failed;
    }

    /**
     * @param list<array-key> $failed
     */
    private function write(string $id, string $value, int $lifetime, array &$failed): void
    {
        $key = self::encodeId($id);
        if (!$this->ops->set($key, $value, $lifetime)) {
            // Report the failure, and drop whatever older value the key held: a failed overwrite must read as a miss,
            // not as a stale hit (on the original ePHPm the old value is already gone; on ephpm it is still there).
            $failed[] = $id;
            $this->ops->del($key);
        }
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
