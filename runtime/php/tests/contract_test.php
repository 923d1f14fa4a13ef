<?php
// PHP-level contract suite for the ephpm_kv_* functions: docs/kv-contract.md section 2
// (every function x missing / live / expired / persistent / binary / empty / wrong type /
// overflow) and the PHP items of the section 6 checklist. Runs under `ephpm php` with the default
// [kv] config (256MB, allkeys-lru, 64 shards) and the sweeper on. Each test starts from an
// empty store (run.php calls ephpm_kv_flush_all()).

const LONG_KEY_OK = 65535;
const LONG_KEY_BAD = 65536;

function expire_soon(string $key, string $value = 'v'): void
{
    // A key that is expired by the time this returns (TTL 1 s, then sleep past it).
    ephpm_kv_set($key, $value, 1);
    usleep(1_100_000);
}

// ------------------------------------------------------------------------------------------------
// get / set / overwrite / empty / binary
// ------------------------------------------------------------------------------------------------

test('get missing is null', function () {
    same(null, ephpm_kv_get('nope'));
});

test('set/get round trip, overwrite, empty value', function () {
    same(true, ephpm_kv_set('k', 'v1'));
    same('v1', ephpm_kv_get('k'));
    same(true, ephpm_kv_set('k', 'v2'));
    same('v2', ephpm_kv_get('k'), 'overwrite returns the latest');
    same(true, ephpm_kv_set('empty', ''));
    same('', ephpm_kv_get('empty'), 'stored "" is "" (not null)');
    same(true, ephpm_kv_exists('empty'));
    same(-1, ephpm_kv_ttl('empty'));
});

test('binary values round trip', function () {
    $bin = "\x00\x01\xFF\xFE";
    ephpm_kv_set('bin', $bin);
    same($bin, ephpm_kv_get('bin'));
    $v10k = random_bytes(10_000);
    ephpm_kv_set('v10k', $v10k);
    same($v10k, ephpm_kv_get('v10k'), '10,000-byte value');
    $v1m = random_bytes(1 << 20);
    same(true, ephpm_kv_set('v1m', $v1m));
    same($v1m, ephpm_kv_get('v1m'), '1 MiB value');
    $nul = str_repeat("\0", 100);
    ephpm_kv_set('nul', $nul);
    same($nul, ephpm_kv_get('nul'));
});

test('binary keys are independent; empty key is legal', function () {
    $keys = ['a', "a\0b", "a\0c", "\xFF\xFE", ''];
    foreach ($keys as $i => $k) {
        same(true, ephpm_kv_set($k, "value$i"), 'set ' . T::export($k));
    }
    foreach ($keys as $i => $k) {
        same("value$i", ephpm_kv_get($k), 'get ' . T::export($k));
    }
    same(5, ephpm_kv_stats()['keys']);
    same(1, ephpm_kv_del("a\0b"));
    same(null, ephpm_kv_get("a\0b"));
    same('value0', ephpm_kv_get('a'));
    same('value2', ephpm_kv_get("a\0c"));
    same('value4', ephpm_kv_get(''));
    same(true, ephpm_kv_exists(''));
});

test('65,535-byte key works', function () {
    $k = str_repeat('k', LONG_KEY_OK);
    same(true, ephpm_kv_set($k, 'long'));
    same('long', ephpm_kv_get($k));
    same(true, ephpm_kv_exists($k));
    same(false, ephpm_kv_incr($k));
    same(true, ephpm_kv_expire($k, 100));
    same(100, ephpm_kv_ttl($k));
    same(true, ephpm_kv_del_if_eq($k, 'long'));
    same(false, ephpm_kv_exists($k));
    same(true, ephpm_kv_mset([$k => 'm']));
    same([$k => 'm'], ephpm_kv_mget([$k]));
});

test('65,536-byte key throws ValueError in every function, nothing written', function () {
    $k = str_repeat('x', LONG_KEY_BAD);
    $msg = 'must not be longer than 65535 bytes';
    $calls = [
        'get' => fn () => ephpm_kv_get($k),
        'set' => fn () => ephpm_kv_set($k, 'v'),
        'setnx' => fn () => ephpm_kv_setnx($k, 'v'),
        'del' => fn () => ephpm_kv_del($k),
        'exists' => fn () => ephpm_kv_exists($k),
        'incr' => fn () => ephpm_kv_incr($k),
        'decr' => fn () => ephpm_kv_decr($k),
        'incr_by' => fn () => ephpm_kv_incr_by($k, 3),
        'expire' => fn () => ephpm_kv_expire($k, 10),
        'ttl' => fn () => ephpm_kv_ttl($k),
        'pttl' => fn () => ephpm_kv_pttl($k),
        'wait' => fn () => ephpm_kv_wait($k, 0, 0),
        'del_if_eq' => fn () => ephpm_kv_del_if_eq($k, 'v'),
    ];
    foreach ($calls as $name => $fn) {
        throws(ValueError::class, $fn, "ephpm_kv_$name(): Argument #1 (\$key) $msg", $name);
    }
    throws(ValueError::class, fn () => ephpm_kv_mget(['ok', $k]), 'Argument #1 ($keys)', 'mget element');
    throws(ValueError::class, fn () => ephpm_kv_mset(['ok' => '1', $k => 'v']), 'Argument #1 ($values)', 'mset key');
    same(0, ephpm_kv_stats()['keys'], 'nothing written (mset validates before the first write)');
    same(null, ephpm_kv_get('ok'));
});

// ------------------------------------------------------------------------------------------------
// TTL
// ------------------------------------------------------------------------------------------------

test('set with ttl 60: pttl in (0, 60000], ttl 60', function () {
    same(true, ephpm_kv_set('t', 'v', 60));
    $p = ephpm_kv_pttl('t');
    check($p > 0 && $p <= 60000, "pttl in (0, 60000], got $p");
    same(60, ephpm_kv_ttl('t'), 'rounded up');
});

test('ttl 0 and negative mean persistent; plain set clears a TTL', function () {
    ephpm_kv_set('z', 'v', 0);
    same(-1, ephpm_kv_pttl('z'));
    same(true, ephpm_kv_set('n', 'v', -5), 'negative TTL neither errors nor deletes');
    same('v', ephpm_kv_get('n'));
    same(-1, ephpm_kv_pttl('n'));
    ephpm_kv_set('c', 'v', 60);
    check(ephpm_kv_ttl('c') > 0);
    ephpm_kv_set('c', 'v2');
    same(-1, ephpm_kv_ttl('c'), 'a plain set clears the earlier TTL');
    same(-1, ephpm_kv_pttl('c'));
});

test('ttl/pttl: -2 missing, -1 persistent, positive with TTL', function () {
    same(-2, ephpm_kv_ttl('missing'));
    same(-2, ephpm_kv_pttl('missing'));
    ephpm_kv_set('p', 'v');
    same(-1, ephpm_kv_ttl('p'));
    same(-1, ephpm_kv_pttl('p'));
    ephpm_kv_set('t', 'v', 5);
    same(5, ephpm_kv_ttl('t'));
    $p = ephpm_kv_pttl('t');
    check($p > 4000 && $p <= 5000, "pttl about 5000, got $p");
});

test('ttl rounds up (about 1,500 ms left gives 2)', function () {
    ephpm_kv_set('r', 'v', 2);
    usleep(500_000);
    $p = ephpm_kv_pttl('r');
    check($p > 1000 && $p < 1600, "pttl about 1500, got $p");
    same(2, ephpm_kv_ttl('r'));
});

test('key with ttl 1 s is gone after 1.2 s, in every function', function () {
    ephpm_kv_set('gone', 'v', 1);
    ephpm_kv_set('gone2', 'v', 1);
    ephpm_kv_set('gone3', '5', 1);
    usleep(1_200_000);
    same(null, ephpm_kv_get('gone'));
    same(false, ephpm_kv_exists('gone2'));
    same(-2, ephpm_kv_ttl('gone2'));
    same(-2, ephpm_kv_pttl('gone2'));
    same(0, ephpm_kv_del('gone2'));
    same(1, ephpm_kv_incr('gone3'), 'incr on an expired key starts from 0');
    same(-1, ephpm_kv_ttl('gone3'), 'incr-created key has no TTL');
});

test('PHP_INT_MAX TTLs clamp: alive, positive, not persistent', function () {
    same(true, ephpm_kv_set('max', 'v', PHP_INT_MAX));
    same('v', ephpm_kv_get('max'));
    check(ephpm_kv_ttl('max') > 0, 'ttl positive, got ' . ephpm_kv_ttl('max'));
    check(ephpm_kv_pttl('max') > 0, 'pttl positive, got ' . ephpm_kv_pttl('max'));
    ephpm_kv_set('max2', 'v');
    same(true, ephpm_kv_expire('max2', PHP_INT_MAX));
    check(ephpm_kv_ttl('max2') > 0 && ephpm_kv_pttl('max2') > 0, 'expire PHP_INT_MAX');
    same(true, ephpm_kv_setnx('max3', 'v', PHP_INT_MAX));
    check(ephpm_kv_ttl('max3') > 0, 'setnx PHP_INT_MAX');
    same(true, ephpm_kv_mset(['max4' => 'v'], PHP_INT_MAX));
    check(ephpm_kv_ttl('max4') > 0, 'mset PHP_INT_MAX');
    // The negative extremes mean "no expiry" / "refused", never a wrap.
    same(true, ephpm_kv_set('min', 'v', PHP_INT_MIN));
    same(-1, ephpm_kv_ttl('min'), 'PHP_INT_MIN ttl = persistent');
    same(false, ephpm_kv_expire('min', PHP_INT_MIN));
    same(-1, ephpm_kv_ttl('min'));
    same(true, ephpm_kv_setnx('min2', 'v', PHP_INT_MIN));
    same(-1, ephpm_kv_ttl('min2'));
    ephpm_kv_set('neg1', '-1');
    same(false, ephpm_kv_incr_by('neg1', PHP_INT_MIN), '-1 + PHP_INT_MIN overflows');
    same('-1', ephpm_kv_get('neg1'));
    check(is_array(ephpm_kv_wait('min', PHP_INT_MIN, PHP_INT_MIN)), 'wait with PHP_INT_MIN arguments = snapshot');
    // Large but not maximal values must not wrap either.
    ephpm_kv_set('big', 'v', intdiv(PHP_INT_MAX, 1000) + 1);
    check(ephpm_kv_ttl('big') > 0, 'ttl * 1000 overflow saturates');
    same('v', ephpm_kv_get('big'));
});

// ------------------------------------------------------------------------------------------------
// del / exists / setnx / del_if_eq
// ------------------------------------------------------------------------------------------------

test('del existing 1, missing 0; exists true/false', function () {
    ephpm_kv_set('d', 'v');
    same(true, ephpm_kv_exists('d'));
    same(1, ephpm_kv_del('d'));
    same(0, ephpm_kv_del('d'));
    same(false, ephpm_kv_exists('d'));
    same(0, ephpm_kv_del('never'));
});

test('exists does not count hits or misses', function () {
    ephpm_kv_set('e', 'v');
    $before = ephpm_kv_stats();
    ephpm_kv_exists('e');
    ephpm_kv_exists('nope');
    $after = ephpm_kv_stats();
    same($before['hits'], $after['hits']);
    same($before['misses'], $after['misses']);
});

test('setnx: insert, refuse, keep original, TTL', function () {
    same(true, ephpm_kv_setnx('n', 'first'));
    same(false, ephpm_kv_setnx('n', 'second'));
    same('first', ephpm_kv_get('n'));
    same(-1, ephpm_kv_ttl('n'));
    same(true, ephpm_kv_setnx('nt', 'v', 60));
    same(60, ephpm_kv_ttl('nt'), 'applies TTL');
    same(true, ephpm_kv_setnx('e', ''), 'empty value');
    same('', ephpm_kv_get('e'));
    same(false, ephpm_kv_setnx('e', 'x'), 'empty value is a live key');
});

test('setnx replaces an expired key', function () {
    expire_soon('x', 'old');
    same(true, ephpm_kv_setnx('x', 'new'));
    same('new', ephpm_kv_get('x'));
});

test('del_if_eq', function () {
    ephpm_kv_set('lock', "tok\0en");
    same(false, ephpm_kv_del_if_eq('lock', 'tok'), 'shorter token');
    same(false, ephpm_kv_del_if_eq('lock', "tok\0enX"), 'longer token');
    same(false, ephpm_kv_del_if_eq('lock', "tok\0eN"), 'different value');
    same("tok\0en", ephpm_kv_get('lock'), 'unchanged');
    same(true, ephpm_kv_del_if_eq('lock', "tok\0en"));
    same(false, ephpm_kv_exists('lock'));
    same(false, ephpm_kv_del_if_eq('lock', "tok\0en"), 'missing');
    ephpm_kv_set('e', '');
    same(true, ephpm_kv_del_if_eq('e', ''), 'empty value equals empty token');
    expire_soon('ex', 'tok');
    same(false, ephpm_kv_del_if_eq('ex', 'tok'), 'expired');
});

test('setnx lock + del_if_eq release pattern', function () {
    same(true, ephpm_kv_setnx('L', 'me', 30));
    same(false, ephpm_kv_setnx('L', 'other', 30));
    same(false, ephpm_kv_del_if_eq('L', 'other'));
    same(true, ephpm_kv_del_if_eq('L', 'me'));
    same(true, ephpm_kv_setnx('L', 'other', 30));
});

// ------------------------------------------------------------------------------------------------
// incr / decr / incr_by
// ------------------------------------------------------------------------------------------------

test('incr family basics', function () {
    same(1, ephpm_kv_incr('c'), 'incr on missing creates 1');
    same('1', ephpm_kv_get('c'));
    same(-1, ephpm_kv_ttl('c'), 'created without TTL');
    same(6, ephpm_kv_incr_by('c', 5));
    same(4, ephpm_kv_incr_by('c', -2));
    same(3, ephpm_kv_decr('c'));
    same('3', ephpm_kv_get('c'));
    same(10, ephpm_kv_incr_by('c2', 10));
    same(15, ephpm_kv_incr_by('c2', 5));
    same(-7, ephpm_kv_incr_by('neg', -7), 'negative delta on a missing key');
    same(-1, ephpm_kv_decr('d'), 'decr on missing');
    same(0, ephpm_kv_incr_by('zero', 0));
    same('0', ephpm_kv_get('zero'));
    same(1, ephpm_kv_incr("b\0in"), 'binary key');
});

test('incr parsing grid', function () {
    $ok = ['007' => [8, '8'], '+5' => [6, '6'], '-0' => [1, '1'], '0' => [1, '1'], '-5' => [-4, '-4'],
        '9223372036854775806' => [PHP_INT_MAX, (string) PHP_INT_MAX],
        '-9223372036854775808' => [PHP_INT_MIN + 1, (string) (PHP_INT_MIN + 1)]];
    foreach ($ok as $text => [$result, $stored]) {
        ephpm_kv_set('g', (string) $text);
        same($result, ephpm_kv_incr('g'), 'incr of ' . T::export((string) $text));
        same($stored, ephpm_kv_get('g'), 'canonical text after incr of ' . T::export((string) $text));
    }
    $bad = ['', ' 5', '5 ', '1e3', '1.5', '0x10', '9223372036854775808', '-9223372036854775809', '+', '-',
        '++5', '+-5', 'abc', '5a', "5\0", "\x005", '١', '0b1', ' ', "\n5"];
    foreach ($bad as $text) {
        ephpm_kv_set('g', $text);
        same(false, ephpm_kv_incr('g'), 'incr of ' . T::export($text));
        same(false, ephpm_kv_incr_by('g', 3), 'incr_by of ' . T::export($text));
        same(false, ephpm_kv_decr('g'), 'decr of ' . T::export($text));
        same($text, ephpm_kv_get('g'), 'unchanged: ' . T::export($text));
    }
});

test('incr overflow returns false and leaves the value unchanged', function () {
    ephpm_kv_set('o', (string) PHP_INT_MAX);
    same(false, ephpm_kv_incr('o'), 'PHP_INT_MAX + 1');
    same((string) PHP_INT_MAX, ephpm_kv_get('o'));
    same(false, ephpm_kv_incr_by('o', PHP_INT_MAX));
    same(PHP_INT_MAX - 1, ephpm_kv_decr('o'));
    ephpm_kv_set('u', (string) PHP_INT_MIN);
    same(false, ephpm_kv_decr('u'), 'PHP_INT_MIN - 1');
    same((string) PHP_INT_MIN, ephpm_kv_get('u'));
    same(false, ephpm_kv_incr_by('u', -1));
    same(PHP_INT_MIN, ephpm_kv_incr_by('fresh', PHP_INT_MIN));
    same(-1, ephpm_kv_incr_by('fresh', PHP_INT_MAX));
});

test('incr keeps TTL on update', function () {
    ephpm_kv_set('t', '5', 60);
    same(6, ephpm_kv_incr('t'));
    $ttl = ephpm_kv_ttl('t');
    check($ttl > 55 && $ttl <= 60, "TTL kept, got $ttl");
    ephpm_kv_set('t2', '9', 60);
    same(10, ephpm_kv_incr('t2'), 'text grows 9 -> 10');
    check(ephpm_kv_ttl('t2') > 0, 'TTL kept when the text grows');
});

test('incr/decr take exactly one argument, incr_by two', function () {
    throws(ArgumentCountError::class, fn () => ephpm_kv_incr('k', 5));
    throws(ArgumentCountError::class, fn () => ephpm_kv_decr('k', 5));
    throws(ArgumentCountError::class, fn () => ephpm_kv_incr_by('k'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_incr_by('k', 1, 2));
    same(null, ephpm_kv_get('k'), 'nothing written');
});

// ------------------------------------------------------------------------------------------------
// expire
// ------------------------------------------------------------------------------------------------

test('expire extends and shortens; refuses ttl <= 0 and missing keys', function () {
    ephpm_kv_set('e', 'v', 10);
    same(true, ephpm_kv_expire('e', 100));
    same(100, ephpm_kv_ttl('e'), 'extended');
    same(true, ephpm_kv_expire('e', 5));
    same(5, ephpm_kv_ttl('e'), 'shortened');
    same(false, ephpm_kv_expire('missing', 10));
    same(false, ephpm_kv_exists('missing'), 'expire does not create');
    ephpm_kv_set('p', 'v');
    same(false, ephpm_kv_expire('p', 0));
    same(false, ephpm_kv_expire('p', -1));
    same(-1, ephpm_kv_ttl('p'), 'still persistent');
    same(true, ephpm_kv_expire('p', 1));
    same(1, ephpm_kv_ttl('p'));
    ephpm_kv_set('t', 'v', 50);
    same(false, ephpm_kv_expire('t', 0));
    check(ephpm_kv_ttl('t') > 0, 'TTL untouched by a refused expire');
});

test('expire on an expired key is false', function () {
    expire_soon('x');
    same(false, ephpm_kv_expire('x', 100));
    same(false, ephpm_kv_exists('x'));
});

test('a key expired through expire() disappears', function () {
    ephpm_kv_set('s', 'v');
    ephpm_kv_expire('s', 1);
    usleep(1_100_000);
    same(null, ephpm_kv_get('s'));
});

// ------------------------------------------------------------------------------------------------
// flush_all / stats
// ------------------------------------------------------------------------------------------------

test('flush_all removes everything, used_memory 0, counters kept', function () {
    ephpm_kv_set('a', 'v');
    ephpm_kv_set('b', 'v', 100);
    ephpm_kv_get('a');
    ephpm_kv_get('missing');
    $before = ephpm_kv_stats();
    check($before['keys'] === 2 && $before['used_memory'] > 0, 'two keys held');
    same(true, ephpm_kv_flush_all());
    $after = ephpm_kv_stats();
    same(0, $after['keys']);
    same(0, $after['used_memory']);
    same($before['hits'], $after['hits'], 'hits not reset');
    same($before['misses'], $after['misses'], 'misses not reset');
    same(null, ephpm_kv_get('a'));
    same(null, ephpm_kv_get('b'));
    same(true, ephpm_kv_flush_all(), 'flush of an empty store');
});

test('stats: fields, order, types, defaults, hit/miss counting', function () {
    $s = ephpm_kv_stats();
    same(['keys', 'used_memory', 'memory_limit', 'hits', 'misses', 'evictions', 'expired', 'discarded_shards', 'bytes_saved', 'decode_errors'], array_keys($s));
    same(0, $s['bytes_saved'], 'compression is off by default');
    foreach ($s as $k => $v) {
        check(is_int($v), "$k is int");
    }
    same(256 * 1024 * 1024, $s['memory_limit'], 'default memory_limit');
    ephpm_kv_set('h', 'v');
    ephpm_kv_get('h');
    ephpm_kv_get('h');
    ephpm_kv_get('m');
    ephpm_kv_mget(['h', 'm', 'm2', 'h']);
    $t = ephpm_kv_stats();
    same($s['hits'] + 3, $t['hits'], 'get x2 + mget x1 (duplicates once)');
    same($s['misses'] + 3, $t['misses'], 'get x1 + mget x2');
    same(1, $t['keys']);
    check($t['used_memory'] > 0, 'used_memory > 0');
    ephpm_kv_set('h', str_repeat('x', 10_000));
    check(ephpm_kv_stats()['used_memory'] > $t['used_memory'], 'used_memory grows with the value');
    ephpm_kv_del('h');
    same(0, ephpm_kv_stats()['used_memory'], 'delete reclaims used_memory');
});

test('expired keys disappear from stats without access (sweeper)', function () {
    $before = ephpm_kv_stats();
    for ($i = 0; $i < 50; $i++) {
        ephpm_kv_set("sw$i", 'v', 1);
    }
    ephpm_kv_set('keep', 'v');
    same(51, ephpm_kv_stats()['keys']);
    $deadline = hrtime(true) + 5_000_000_000;
    do {
        usleep(100_000);
        $s = ephpm_kv_stats();
    } while ($s['keys'] > 1 && hrtime(true) < $deadline);
    same(1, $s['keys'], 'only the persistent key is left');
    same($before['expired'] + 50, $s['expired'], 'expired counts the sweeper reaps');
    same('v', ephpm_kv_get('keep'));
});

// ------------------------------------------------------------------------------------------------
// mget / mset
// ------------------------------------------------------------------------------------------------

test('mget: hits only, input order, duplicates once, numeric keys', function () {
    ephpm_kv_mset(['b' => '2', 'a' => '1', '42' => 'answer', 'e' => '', "z\0z" => 'nul', '7' => 'seven']);
    same([], ephpm_kv_mget([]));
    same([], ephpm_kv_mget(['x', 'y']));
    $r = ephpm_kv_mget(['a', 'missing', 'b', 'a', 'e', "z\0z"]);
    same(['a' => '1', 'b' => '2', 'e' => '', "z\0z" => 'nul'], $r);
    same(['a', 'b', 'e', "z\0z"], array_keys($r), 'input order');
    $r = ephpm_kv_mget(['42', 7]);
    same([42 => 'answer', 7 => 'seven'], $r, 'numeric-string key comes back as int; int element = decimal text');
    same(42, array_key_first($r));
    same(['b' => '2', 'a' => '1'], ephpm_kv_mget(['k1' => 'b', 'k2' => 'a']), 'input array keys are ignored');
    $before = ephpm_kv_stats();
    same([42 => 'answer'], ephpm_kv_mget(['42', 42, 'nope', 'nope', 9, '9']), '"42" and 42 are one key');
    $after = ephpm_kv_stats();
    same($before['hits'] + 1, $after['hits'], 'one hit for "42"/42');
    same($before['misses'] + 2, $after['misses'], 'one miss each for nope and 9/"9"');
});

test('mget rejects non string/int elements', function () {
    foreach ([1.5, null, true, [], new stdClass()] as $bad) {
        throws(TypeError::class, fn () => ephpm_kv_mget(['a', $bad]),
            'Argument #1 ($keys) must contain only strings and integers', T::export($bad));
    }
    throws(TypeError::class, fn () => ephpm_kv_mget('a'));
});

test('mset: int keys, ttl, empty input, conversion', function () {
    same(true, ephpm_kv_mset([]));
    same(true, ephpm_kv_mset(['x' => 'X', 5 => 'five', '' => 'emptykey']));
    same('X', ephpm_kv_get('x'));
    same('five', ephpm_kv_get('5'));
    same('emptykey', ephpm_kv_get(''));
    same(true, ephpm_kv_mset(['t1' => 'a', 't2' => 'b'], 30));
    same(30, ephpm_kv_ttl('t1'));
    same(30, ephpm_kv_ttl('t2'));
    same(true, ephpm_kv_mset(['t1' => 'c']), 'ttl 0 clears');
    same(-1, ephpm_kv_ttl('t1'));
    $obj = new class {
        public function __toString(): string { return 'stringable'; }
    };
    same(true, ephpm_kv_mset(['i' => 12, 'f' => 1.5, 'b' => true, 'o' => $obj]));
    same('12', ephpm_kv_get('i'));
    same('1.5', ephpm_kv_get('f'));
    same('1', ephpm_kv_get('b'));
    same('stringable', ephpm_kv_get('o'));
});

test('mset validates everything before the first write', function () {
    throws(TypeError::class, fn () => ephpm_kv_mset(['a' => '1', 'b' => []]),
        'Argument #1 ($values) must contain only values of type string, array given');
    throws(TypeError::class, fn () => ephpm_kv_mset(['a' => '1', 'b' => new stdClass()]), 'Argument #1 ($values)');
    same(null, ephpm_kv_get('a'), 'nothing written');
    $thrower = new class {
        public function __toString(): string { throw new RuntimeException('boom'); }
    };
    throws(RuntimeException::class, fn () => ephpm_kv_mset(['a' => '1', 'c' => $thrower]), 'boom');
    same(null, ephpm_kv_get('a'), 'nothing written when __toString throws');
    same(0, ephpm_kv_stats()['keys']);
});

test('mset does not modify the caller array', function () {
    $in = ['a' => 1, 'b' => 2.5];
    ephpm_kv_mset($in);
    same(['a' => 1, 'b' => 2.5], $in);
});

// ------------------------------------------------------------------------------------------------
// wait
// ------------------------------------------------------------------------------------------------

test('wait with last_version 0 returns at once with a snapshot', function () {
    ephpm_kv_set('w', 'hello');
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('w', 0, 5000);
    check(ms_since($t0) < 1000, 'immediate');
    check(is_array($r), 'array');
    same(['version', 'value'], array_keys($r));
    check(is_int($r['version']) && $r['version'] >= 1, 'version >= 1');
    same('hello', $r['value']);
    $m = ephpm_kv_wait('missing', 0, 5000);
    check(is_array($m) && $m['version'] >= 1, 'missing key: version >= 1');
    same(null, $m['value'], 'missing key: value null');
    $n = ephpm_kv_wait('w', -5, -5);
    check(is_array($n), 'negative last_version is 0: immediate');
});

test('wait times out with false after at least the timeout; timeout 0 polls', function () {
    $v = ephpm_kv_wait('w', 0, 0)['version'];
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('w', $v, 300));
    $elapsed = ms_since($t0);
    check($elapsed >= 300, "elapsed >= 300 ms, got $elapsed");
    check($elapsed < 2000, "but not much longer, got $elapsed");
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('w', $v, 0), 'poll');
    same(false, ephpm_kv_wait('w', $v, -100), 'negative timeout polls');
    check(ms_since($t0) < 100, 'polls return at once');
});

test('writes bump the version; expire and reads do not', function () {
    $v0 = ephpm_kv_wait('k', 0, 0)['version'];
    ephpm_kv_set('k', 'a');
    $r = ephpm_kv_wait('k', $v0, 1000);
    check(is_array($r) && $r['version'] > $v0, 'set bumps');
    same('a', $r['value']);
    $v1 = $r['version'];
    ephpm_kv_expire('k', 100);
    ephpm_kv_get('k');
    ephpm_kv_exists('k');
    ephpm_kv_setnx('k', 'lost');
    ephpm_kv_del('other');
    same(false, ephpm_kv_wait('k', $v1, 0), 'no bump from expire/get/exists/lost setnx/del of another key');
    ephpm_kv_incr_by('k', 1);  // refused: not an integer
    same(false, ephpm_kv_wait('k', $v1, 0), 'no bump from a refused incr');
    $bumps = [
        'incr' => function () { ephpm_kv_set('k', '1'); return ephpm_kv_incr('k'); },
        'del' => fn () => ephpm_kv_del('k'),
        'setnx' => fn () => ephpm_kv_setnx('k', 'n'),
        'del_if_eq' => fn () => ephpm_kv_del_if_eq('k', 'n'),
        'mset' => fn () => ephpm_kv_mset(['k' => 'm']),
        'flush_all' => fn () => ephpm_kv_flush_all(),
    ];
    $last = $v1;
    foreach ($bumps as $name => $fn) {
        $fn();
        $r = ephpm_kv_wait('k', $last, 1000);
        check(is_array($r) && $r['version'] > $last, "$name bumps the version");
        if (is_array($r)) {
            $last = $r['version'];
        }
    }
    same(null, ephpm_kv_wait('k', 0, 0)['value'], 'after flush_all the value is null');
});

test('wait is woken by a write from a forked process', function () {
    if (!function_exists('pcntl_fork')) {
        check(false, 'pcntl_fork is not available');
        return;
    }
    $v = ephpm_kv_wait('f', 0, 0)['version'];
    $pid = pcntl_fork();
    if ($pid === 0) {
        usleep(200_000);
        ephpm_kv_set('f', 'from child');
        exit(0);
    }
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('f', $v, 5000);
    $elapsed = ms_since($t0);
    pcntl_waitpid($pid, $status);
    check(is_array($r) && $r['version'] > $v, 'woken with a new version');
    same('from child', is_array($r) ? $r['value'] : null);
    check($elapsed >= 150 && $elapsed < 3000, "woken by the write (after about 200 ms), got $elapsed ms");
    same(0, pcntl_wexitstatus($status), 'child exit status');
    same('from child', ephpm_kv_get('f'), 'the child wrote into the shared arena');
});

test('wait is woken by a delete from a forked process (value null)', function () {
    if (!function_exists('pcntl_fork')) {
        check(false, 'pcntl_fork is not available');
        return;
    }
    ephpm_kv_set('fd', 'x');
    $v = ephpm_kv_wait('fd', 0, 0)['version'];
    $pid = pcntl_fork();
    if ($pid === 0) {
        usleep(100_000);
        ephpm_kv_del('fd');
        exit(0);
    }
    $r = ephpm_kv_wait('fd', $v, 5000);
    pcntl_waitpid($pid, $status);
    check(is_array($r) && $r['version'] > $v, 'woken');
    same(null, is_array($r) ? $r['value'] : 'not woken');
});

test('forked children share the store: incr has no lost updates', function () {
    if (!function_exists('pcntl_fork')) {
        check(false, 'pcntl_fork is not available');
        return;
    }
    $pids = [];
    for ($c = 0; $c < 4; $c++) {
        $pid = pcntl_fork();
        if ($pid === 0) {
            for ($i = 0; $i < 500; $i++) {
                ephpm_kv_incr('shared-counter');
            }
            exit(0);
        }
        $pids[] = $pid;
    }
    foreach ($pids as $pid) {
        pcntl_waitpid($pid, $status);
    }
    same('2000', ephpm_kv_get('shared-counter'));
});

test('a pcntl signal handler ends a blocked wait early (worker shutdown)', function () {
    if (!function_exists('pcntl_fork')) {
        check(false, 'pcntl is not available');
        return;
    }
    $got = 0;
    pcntl_async_signals(true);
    pcntl_signal(SIGUSR1, function () use (&$got) { $got++; });
    $parent = getmypid();
    $pid = pcntl_fork();
    if ($pid === 0) {
        usleep(200_000);
        posix_kill($parent, SIGUSR1);
        exit(0);
    }
    $v = ephpm_kv_wait('sig', 0, 0)['version'];
    $t0 = hrtime(true);
    same(false, ephpm_kv_wait('sig', $v, 10_000));
    $elapsed = ms_since($t0);
    pcntl_waitpid($pid, $status);
    check($elapsed < 2000, "returned soon after the signal, got $elapsed ms");
    same(1, $got, 'the handler ran');
    pcntl_signal(SIGUSR1, SIG_DFL);
    pcntl_async_signals(false);
});

test('wait is woken by expiry (sweeper thread), value null', function () {
    ephpm_kv_set('exp', 'v', 1);
    $v = ephpm_kv_wait('exp', 0, 0)['version'];
    $t0 = hrtime(true);
    $r = ephpm_kv_wait('exp', $v, 4000);
    $elapsed = ms_since($t0);
    check(is_array($r), 'woken before the timeout');
    same(null, is_array($r) ? $r['value'] : 'not woken');
    check($elapsed >= 800 && $elapsed < 2500, "woken about when the key expired, got $elapsed ms");
});

test('several waits in a row; old versions return at once', function () {
    $v0 = ephpm_kv_wait('s', 0, 0)['version'];
    ephpm_kv_set('s', '1');
    ephpm_kv_set('s', '2');
    $r = ephpm_kv_wait('s', $v0, 1000);
    same('2', $r['value'], 'a wake-up carries the current value');
    $t0 = hrtime(true);
    $again = ephpm_kv_wait('s', $v0, 1000);
    check(is_array($again) && ms_since($t0) < 500, 'an old version returns at once');
    check($again['version'] >= $r['version'], 'versions never decrease');
});

// ------------------------------------------------------------------------------------------------
// Argument handling: TypeError / ArgumentCountError / coercion
// ------------------------------------------------------------------------------------------------

test('wrong types throw TypeError (coercive mode)', function () {
    throws(TypeError::class, fn () => ephpm_kv_get([]), 'ephpm_kv_get(): Argument #1 ($key) must be of type string, array given');
    throws(TypeError::class, fn () => ephpm_kv_set('k', []), 'Argument #2 ($value) must be of type string');
    throws(TypeError::class, fn () => ephpm_kv_set('k', 'v', 'abc'), 'Argument #3 ($ttl) must be of type int');
    throws(TypeError::class, fn () => ephpm_kv_set('k', new stdClass()));
    throws(TypeError::class, fn () => ephpm_kv_incr_by('k', 'x'));
    throws(TypeError::class, fn () => ephpm_kv_expire('k', []));
    throws(TypeError::class, fn () => ephpm_kv_wait('k', 'a', 0));
    throws(TypeError::class, fn () => ephpm_kv_wait('k', 0, 'b'));
    throws(TypeError::class, fn () => ephpm_kv_del_if_eq('k', []));
    throws(TypeError::class, fn () => ephpm_kv_mset('notarray'));
    throws(TypeError::class, fn () => ephpm_kv_mset([], 'x'));
    throws(TypeError::class, fn () => ephpm_kv_set('k', 'v', 1e30), 'must be of type int, float given');
    same(0, ephpm_kv_stats()['keys'], 'nothing written');
});

test('coercive mode converts scalars like any string/int parameter', function () {
    same(true, ephpm_kv_set(5, 6));
    same('6', ephpm_kv_get('5'));
    same('6', ephpm_kv_get(5));
    same(true, ephpm_kv_set('t', 'v', '30'));
    same(30, ephpm_kv_ttl('t'));
    same(true, ephpm_kv_set(1.5, true));
    same('1', ephpm_kv_get('1.5'));
    $obj = new class {
        public function __toString(): string { return 'objkey'; }
    };
    ephpm_kv_set($obj, 'o');
    same('o', ephpm_kv_get('objkey'));
    same(8, ephpm_kv_incr_by('c', '8'));
});

test('wrong arity throws ArgumentCountError', function () {
    throws(ArgumentCountError::class, fn () => ephpm_kv_get());
    throws(ArgumentCountError::class, fn () => ephpm_kv_get('a', 'b'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_set('k'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_set('k', 'v', 1, 2));
    throws(ArgumentCountError::class, fn () => ephpm_kv_setnx('k'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_del());
    throws(ArgumentCountError::class, fn () => ephpm_kv_exists());
    throws(ArgumentCountError::class, fn () => ephpm_kv_expire('k'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_ttl());
    throws(ArgumentCountError::class, fn () => ephpm_kv_pttl('k', 1));
    throws(ArgumentCountError::class, fn () => ephpm_kv_flush_all(1));
    throws(ArgumentCountError::class, fn () => ephpm_kv_wait('k', 0));
    throws(ArgumentCountError::class, fn () => ephpm_kv_del_if_eq('k'));
    throws(ArgumentCountError::class, fn () => ephpm_kv_mget());
    throws(ArgumentCountError::class, fn () => ephpm_kv_mset());
    throws(ArgumentCountError::class, fn () => ephpm_kv_stats(1));
    throws(ArgumentCountError::class, fn () => ephpm_kv_scan());
    throws(ArgumentCountError::class, fn () => ephpm_kv_scan(0, '', 1, 2));
});

test('extension is registered like any internal extension', function () {
    check(extension_loaded('ephpm'), 'extension_loaded');
    $fns = get_extension_funcs('ephpm');
    $kv = array_values(array_filter($fns, fn ($f) => str_starts_with($f, 'ephpm_kv_')));
    same(18, count($kv), '18 ephpm_kv_* functions');
    foreach ($kv as $f) {
        check((new ReflectionFunction($f))->isInternal(), "$f is internal");
    }
    same('cli', PHP_SAPI);
});

/** Every key a whole listing returns, with how often each came back. */
function scan_all(string $pattern = '', int $count = 100): array
{
    $seen = [];
    $cursor = 0;
    $steps = 0;
    do {
        [$cursor, $keys] = ephpm_kv_scan($cursor, $pattern, $count);
        check(is_int($cursor) && $cursor >= 0, 'cursor is a non-negative int');
        check(array_is_list($keys), 'keys is a list');
        foreach ($keys as $k) {
            check(is_string($k), 'keys are strings');
            $seen[$k] = ($seen[$k] ?? 0) + 1;
        }
    } while ($cursor !== 0 && ++$steps < 10000000);
    check($cursor === 0, 'the listing ends');
    return $seen;
}

test('scan lists every live key exactly once, binary and empty keys included', function () {
    ephpm_kv_flush_all();
    $want = ['', "a\0b", "\xff\xfe", 'scan:1', 'scan:2'];
    for ($i = 0; $i < 500; $i++) {
        $want[] = "bulk:$i";
    }
    foreach ($want as $k) {
        ephpm_kv_set($k, 'v');
    }
    ephpm_kv_set('gone', 'v');
    ephpm_kv_del('gone');
    ephpm_kv_set('expiring', 'v', 1);
    usleep(1100000);
    foreach ([50, 1000, 100000] as $count) {
        $seen = scan_all('', $count);
        same(count($want), count($seen), "count $count: as many keys as were stored");
        same([], array_diff($want, array_map('strval', array_keys($seen))), "count $count: none missing");
        same([1], array_values(array_unique(array_values($seen))), "count $count: each key once");
        check(!isset($seen['gone']) && !isset($seen['expiring']), "count $count: deleted and expired keys absent");
    }
});

test('scan matches Redis globs', function () {
    ephpm_kv_flush_all();
    foreach (['user:1', 'user:22', 'user:x', 'session:1', 'user*star', 'u[1]'] as $k) {
        ephpm_kv_set($k, 'v');
    }
    $keys = fn (string $p) => (function () use ($p) {
        $k = array_map('strval', array_keys(scan_all($p)));
        sort($k);
        return $k;
    })();
    same(['user*star', 'user:1', 'user:22', 'user:x'], $keys('user*'));
    same(['user:1', 'user:x'], $keys('user:?'));
    same(['user:1', 'user:22'], $keys('user:[0-9]*'));
    same(['user*star'], $keys('user\\*star'));
    same(['u[1]'], $keys('u\\[1\\]'));
    same(['session:1', 'u[1]', 'user*star', 'user:1', 'user:22', 'user:x'], $keys('*'));
    same([], $keys('nothing*'));
});

test('scan rejects bad arguments with TypeError/ValueError', function () {
    throws(ValueError::class, fn () => ephpm_kv_scan(-1), 'Argument #1 ($cursor)');
    throws(ValueError::class, fn () => ephpm_kv_scan(0, '', 0), 'Argument #3 ($count)');
    throws(ValueError::class, fn () => ephpm_kv_scan(0, '', 100001), 'Argument #3 ($count)');
    throws(ValueError::class, fn () => ephpm_kv_scan(0, str_repeat('x', 65536)), 'Argument #2 ($pattern)');
    throws(TypeError::class, fn () => ephpm_kv_scan('start'));
    throws(TypeError::class, fn () => ephpm_kv_scan(0, []));
    same(0, ephpm_kv_scan(PHP_INT_MAX)[0], 'a cursor past the end ends the listing');
});
