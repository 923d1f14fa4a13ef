<?php
// public/health.php: the README's "Verifying the connection is live" check as a page.
require_once __DIR__ . '/../vendor/autoload.php';

use Ephpm\Cache\Symfony\EphpmKvAdapter;

$cache = new EphpmKvAdapter(namespace: 'demo', defaultLifetime: 60);

// The README's three lines (assert() runs only with zend.assertions=1; then a failure throws
// AssertionError and this page answers 500).
$item = $cache->getItem('__healthcheck')->set('1')->expiresAfter(5);
$cache->save($item);
assert($cache->getItem('__healthcheck')->get() === '1');

// The production form: compare and act on the result.
$ok = function_exists('ephpm_kv_get') && $cache->getItem('__healthcheck')->get() === '1';
http_response_code($ok ? 200 : 503);
header('Content-Type: text/plain');
echo $ok ? 'ok' : 'FAILED', ' (zend.assertions=', ini_get('zend.assertions'), ")\n";
