<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

/**
 * A fixed random source for Symfony's early-recomputation draw (CacheTrait calls random_int() unqualified in the
 * namespace Symfony\Contracts\Cache; tests/Support/fixed-random.php defines that function, loaded by the bootstrap
 * before any draw). Off by default: every draw then comes from PHP's random_int().
 *
 * Named streams let a test interleave two code paths draw by draw, each reading the same sequence.
 */
final class FixedRandom
{
    /** @var array<string, \Random\Randomizer> */
    private static array $streams = [];
    /** @var array<string, int> */
    private static array $draws = [];
    private static ?string $current = null;

    /**
     * Creates these streams, each a Mt19937 sequence with this seed, and draws from the first one from now on.
     *
     * @param non-empty-list<string> $names
     */
    public static function seed(int $seed, array $names): void
    {
        self::$streams = [];
        self::$draws = [];
        foreach ($names as $name) {
            self::$streams[$name] = new \Random\Randomizer(new \Random\Engine\Mt19937($seed));
            self::$draws[$name] = 0;
        }
        self::$current = $names[0];
    }

    public static function select(string $name): void
    {
        self::$current = $name;
    }

    public static function off(): void
    {
        self::$streams = [];
        self::$current = null;
    }

    /** How many numbers were drawn from a stream since seed(). */
    public static function draws(string $name): int
    {
        return self::$draws[$name];
    }

    public static function int(int $min, int $max): int
    {
        if (null === self::$current) {
            return random_int($min, $max);
        }
        ++self::$draws[self::$current];

        return self::$streams[self::$current]->getInt($min, $max);
    }
}
