<?php
// Fixed workload for callgrind (run by run.sh): N calls of each native function on 64 B values.
// Instruction counts (Ir) per call are exact and independent of machine load.
$n = (int) ($argv[1] ?? 100000);
$v = str_repeat('v', 64);
$k = 'bench:key';
ephpm_kv_set($k, $v);
apcu_store($k, $v);
ephpm_kv_set('bench:ctr', '0');
apcu_store('bench:ctr', 0);
for ($i = 0; $i < $n; $i++) { $x = ephpm_kv_get($k); }
for ($i = 0; $i < $n; $i++) { $x = apcu_fetch($k); }
for ($i = 0; $i < $n; $i++) { ephpm_kv_set($k, $v); }
for ($i = 0; $i < $n; $i++) { apcu_store($k, $v); }
for ($i = 0; $i < $n; $i++) { ephpm_kv_incr('bench:ctr'); }
for ($i = 0; $i < $n; $i++) { apcu_inc('bench:ctr'); }
