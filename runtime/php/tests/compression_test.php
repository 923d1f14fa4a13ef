<?php
// Run with EPHPM_CONFIG pointing at a config with [kv] compression on (suite 30-php-contract runs
// it once per algorithm, compression_min_size = 1024): every read path returns the original bytes,
// only values that shrink are stored compressed, and stats() reports what that saves.

// An HTML fragment with some binary in it: compresses well.
function fragment(int $n, int $seed = 0): string
{
    $s = '';
    for ($i = 0; strlen($s) < $n; $i++) {
        $s .= "<li class=\"row\" data-id=\"" . ($seed * 1000 + $i) . "\">\0\xff item</li>\n";
    }
    return substr($s, 0, $n);
}

test('[kv] compression is in use', function () {
    $info = (function () {
        ob_start();
        phpinfo(INFO_MODULES);
        return ob_get_clean();
    })();
    $algo = getenv('EPHPM_TEST_COMPRESSION');
    check(str_contains($info, "KV compression => $algo, level"), "phpinfo names $algo");
});

test('compressible values round trip at every size around the threshold', function () {
    $before = ephpm_kv_stats();
    foreach ([1, 100, 1023, 1024, 1025, 4096, 65536, 1 << 20] as $n) {
        $v = fragment($n, $n);
        same(true, ephpm_kv_set("v$n", $v), "set $n");
        same($v, ephpm_kv_get("v$n"), "get $n");
        same(["v$n" => $v], ephpm_kv_mget(["v$n"]), "mget $n");
        same($v, ephpm_kv_wait("v$n", 0, 0)['value'], "wait $n");
    }
    $after = ephpm_kv_stats();
    check($after['bytes_saved'] > 1 << 19, "bytes_saved {$after['bytes_saved']} > 512 KiB");
    check($after['used_memory'] < (1 << 20) / 2, "used_memory {$after['used_memory']} < half of the 1 MiB value alone");
    same($before['decode_errors'], $after['decode_errors'], 'no decode error');
});

test('binary and incompressible values round trip; below the threshold nothing is saved', function () {
    $bin = '';
    for ($i = 0; $i < 5000; $i++) {
        $bin .= chr($i % 256);
    }
    same(true, ephpm_kv_set('bin', $bin));
    same($bin, ephpm_kv_get('bin'));
    $random = random_bytes(8192);
    same(true, ephpm_kv_set('rnd', $random));
    same($random, ephpm_kv_get('rnd'));
    ephpm_kv_del('bin');
    same(0, ephpm_kv_stats()['bytes_saved'], 'random bytes are stored raw: nothing saved');
    same(true, ephpm_kv_set('small', str_repeat('a', 1023)));
    same(0, ephpm_kv_stats()['bytes_saved'], 'below compression_min_size: stored raw');
    same(true, ephpm_kv_set('small', str_repeat('a', 1024)));
    check(ephpm_kv_stats()['bytes_saved'] > 900, 'at the threshold: compressed');
    same(str_repeat('a', 1024), ephpm_kv_get('small'));
});

test('mset, setnx, del_if_eq, incr and overwrites on compressed values', function () {
    $a = fragment(3000, 1);
    $b = fragment(3000, 2);
    same(true, ephpm_kv_mset(['a' => $a, 'b' => $b]));
    same(['a' => $a, 'b' => $b], ephpm_kv_mget(['a', 'b']));
    same(true, ephpm_kv_setnx('c', $a));
    same(false, ephpm_kv_setnx('c', $b));
    same($a, ephpm_kv_get('c'));
    same(false, ephpm_kv_del_if_eq('a', $b), 'other value of the same length');
    same(true, ephpm_kv_del_if_eq('a', $a), 'the original bytes');
    same(false, ephpm_kv_exists('a'));
    same(true, ephpm_kv_set('n', str_repeat('0', 4000) . '41'));
    same(42, ephpm_kv_incr('n'));
    same('42', ephpm_kv_get('n'));
    same(false, ephpm_kv_incr('b'), 'not an integer');
    same($b, ephpm_kv_get('b'), 'unchanged');
    same(true, ephpm_kv_set('b', 'short'));
    same('short', ephpm_kv_get('b'));
    ephpm_kv_flush_all();
    same(0, ephpm_kv_stats()['bytes_saved'], 'flush_all: nothing held, nothing saved');
});

test('more compressible values fit in memory_limit than their raw size', function () {
    $s = ephpm_kv_stats();
    $v = fragment(16 * 1024, 3);
    $n = (int) (2 * $s['memory_limit'] / strlen($v));  // twice the limit, raw
    for ($i = 0; $i < $n; $i++) {
        ephpm_kv_set("fill$i", $v . $i);
    }
    $t = ephpm_kv_stats();
    check($t['used_memory'] <= $t['memory_limit'], 'used_memory within the limit');
    same(0, $t['evictions'], 'twice the limit in raw bytes fits compressed');
    same($v . ($n - 1), ephpm_kv_get('fill' . ($n - 1)));
});
