<?php

// The stock Symfony front controller; only the vendor directory is chosen by the test run (the package's own, or
// a generated project for another Symfony line).
use Ephpm\SymfonyRuntime\Tests\Fixtures\App\Kernel;

require_once (getenv('EPHPM_RUNTIME_TEST_VENDOR') ?: dirname(__DIR__, 4).'/vendor').'/autoload_runtime.php';

return function (array $context) {
    return new Kernel($context['APP_ENV'], (bool) $context['APP_DEBUG']);
};
