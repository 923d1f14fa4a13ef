<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\Exception\KvUnavailableException;
use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;

final class SapiKvOpsTest extends AdapterTestCase
{
    /**
     * A php without the ephpm_kv_* functions (a stock php-cli, FPM, mod_php) gets one exception that says what to do.
     */
    public function testWithoutTheFunctionsTheConstructorSaysWhatToDo(): void
    {
        $php = getenv('EPHPM_PLAIN_PHP') ?: (\function_exists('ephpm_kv_get') ? 'php' : \PHP_BINARY);
        $script = <<<'PHP'
            require getenv('AUTOLOAD');
            if (function_exists('ephpm_kv_get')) { echo "functions present\n"; exit(2); }
            $makers = [
                fn () => new Ephpm\Cache\Symfony\SapiKvOps(),
                fn () => new Ephpm\Cache\Symfony\EphpmKvAdapter('app'),
            ];
            foreach ($makers as $f) {
                try {
                    $f();
                    echo "no exception\n";
                } catch (\LogicException $e) {
                    echo get_class($e), "\n", $e->getMessage(), "\n";
                }
            }
            PHP;
        [$code, $out, $err] = self::runProcess([$php, '-r', $script], ['AUTOLOAD' => (string) EPHPM_TEST_AUTOLOAD]);
        self::assertSame(0, $code, $out . $err);
        $expected = KvUnavailableException::class . "\n" . KvUnavailableException::MESSAGE . "\n";
        self::assertSame($expected . $expected, $out);
        self::assertStringContainsString('ephpm php', KvUnavailableException::MESSAGE);
        self::assertStringContainsString('new InMemoryKvOps()', KvUnavailableException::MESSAGE);
    }

    /**
     * On the original ePHPm there is no ephpm_kv_mget / ephpm_kv_mset: SapiKvOps falls back to one call per key, and
     * the adapter still batches, encodes NUL keys, clears and reports refused writes.
     */
    public function testOneCallPerKeyWithoutTheBatchFunctions(): void
    {
        $php = getenv('EPHPM_PLAIN_PHP') ?: (\function_exists('ephpm_kv_get') ? 'php' : \PHP_BINARY);
        [$code, $out, $err] = self::runProcess(
            [$php, \dirname(__DIR__) . '/Fixtures/sapi-fallback.php', (string) EPHPM_TEST_AUTOLOAD],
        );
        self::assertSame(0, $code, $out . $err);
        /** @var array<string, mixed> $r */
        $r = json_decode($out, true, 512, \JSON_THROW_ON_ERROR);

        self::assertTrue($r['committed']);
        self::assertSame([
            bin2hex('a') => [true, 1],
            bin2hex('b') => [true, false],
            bin2hex("nul\0key") => [true, 'nul'],
            bin2hex("nul\0other") => [true, 'other'],
            bin2hex('missing') => [false, null],
        ], $r['read']);
        self::assertTrue($r['cleared']);
        self::assertFalse($r['after_clear_hit']);
        self::assertTrue($r['big_saved']);
        self::assertFalse($r['refused_save']);
        self::assertTrue($r['big_is_miss']);
        self::assertSame(5, $r['incr']);
        self::assertIsArray($r['calls']);
        self::assertGreaterThanOrEqual(5, $r['calls']['ephpm_kv_get'] ?? 0, 'getItems() of 5 keys: one get per key');
        self::assertGreaterThanOrEqual(4, $r['calls']['ephpm_kv_set'] ?? 0, 'a commit of 4 items: one set per key');
    }
}
