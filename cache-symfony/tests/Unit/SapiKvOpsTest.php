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
}
