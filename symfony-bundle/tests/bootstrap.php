<?php

declare(strict_types=1);

// The tests use the real store: they must run under `ephpm php` (EPHPM_TEST_HOOKS=1 for the cancellation tests).
if (!function_exists('ephpm_kv_setnx')) {
    fwrite(STDERR, "These tests need the ephpm_kv_* functions: run them with `ephpm php vendor/bin/phpunit`.\n");
    exit(2);
}
if (!function_exists('ephpm_test_cancel_waits_after')) {
    fwrite(STDERR, "Run with EPHPM_TEST_HOOKS=1 (the cancellation tests use ephpm_test_cancel_waits_after).\n");
    exit(2);
}

require $_SERVER['EPHPM_BUNDLE_AUTOLOAD'] ?? getenv('EPHPM_BUNDLE_AUTOLOAD') ?: dirname(__DIR__) . '/vendor/autoload.php';
