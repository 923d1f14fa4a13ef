<?php
// The native session save handler `ephpm` (runtime/php/session_handler.cc) under `ephpm php`.
// Run by scripts/suites/55-sessions-locks.sh under build/runtime/ephpm-test-hooks (ephpm plus the
// ephpm_test_* functions) with EPHPM_KV_SWEEPER=0: no sweeper thread, so expiry and lock
// take-over must work without one; forked children share the
// store (MAP_SHARED), so they are the concurrent requests.

ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.cache_limiter', '');
ini_set('session.gc_probability', '0');
ini_set('session.save_handler', 'ephpm');
ini_set('session.gc_maxlifetime', '1440');

/** Runs $fn with warnings collected; returns [result, list of messages]. */
function with_warnings(callable $fn): array
{
    $warnings = [];
    set_error_handler(function (int $no, string $msg) use (&$warnings) {
        $warnings[] = $msg;
        return true;
    });
    try {
        $result = $fn();
    } finally {
        restore_error_handler();
    }
    return [$result, $warnings];
}

function open_session(string $id): bool
{
    session_id($id);
    return session_start();
}

function version_of(string $key): int
{
    return ephpm_kv_wait($key, 0, 0)['version'];
}

/** Forks $fn into a child (exit code = its return value) and returns the pid. */
function spawn(callable $fn): int
{
    $pid = pcntl_fork();
    if ($pid === 0) {
        $code = 1;
        try {
            $code = $fn() ? 0 : 1;
        } finally {
            exit($code);
        }
    }
    return $pid;
}

function child_exit(int $pid): int
{
    pcntl_waitpid($pid, $status);
    return pcntl_wifsignaled($status) ? 128 + pcntl_wtermsig($status) : pcntl_wexitstatus($status);
}

test('the ephpm handler is registered and selected', function () {
    same('ephpm', ini_get('session.save_handler'));
    same('30', ini_get('ephpm.session_lock_ttl'));
    same('30', ini_get('ephpm.session_lock_wait'));
    check(open_session('registered1'), 'session_start');
    same('ephpm', session_module_name());
    session_write_close();
});

test('write then read round trip, TTL = session.gc_maxlifetime', function () {
    check(open_session('roundtrip1'));
    same([], $_SESSION);
    $_SESSION['user'] = 42;
    $_SESSION['name'] = "bin\0ary";
    check(session_write_close(), 'write_close');
    same('user|i:42;name|s:7:"bin' . "\0" . 'ary";', ephpm_kv_get('session:roundtrip1'));
    same(1440, ephpm_kv_ttl('session:roundtrip1'));
    $_SESSION = [];
    check(open_session('roundtrip1'));
    same(42, $_SESSION['user']);
    session_write_close();
});

test('a large session (over the inline read buffer) round trips', function () {
    $blob = random_bytes(300000);
    check(open_session('large1'));
    $_SESSION['blob'] = $blob;
    session_write_close();
    $_SESSION = [];
    check(open_session('large1'));
    same(true, ($_SESSION['blob'] ?? null) === $blob, 'blob intact');
    session_write_close();
});

test('gc_maxlifetime 0 stores without TTL', function () {
    ini_set('session.gc_maxlifetime', '0');
    try {
        check(open_session('nottl1'));
        $_SESSION['a'] = 1;
        session_write_close();
        same(-1, ephpm_kv_ttl('session:nottl1'));
    } finally {
        ini_set('session.gc_maxlifetime', '1440');
    }
});

test('the lock key holds a random token while the session is open, and is freed by close', function () {
    check(open_session('lockkey1'));
    $token = ephpm_kv_get('session_lock:lockkey1');
    check(is_string($token) && preg_match('/^[0-9a-f]{32}$/', $token) === 1, 'token: ' . T::export($token));
    $ttl = ephpm_kv_ttl('session_lock:lockkey1');
    check($ttl > 0 && $ttl <= 30, "lock TTL $ttl within (0, 30]");
    session_write_close();
    same(null, ephpm_kv_get('session_lock:lockkey1'));
    check(open_session('lockkey1'));
    $second = ephpm_kv_get('session_lock:lockkey1');
    check($second !== $token, 'a new token per acquisition');
    session_abort();
    same(null, ephpm_kv_get('session_lock:lockkey1'), 'session_abort releases too');
});

test('strict mode rejects an unknown id and keeps a known one', function () {
    ini_set('session.use_strict_mode', '1');
    try {
        check(open_session('forged-id-123'));
        $fresh = session_id();
        check($fresh !== 'forged-id-123', 'a new id replaced the forged one');
        same(null, ephpm_kv_get('session_lock:forged-id-123'), 'the forged id was never locked');
        $_SESSION['k'] = 'v';
        session_write_close();
        same(false, ephpm_kv_exists('session:forged-id-123'));
        check(open_session($fresh));
        same($fresh, session_id(), 'an existing id is accepted');
        same('v', $_SESSION['k']);
        session_write_close();
        // create_sid never hands out an id that exists: its ids are always new keys.
        check(open_session('another-forged'));
        check(session_id() !== $fresh && !ephpm_kv_exists('session:' . session_id()) || $_SESSION === [], 'new id is fresh');
        session_write_close();
    } finally {
        ini_set('session.use_strict_mode', '0');
    }
});

test('lazy_write: unchanged data refreshes the TTL without rewriting', function () {
    ini_set('session.lazy_write', '1');
    check(open_session('lazy1'));
    $_SESSION['n'] = 1;
    session_write_close();
    ephpm_kv_expire('session:lazy1', 5);
    $before = version_of('session:lazy1');
    check(open_session('lazy1'));
    session_write_close();
    same(1440, ephpm_kv_ttl('session:lazy1'), 'TTL refreshed');
    same($before, version_of('session:lazy1'), 'value not rewritten (no version bump)');
    check(open_session('lazy1'));
    $_SESSION['n'] = 2;
    session_write_close();
    check(version_of('session:lazy1') > $before, 'a change is written');
    ini_set('session.lazy_write', '0');
    $v = version_of('session:lazy1');
    check(open_session('lazy1'));
    session_write_close();
    check(version_of('session:lazy1') > $v, 'lazy_write=0 rewrites unchanged data');
    ini_set('session.lazy_write', '1');
});

test('an empty new session is created under lazy_write (so strict mode accepts its id)', function () {
    check(open_session('emptynew1'));
    session_write_close();
    same('', ephpm_kv_get('session:emptynew1'));
    same(1440, ephpm_kv_ttl('session:emptynew1'));
});

test('destroy removes data and lock; regenerate_id moves the lock', function () {
    check(open_session('destroy1'));
    $_SESSION['x'] = 1;
    session_write_close();
    check(open_session('destroy1'));
    check(session_destroy());
    same(false, ephpm_kv_exists('session:destroy1'));
    same(false, ephpm_kv_exists('session_lock:destroy1'));

    check(open_session('regen1'));
    $_SESSION['y'] = 2;
    check(session_regenerate_id(true));
    $new = session_id();
    check($new !== 'regen1');
    same(false, ephpm_kv_exists('session:regen1'), 'old data deleted');
    same(false, ephpm_kv_exists('session_lock:regen1'), 'old lock released');
    check(ephpm_kv_exists("session_lock:$new"), 'new id locked');
    session_write_close();
    same(false, ephpm_kv_exists("session_lock:$new"));
    check(str_contains((string) ephpm_kv_get("session:$new"), 'y|i:2;'), 'data under the new id');
});

test('gc reaps expired sessions nobody touched (no sweeper thread)', function () {
    ini_set('session.gc_maxlifetime', '1');
    try {
        foreach (['gc1', 'gc2', 'gc3'] as $id) {
            check(open_session($id));
            $_SESSION['v'] = $id;
            session_write_close();
        }
        same(3, ephpm_kv_stats()['keys']);
        usleep(1100000);
        same(3, ephpm_kv_stats()['keys'], 'still held before gc (no sweeper)');
        check(open_session('gc-runner'));  // session_gc() needs an open session
        $n = session_gc();
        session_abort();
        same(3, $n, 'session_gc() count');
        same(0, ephpm_kv_stats()['keys']);
    } finally {
        ini_set('session.gc_maxlifetime', '1440');
    }
});

test('INI settings validate their values', function () {
    same(false, ini_set('ephpm.session_lock_ttl', '0'));
    same(false, ini_set('ephpm.session_lock_ttl', 'abc'));
    same(false, ini_set('ephpm.session_lock_wait', '-5'));
    same('30', ini_get('ephpm.session_lock_ttl'));
    same('30', ini_set('ephpm.session_lock_ttl', '5'));
    same('5', ini_get('ephpm.session_lock_ttl'));
    ini_restore('ephpm.session_lock_ttl');
    same('30', ini_get('ephpm.session_lock_ttl'));
});

test('a session locked elsewhere: the wait times out with a warning and no lock taken', function () {
    ephpm_kv_set('session_lock:busy1', 'someone-else', 60);
    ini_set('ephpm.session_lock_wait', '1');
    try {
        $t0 = hrtime(true);
        [$ok, $warnings] = with_warnings(fn () => open_session('busy1'));
        $ms = ms_since($t0);
        same(false, $ok, 'session_start');
        check($ms >= 1000, "waited the full second ($ms ms)");
        check(str_contains(implode("\n", $warnings), 'locked by another request; gave up waiting after 1 s (ephpm.session_lock_wait)'),
            'warning: ' . implode(' | ', $warnings));
        same(PHP_SESSION_NONE, session_status());
        same('someone-else', ephpm_kv_get('session_lock:busy1'), 'the other lock is untouched');
    } finally {
        ini_restore('ephpm.session_lock_wait');
    }
});

test('the watchdog cancel flag ends a lock wait', function () {
    ephpm_kv_set('session_lock:cancel1', 'someone-else', 60);
    ephpm_test_cancel_waits_after(150);
    $t0 = hrtime(true);
    [$ok, $warnings] = with_warnings(fn () => open_session('cancel1'));
    $ms = ms_since($t0);
    ephpm_test_reset_wait_cancel();
    same(false, $ok);
    check($ms < 20000, "ended long before the 30 s wait ($ms ms)");
    check(str_contains(implode("\n", $warnings), 'waiting for the session lock was cancelled'), implode(' | ', $warnings));
});

test('a pending PHP signal handler ends a lock wait, and runs', function () {
    ephpm_kv_set('session_lock:signal1', 'someone-else', 60);
    $fired = false;
    pcntl_async_signals(true);
    pcntl_signal(SIGALRM, function () use (&$fired) {
        $fired = true;
    });
    pcntl_alarm(1);
    $t0 = hrtime(true);
    [$ok, $warnings] = with_warnings(fn () => open_session('signal1'));
    $ms = ms_since($t0);
    pcntl_signal(SIGALRM, SIG_DFL);
    pcntl_async_signals(false);
    same(false, $ok);
    check($fired, 'the SIGALRM handler ran');
    check($ms < 20000, "ended long before the 30 s wait ($ms ms)");
    check(str_contains(implode("\n", $warnings), 'waiting for the session lock was interrupted'), implode(' | ', $warnings));
});

test('a request that outlived its lock does not save over the next holder', function () {
    check(open_session('lost1'));
    $_SESSION['mine'] = 1;
    ephpm_kv_set('session_lock:lost1', 'next-holder', 60);  // our lock expired and was taken
    // PHP 8.2's session_write_close() returns true even when the handler's write failed; the warnings tell.
    [, $warnings] = with_warnings(fn () => session_write_close());
    same(PHP_SESSION_NONE, session_status());
    check(str_contains(implode("\n", $warnings), 'session data not saved'), implode(' | ', $warnings));
    same(false, ephpm_kv_exists('session:lost1'), 'nothing written');
    same('next-holder', ephpm_kv_get('session_lock:lost1'), 'the next holder keeps its lock');
});

test('a waiter wakes when the holder releases (no lost update)', function () {
    // Fork first: a child must not inherit an open session.
    $child = spawn(function () {
        while (ephpm_kv_get('handover1:parent_holds') === null) {
            usleep(1000);
        }
        $t0 = hrtime(true);
        if (!open_session('handover1')) {
            return false;
        }
        ephpm_kv_set('handover1:waited_ms', (string) ms_since($t0));
        $_SESSION['n']++;
        return session_write_close();
    });
    check(open_session('handover1'));
    $_SESSION['n'] = 1;
    ephpm_kv_set('handover1:parent_holds', '1');
    usleep(400000);  // the child is now waiting for our lock
    session_write_close();
    same(0, child_exit($child), 'child exit');
    check(open_session('handover1'));
    same(2, $_SESSION['n'], 'both updates kept');
    session_write_close();
    $waited = (float) ephpm_kv_get('handover1:waited_ms');
    check($waited >= 200, "the child really waited ($waited ms)");
});

test('4 processes x 25 increments of one session: exactly 100', function () {
    check(open_session('counter1'));
    $_SESSION['n'] = 0;
    session_write_close();
    $pids = [];
    for ($p = 0; $p < 4; $p++) {
        $pids[] = spawn(function () {
            for ($i = 0; $i < 25; $i++) {
                if (!open_session('counter1')) {
                    return false;
                }
                $n = $_SESSION['n'];
                usleep(200);  // widen the read-modify-write window
                $_SESSION['n'] = $n + 1;
                if (!session_write_close()) {
                    return false;
                }
            }
            return true;
        });
    }
    foreach ($pids as $pid) {
        same(0, child_exit($pid), 'child exit');
    }
    check(open_session('counter1'));
    same(100, $_SESSION['n']);
    session_write_close();
});

test('a holder killed with SIGKILL: the next request gets the session after the lock TTL', function () {
    check(open_session('killed1'));
    $_SESSION['before'] = 1;
    session_write_close();
    $child = spawn(function () {
        ini_set('ephpm.session_lock_ttl', '1');
        open_session('killed1');
        $_SESSION['lost'] = 1;
        ephpm_kv_set('killed1:holding', '1');
        posix_kill(getmypid(), SIGKILL);
        return true;
    });
    same(128 + SIGKILL, child_exit($child), 'child killed');
    same('1', ephpm_kv_get('killed1:holding'), 'the child held the lock when it died');
    check(ephpm_kv_exists('session_lock:killed1'), 'its lock outlives it');
    $t0 = hrtime(true);
    check(open_session('killed1'), 'session_start after the dead-man TTL');
    $ms = ms_since($t0);
    check($ms >= 300 && $ms < 5000, "took over after the dead holder's TTL ($ms ms)");
    same(['before' => 1], $_SESSION);
    session_write_close();
});
