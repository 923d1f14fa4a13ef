<?php

declare(strict_types=1);

namespace Symfony\Contracts\Cache;

use Ephpm\Cache\Symfony\Tests\Support\FixedRandom;

/*
 * Shadows PHP's random_int() for Symfony's CacheTrait (same namespace, called unqualified), so that tests can fix the
 * early-recomputation draw (FixedRandom). Loaded by tests/bootstrap.php before any test runs: PHP binds an unqualified
 * call to a function the first time it executes.
 */
function random_int(int $min, int $max): int
{
    return FixedRandom::int($min, $max);
}
