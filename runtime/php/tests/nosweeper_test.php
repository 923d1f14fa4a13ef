<?php
// Run with EPHPM_KV_SWEEPER=0: expired entries stay until touched, so these tests see the lazy
// path of every function (docs/kv-contract.md section 3 item 4).

test('the sweeper is off', function () {
    ephpm_kv_set('x', 'v', 1);
    usleep(1_300_000);
    same(1, ephpm_kv_stats()['keys'], 'expired entry still held (nobody reaped it)');
});

test('del of an expired-but-unreaped key returns 0 and reaps it', function () {
    ephpm_kv_set('d', 'v', 1);
    usleep(1_100_000);
    $before = ephpm_kv_stats();
    same(1, $before['keys']);
    same(0, ephpm_kv_del('d'));
    $after = ephpm_kv_stats();
    same(0, $after['keys'], 'reaped');
    same($before['expired'] + 1, $after['expired'], 'counted as expired');
    same(false, ephpm_kv_exists('d'));
});

test('every keyed read reaps an expired entry', function () {
    $fns = [
        'get' => fn ($k) => ephpm_kv_get($k),
        'exists' => fn ($k) => ephpm_kv_exists($k),
        'ttl' => fn ($k) => ephpm_kv_ttl($k),
        'pttl' => fn ($k) => ephpm_kv_pttl($k),
        'expire' => fn ($k) => ephpm_kv_expire($k, 10),
        'del_if_eq' => fn ($k) => ephpm_kv_del_if_eq($k, 'v'),
        'mget' => fn ($k) => ephpm_kv_mget([$k]),
    ];
    foreach (array_keys($fns) as $name) {
        ephpm_kv_set("r-$name", 'v', 1);
    }
    usleep(1_100_000);
    $expect = ['get' => null, 'exists' => false, 'ttl' => -2, 'pttl' => -2, 'expire' => false, 'del_if_eq' => false, 'mget' => []];
    foreach ($fns as $name => $fn) {
        $before = ephpm_kv_stats();
        same($expect[$name], $fn("r-$name"), "$name on an expired key");
        $after = ephpm_kv_stats();
        same($before['keys'] - 1, $after['keys'], "$name reaps");
        same($before['expired'] + 1, $after['expired'], "$name counts expired");
    }
});

test('wait on an expired key sees it absent', function () {
    ephpm_kv_set('w', 'v', 1);
    usleep(1_100_000);
    $r = ephpm_kv_wait('w', 0, 0);
    same(null, $r['value']);
});
