<?php

// The autoloader of the run: the package's own vendor/ (Symfony 7.x), or a generated project of another Symfony line
// (scripts/suites/52-symfony-runtime.sh sets EPHPM_RUNTIME_TEST_VENDOR; the fixture's front controller reads it too).
$vendor = getenv('EPHPM_RUNTIME_TEST_VENDOR') ?: dirname(__DIR__) . '/vendor';
require $vendor . '/autoload.php';
