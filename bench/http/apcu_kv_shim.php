<?php

// bench/http, nginx + php-fpm leg of the Symfony app only (php_admin_value[auto_prepend_file]): the two ephpm_kv_*
// calls of examples/symfony-app's LoaderCalls (one store read per request) served by APCu, so php-fpm runs the same
// app with the same per-request work; the cache pools themselves are Symfony's ApcuAdapter (APP_ENV=bench_apcu).
function ephpm_kv_get(string $key): mixed
{
    $value = apcu_fetch($key, $found);

    return $found ? $value : null;
}

function ephpm_kv_incr(string $key, int $by = 1): int
{
    return (int) apcu_inc($key, $by);
}
