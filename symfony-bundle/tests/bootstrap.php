<?php

declare(strict_types=1);

// The tests use the real store: they must run under `ephpm php`; the group "hooks" (cancelling a wait) under the test
// build `ephpm-test-hooks php`, which has the ephpm_test_* functions.
if (!function_exists('ephpm_kv_setnx')) {
    fwrite(STDERR, "These tests need the ephpm_kv_* functions: run them with `ephpm php vendor/bin/phpunit`.\n");
    exit(2);
}

require $_SERVER['EPHPM_BUNDLE_AUTOLOAD'] ?? getenv('EPHPM_BUNDLE_AUTOLOAD') ?: dirname(__DIR__) . '/vendor/autoload.php';
