<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

use Ephpm\Cache\Symfony\EphpmKvAdapter;
use Ephpm\Cache\Symfony\KvOpsInterface;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Cache\Adapter\AbstractAdapter;
use Symfony\Component\Cache\Marshaller\MarshallerInterface;

abstract class AdapterTestCase extends TestCase
{
    protected function setUp(): void
    {
        Backend::flush();
    }

    protected function tearDown(): void
    {
        Backend::flush();
    }

    protected function adapter(
        string $namespace = 'unit',
        int $defaultLifetime = 0,
        ?KvOpsInterface $ops = null,
        ?MarshallerInterface $marshaller = null,
    ): EphpmKvAdapter {
        return new EphpmKvAdapter($namespace, $defaultLifetime, $ops ?? Backend::ops(), $marshaller);
    }

    /** Symfony's id for $key in $pool (namespace + version + key, hashed when too long). */
    protected static function idOf(AbstractAdapter $pool, string $key): string
    {
        return (fn (string $k): string => $this->getId($k))->call($pool, $key);
    }

    /** The key the backend stores $key of $pool under. */
    protected static function backendKeyOf(AbstractAdapter $pool, string $key): string
    {
        return EphpmKvAdapter::encodeId(self::idOf($pool, $key));
    }

    /**
     * Calls a protected do*() method of the adapter, to exercise ids that no validated PSR-6 key can produce.
     *
     * @param list<mixed> $args
     */
    protected static function callDo(EphpmKvAdapter $pool, string $method, array $args): mixed
    {
        return (fn (mixed ...$a): mixed => $this->{$method}(...$a))->call($pool, ...$args);
    }

    /**
     * Runs a PHP script in a separate process and returns [exit code, stdout, stderr].
     *
     * @param list<string>          $command
     * @param array<string, string> $env
     *
     * @return array{int, string, string}
     */
    protected static function runProcess(array $command, array $env = []): array
    {
        $proc = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        self::assertIsResource($proc, 'cannot start ' . implode(' ', $command));
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($proc);

        return [$code, (string) $stdout, (string) $stderr];
    }
}
