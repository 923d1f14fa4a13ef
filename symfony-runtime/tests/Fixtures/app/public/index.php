<?php

// The stock Symfony front controller, except that the test run chooses the vendor directory (the package's own, or
// a generated project for another Symfony line) and so names the project directory itself.
use Ephpm\SymfonyRuntime\Tests\Fixtures\App\Kernel;

$_SERVER['APP_RUNTIME_OPTIONS'] = ['project_dir' => dirname(__DIR__)];
$vendor = getenv('EPHPM_RUNTIME_TEST_VENDOR') ?: dirname(__DIR__, 4) . '/vendor';
require_once $vendor . '/autoload_runtime.php';

return function (array $context) {
    return new Kernel($context['APP_ENV'], (bool) $context['APP_DEBUG']);
};
