<?php

/**
 * IDE/static-analysis stub for the `ephpm` extension built into `ephpm serve` and `ephpm php`.
 * The contract is docs/kv-contract.md. ephpm_kv_arginfo.h is generated from this file
 * (scripts/gen-arginfo.sh); runtime/php/tests/reflection_test.php checks
 * that Reflection of the real functions matches these signatures exactly.
 *
 * @generate-function-entries
 */

/** Stored bytes of a live key, null when missing or expired. */
function ephpm_kv_get(string $key): ?string {}

/** Stores the value; $ttl seconds, <= 0 means no expiry. False only when memory is refused. */
function ephpm_kv_set(string $key, string $value, int $ttl = 0): bool {}

/** Inserts only when the key is missing or expired. */
function ephpm_kv_setnx(string $key, string $value, int $ttl = 0): bool {}

/** 1 when a live key was removed, else 0. */
function ephpm_kv_del(string $key): int {}

function ephpm_kv_exists(string $key): bool {}

function ephpm_kv_incr(string $key): int|false {}

function ephpm_kv_decr(string $key): int|false {}

function ephpm_kv_incr_by(string $key, int $delta): int|false {}

/** Sets the deadline to now + $ttl seconds (extends or shortens); false for $ttl <= 0 or a missing key. */
function ephpm_kv_expire(string $key, int $ttl): bool {}

/** -2 missing, -1 persistent, else the remaining seconds rounded up. */
function ephpm_kv_ttl(string $key): int {}

/** -2 missing, -1 persistent, else the remaining milliseconds. */
function ephpm_kv_pttl(string $key): int {}

function ephpm_kv_flush_all(): bool {}

/**
 * ['version' => int, 'value' => ?string] once the key's version exceeds $last_version; false on
 * timeout ($timeout_ms, 0 = poll), request deadline or shutdown.
 *
 * @return array{version: int, value: ?string}|false
 */
function ephpm_kv_wait(string $key, int $last_version, int $timeout_ms): array|false {}

/** Deletes the key only when its value equals $token byte for byte. */
function ephpm_kv_del_if_eq(string $key, string $token): bool {}

/**
 * key => value for hits only, in input order.
 *
 * @phpstan-param list<string|int> $keys
 * @return array<string|int, string>
 */
function ephpm_kv_mget(array $keys): array {}

/** @phpstan-param array<string|int, string> $values */
function ephpm_kv_mset(array $values, int $ttl = 0): bool {}

/**
 * One step of a key listing, as Redis's SCAN: start with cursor 0, pass each returned cursor back
 * in, stop when it returns 0. Returns [next cursor, keys of this step matching the Redis glob
 * $pattern ('' = every key)]. A key live for the whole listing is returned exactly once; $count
 * (1-100000) bounds a step's work, and a step may return no keys with a nonzero cursor.
 *
 * @return array{0: int, 1: list<string>}
 */
function ephpm_kv_scan(int $cursor, string $pattern = '', int $count = 100): array {}

/**
 * discarded_shards counts shards emptied because a process died holding their lock (each is also
 * logged by the server, or on stderr by `ephpm php`). bytes_saved: original minus stored bytes of
 * the values stored compressed ([kv] compression); decode_errors: compressed values that failed
 * to decode (each read as a miss).
 *
 * @return array{keys: int, used_memory: int, memory_limit: int, hits: int, misses: int, evictions: int, expired: int, discarded_shards: int, bytes_saved: int, decode_errors: int}
 */
function ephpm_kv_stats(): array {}
