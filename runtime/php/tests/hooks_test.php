<?php
// Tests that need the ephpm_test_* hooks (run under the test binary ephpm-test-hooks, built with
// runtime/php/test_hooks.cc; the ephpm binary has no hooks): a write from another thread of the
// same process, cancellation of a blocked wait (watchdog/shutdown path), watch-slot reclamation,
// and the C++ exception boundary.

test('the test binary registers the hooks in the ephpm module', function () {
    check(function_exists('ephpm_test_set_after'), 'ephpm-test-hooks has ephpm_test_set_after');
    check(in_array('ephpm_test_expire_cycle', get_extension_funcs('ephpm'), true), 'listed by get_extension_funcs');
});

test('wait is woken by a set from another thread', function () {
    $v = ephpm_kv_wait('t', 0, 0)['version'];
    same(true, ephpm_test_set_after('t', 'from thread', 200));
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('t', $v, 5000);
    $elapsed = ms_since($t0);
    check(is_array($r) && $r['version'] > $v, 'woken with a newer version');
    same('from thread', is_array($r) ? $r['value'] : null);
    check($elapsed >= 150 && $elapsed < 3000, "after about 200 ms, got $elapsed");
});

test('a PHP_INT_MAX timeout blocks until woken or cancelled (no overflow)', function () {
    $v = ephpm_kv_wait('big-timeout', 0, 0)['version'];
    ephpm_test_set_after('big-timeout', 'woke', 200);
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('big-timeout', $v, PHP_INT_MAX);
    $elapsed = ms_since($t0);
    same('woke', is_array($r) ? $r['value'] : $r, 'woken by the write');
    check($elapsed >= 150, "did not return at once, got $elapsed ms");
    ephpm_test_cancel_waits_after(200);
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('big-timeout', $r['version'] ?? PHP_INT_MAX, PHP_INT_MAX), 'cancelled');
    $elapsed = ms_since($t0);
    check($elapsed >= 150 && $elapsed < 2000, "cancelled after about 200 ms, got $elapsed");
    ephpm_test_reset_wait_cancel();
});

test('several waits on other keys are not woken', function () {
    $v = ephpm_kv_wait('quiet', 0, 0)['version'];
    ephpm_test_set_after('noisy', 'x', 50);
    same(false, ephpm_kv_wait('quiet', $v, 400), 'a write to another key does not wake');
});

test('a cancelled wait returns false early (watchdog / shutdown)', function () {
    $v = ephpm_kv_wait('c', 0, 0)['version'];
    ephpm_test_cancel_waits_after(200);
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('c', $v, 10_000));
    $elapsed = ms_since($t0);
    check($elapsed >= 150 && $elapsed < 1500, "cancelled after about 200 ms, got $elapsed");
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('c', $v, 5000), 'still cancelled: returns at once');
    check(ms_since($t0) < 500, 'at once');
    ephpm_test_reset_wait_cancel();
    ephpm_kv_set('c', 'after');
    $r = ephpm_kv_wait('c', $v, 1000);
    same('after', is_array($r) ? $r['value'] : null, 'works again after reset');
});

test('watch slots are freed after the grace period; old versions never hang', function () {
    ephpm_test_set_watch_slot_grace_ms(0);
    $v = ephpm_kv_wait('slot', 0, 0)['version'];
    same(false, ephpm_kv_wait('slot', $v, 50));
    usleep(20_000);
    ephpm_test_expire_cycle();
    $deadline = hrtime(true) + 2_000_000_000;
    while (ephpm_test_watch_slot_count() > 0 && hrtime(true) < $deadline) {
        usleep(50_000);
        ephpm_test_expire_cycle();
    }
    same(0, ephpm_test_watch_slot_count(), 'slot count returns to 0');
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('slot', $v, 3000);
    check(is_array($r) && $r['version'] > $v, 're-waiting with the old version returns once, at once');
    check(ms_since($t0) < 1000, 'no hang');
    ephpm_test_set_watch_slot_grace_ms(30_000);
});

test('C++ exceptions become PHP Errors at the boundary', function () {
    throws(Error::class, fn () => ephpm_test_cxx_exception('runtime'), 'internal error in the key-value store');
    throws(Error::class, fn () => ephpm_test_cxx_exception('bad_alloc'), 'out of memory');
    ephpm_kv_set('still', 'works');
    same('works', ephpm_kv_get('still'), 'store usable afterwards');
});
