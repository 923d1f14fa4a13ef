<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;

/** PHPUnit under `ephpm php` sees the real store and php-cli's environment. */
final class EphpmKvTest extends TestCase
{
    protected function setUp(): void
    {
        ephpm_kv_flush_all();
    }

    public function testRunsUnderEphpmPhp(): void
    {
        self::assertSame('cli', PHP_SAPI);
        self::assertTrue(extension_loaded('ephpm'));
        self::assertSame('ephpm-php', basename(PHP_BINARY));
    }

    public function testRoundTrip(): void
    {
        self::assertTrue(ephpm_kv_set('k', "v\0x", 60));
        self::assertSame("v\0x", ephpm_kv_get('k'));
        self::assertSame(60, ephpm_kv_ttl('k'));
        self::assertSame(1, ephpm_kv_del('k'));
        self::assertNull(ephpm_kv_get('k'));
    }

    public function testCounters(): void
    {
        self::assertSame(1, ephpm_kv_incr('c'));
        self::assertSame(11, ephpm_kv_incr_by('c', 10));
        self::assertSame(['c' => '11'], ephpm_kv_mget(['c', 'missing']));
    }

    public function testTypeErrorsAreExceptions(): void
    {
        $this->expectException(TypeError::class);
        ephpm_kv_get([]);
    }

    public function testValueError(): void
    {
        $this->expectException(ValueError::class);
        ephpm_kv_set(str_repeat('k', 65536), 'v');
    }

    /**
     * @dataProvider ttlProvider
     */
    public function testTtlRules(int $ttl, int $expected): void
    {
        ephpm_kv_set('t', 'v', $ttl);
        self::assertSame($expected, ephpm_kv_ttl('t'));
    }

    public static function ttlProvider(): array
    {
        return ['persistent' => [0, -1], 'negative' => [-3, -1], 'ten' => [10, 10]];
    }

    /**
     * Process isolation re-runs PHP_BINARY (the ephpm-php link) with php-cli options.
     *
     * @runInSeparateProcess
     */
    public function testSeparateProcess(): void
    {
        self::assertSame('cli', PHP_SAPI);
        self::assertTrue(ephpm_kv_set('iso', 'lated'));
        self::assertSame('lated', ephpm_kv_get('iso'));
    }
}
