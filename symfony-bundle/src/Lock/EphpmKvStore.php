<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Lock;

use Symfony\Component\Lock\BlockingStoreInterface;
use Symfony\Component\Lock\Exception\InvalidArgumentException;
use Symfony\Component\Lock\Exception\InvalidTtlException;
use Symfony\Component\Lock\Exception\LockAcquiringException;
use Symfony\Component\Lock\Exception\LockConflictedException;
use Symfony\Component\Lock\Key;
use Symfony\Component\Lock\Store\ExpiringStoreTrait;

/**
 * Symfony Lock store on the ephpm key-value store, shared by every worker of `ephpm serve` and by `ephpm php`
 * processes attached to it.
 *
 * A lock is one key, `<prefix><resource>`, holding a random token kept in the Key's state:
 *  - acquire: `ephpm_kv_setnx(key, token, ttl)`; exactly one caller wins, the TTL frees the lock of a holder that died;
 *  - release: `ephpm_kv_del_if_eq(key, token)`, so a holder whose lock expired never frees the next holder's;
 *  - blocking acquire: sleeps in `ephpm_kv_wait` on the key and is woken by the release (no polling), and never
 *    sleeps past the holder's TTL, so an expired lock is taken over even where nothing reaps it.
 *
 * TTLs are rounded up to whole seconds in the store (its unit); the Key's own lifetime stays exact, so a lock is
 * never considered held longer than asked. Shared (read) locks are not offered: without compare-and-swap the store
 * cannot keep per-reader expiry and a writer's check atomic, and Symfony falls back to exclusive locks.
 */
final class EphpmKvStore implements BlockingStoreInterface
{
    use ExpiringStoreTrait;

    /** Longest single wait when the holder's lock has no remaining TTL reading (it never has: TTLs are > 0). */
    private const MAX_WAIT_MS = 60_000;

    /**
     * @param float  $initialTtl seconds a lock lives before it must be refreshed (putOffExpiration)
     * @param string $prefix     prepended to each resource to form the store key
     */
    public function __construct(
        private readonly float $initialTtl = 300.0,
        private readonly string $prefix = 'lock:',
    ) {
        if ($initialTtl <= 0) {
            throw new InvalidTtlException(\sprintf('"%s()" expects a strictly positive TTL, "%s" given.', __METHOD__, $initialTtl));
        }
        if (!\function_exists('ephpm_kv_setnx') || !\function_exists('ephpm_kv_del_if_eq') || !\function_exists('ephpm_kv_wait')) {
            throw new InvalidArgumentException('The ephpm lock store needs the ephpm_kv_* functions: run PHP under "ephpm serve" or "ephpm php".');
        }
    }

    public function save(Key $key): void
    {
        $key->reduceLifetime($this->initialTtl);
        if (!$this->acquire($key, $this->initialTtl)) {
            throw new LockConflictedException();
        }
        $this->checkNotExpired($key);
    }

    public function waitAndSave(Key $key): void
    {
        $storeKey = $this->storeKey($key);
        for (;;) {
            $key->reduceLifetime($this->initialTtl);
            if ($this->acquire($key, $this->initialTtl)) {
                $this->checkNotExpired($key);

                return;
            }
            // Version 0 returns at once with the key's version: a release after this point is a version change,
            // so it cannot slip between this check and the sleep below.
            $snapshot = ephpm_kv_wait($storeKey, 0, 0);
            if (false === $snapshot) {
                throw new LockAcquiringException('Waiting for the lock was cancelled (request timeout or server shutdown).');
            }
            if (null === $snapshot['value']) {
                continue; // released meanwhile
            }
            $remainingMs = ephpm_kv_pttl($storeKey); // -2 (gone: retry) or the holder's TTL in ms
            if ($remainingMs < 0) {
                continue;
            }
            $timeoutMs = min($remainingMs, self::MAX_WAIT_MS);
            $start = hrtime(true);
            if (
                false === ephpm_kv_wait($storeKey, $snapshot['version'], $timeoutMs)
                && (hrtime(true) - $start) / 1e6 < $timeoutMs * 0.9
            ) {
                // false long before the timeout: the request deadline, a signal or shutdown ended the wait.
                throw new LockAcquiringException('Waiting for the lock was interrupted (request timeout, signal or server shutdown).');
            }
        }
    }

    public function putOffExpiration(Key $key, float $ttl): void
    {
        $key->reduceLifetime($ttl);
        if (!$this->acquire($key, $ttl)) {
            throw new LockConflictedException();
        }
        $this->checkNotExpired($key);
    }

    public function delete(Key $key): void
    {
        ephpm_kv_del_if_eq($this->storeKey($key), $this->token($key));
    }

    public function exists(Key $key): bool
    {
        return ephpm_kv_get($this->storeKey($key)) === $this->token($key);
    }

    /**
     * Takes the lock for $ttl seconds, or extends it when this Key already holds it.
     *
     * The extension is a read then an expire: if the lock expired and changed hands in between, the new holder's
     * lock gets our TTL (it lives longer, it is never shared) and the re-read reports the conflict.
     */
    private function acquire(Key $key, float $ttl): bool
    {
        $storeKey = $this->storeKey($key);
        $token = $this->token($key);
        $seconds = max(1, (int) ceil($ttl));
        if (ephpm_kv_setnx($storeKey, $token, $seconds)) {
            return true;
        }

        return ephpm_kv_get($storeKey) === $token
            && ephpm_kv_expire($storeKey, $seconds)
            && ephpm_kv_get($storeKey) === $token;
    }

    private function storeKey(Key $key): string
    {
        return $this->prefix . $key;
    }

    private function token(Key $key): string
    {
        $token = $key->hasState(__CLASS__) ? $key->getState(__CLASS__) : null;
        if (!\is_string($token)) {
            $token = bin2hex(random_bytes(16));
            $key->setState(__CLASS__, $token);
        }

        return $token;
    }
}
