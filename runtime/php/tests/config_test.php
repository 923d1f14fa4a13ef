<?php
// Run with EPHPM_CONFIG pointing at a config whose [kv] section is tiny and noeviction
// (memory_limit = "1MB", shards = 1): proves `ephpm php` honours [kv] and checks the
// memory-refusal rows of the contract (a refused write changes nothing).

test('[kv] is honoured', function () {
    $s = ephpm_kv_stats();
    same(1024 * 1024, $s['memory_limit'], 'memory_limit from the config');
});

test('noeviction: a full store refuses writes and keeps the old value, TTL and version', function () {
    $chunk = str_repeat('x', 16 * 1024);
    $n = 0;
    while ($n < 1000 && ephpm_kv_set("fill$n", $chunk)) {
        $n++;
    }
    check($n > 10 && $n < 1000, "the store filled up after $n writes of 16 KiB");
    $s = ephpm_kv_stats();
    same(0, $s['evictions'], 'noeviction never evicts');
    check($s['used_memory'] <= $s['memory_limit'], 'used_memory within the limit');

    // The previous value of an existing key survives a refused overwrite with a bigger value.
    same(1, ephpm_kv_del('fill0'));
    same(true, ephpm_kv_set('small', 'old', 100), 'room for a small key');
    $v = ephpm_kv_wait('small', 0, 0)['version'];
    $big = str_repeat('y', 600 * 1024);
    same(false, ephpm_kv_set('small', $big), 'refused overwrite');
    same('old', ephpm_kv_get('small'), 'old value intact');
    $ttl = ephpm_kv_ttl('small');
    check($ttl > 90 && $ttl <= 100, "old TTL intact, got $ttl");
    same(false, ephpm_kv_wait('small', $v, 0), 'no version bump for a refused write');
    same(false, ephpm_kv_setnx('new-big', $big), 'setnx refused');
    same(false, ephpm_kv_exists('new-big'));

    // mset: accepted pairs stay, the refused one is reported.
    same(false, ephpm_kv_mset(['ok-a' => 'a', 'too-big' => $big, 'ok-b' => 'b']), 'partial refusal');
    same('a', ephpm_kv_get('ok-a'), 'accepted pair written');
    same('b', ephpm_kv_get('ok-b'), 'later accepted pair written');
    same(null, ephpm_kv_get('too-big'), 'refused pair absent');

    // Reads, deletes and shrinking overwrites still work.
    same(1, ephpm_kv_del('fill1'));
    same(true, ephpm_kv_set('fill2', 'tiny'), 'shrinking overwrite');
    same(true, ephpm_kv_flush_all());
    same(true, ephpm_kv_set('after-flush', $chunk));
});
