<?php

/**
 * The ephpm_test_* hooks of the test binary `ephpm-test-hooks` (runtime/php/test_hooks.cc), used by
 * runtime/php/tests/hooks_test.php. Not part of the product: the `ephpm` binary has none of them.
 * ephpm_test_hooks_arginfo.h is generated from this file (scripts/gen-arginfo.sh).
 *
 * @generate-function-entries
 */

/** Sets $key to $value from a helper thread after $delay_ms milliseconds (wakes ephpm_kv_wait). */
function ephpm_test_set_after(string $key, string $value, int $delay_ms): bool {}

/** Cancels every ephpm_kv_wait from a helper thread after $delay_ms, as the request watchdog does. */
function ephpm_test_cancel_waits_after(int $delay_ms): bool {}

/** Re-arms ephpm_kv_wait after a cancellation (what every request start does under serve). */
function ephpm_test_reset_wait_cancel(): void {}

/** Watch slots currently allocated in the store. */
function ephpm_test_watch_slot_count(): int {}

/** How long an idle watch slot is kept before the expire cycle may free it. */
function ephpm_test_set_watch_slot_grace_ms(int $grace_ms): void {}

/** Runs one active-expiry cycle now; returns the number of entries reaped. */
function ephpm_test_expire_cycle(): int {}

/** Throws a C++ exception ("bad_alloc" or anything else) below a native function. */
function ephpm_test_cxx_exception(string $kind): void {}
