<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use PHPUnit\Framework\TestCase;

/**
 * Stampede protection of get($key, $callback): two processes ask for the same missing key at the same time; one
 * computes, the other waits on Symfony's LockRegistry and then reads the winner's value from the pool.
 *
 * The two processes need a store they both see. The ephpm store is per process (`ephpm php`) or per server, so the
 * processes here share a file-backed KvOpsInterface double; what is tested is the adapter's wiring into
 * LockRegistry (locking, re-reading its own pool, not calling the callback twice).
 */
final class StampedeTest extends TestCase
{
    private string $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/ephpm-stampede-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir . '/store', 0700, true);
        touch($this->dir . '/lock');
    }

    protected function tearDown(): void
    {
        foreach (glob($this->dir . '/store/*') ?: [] as $f) {
            unlink($f);
        }
        @rmdir($this->dir . '/store');
        foreach (glob($this->dir . '/*') ?: [] as $f) {
            unlink($f);
        }
        rmdir($this->dir);
    }

    /** @return list<string> */
    private function workerCommand(string $php, string $log): array
    {
        return [
            $php,
            \dirname(__DIR__) . '/Fixtures/stampede-worker.php',
            (string) EPHPM_TEST_AUTOLOAD,
            $this->dir . '/store',
            $this->dir . '/lock',
            $log,
            '1500',
        ];
    }

    public function testTwoProcessesOneComputes(): void
    {
        $log = $this->dir . '/computed';
        $php = \PHP_BINARY; // php, or ephpm-php under `ephpm php`
        $pipesA = $pipesB = [];
        $a = proc_open($this->workerCommand($php, $log), [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipesA);
        self::assertIsResource($a);
        // Wait until A holds the lock and is computing, then start B.
        $deadline = microtime(true) + 20;
        while (!is_file($log) && microtime(true) < $deadline) {
            usleep(10_000);
        }
        if (!is_file($log)) {
            proc_terminate($a);
            self::fail('the first worker never started computing: ' . stream_get_contents($pipesA[2]));
        }
        $b = proc_open($this->workerCommand($php, $log), [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipesB);
        self::assertIsResource($b);

        $outA = stream_get_contents($pipesA[1]) . stream_get_contents($pipesA[2]);
        $outB = stream_get_contents($pipesB[1]) . stream_get_contents($pipesB[2]);
        self::assertSame(0, proc_close($a), $outA);
        self::assertSame(0, proc_close($b), $outB);

        $computed = file($log, \FILE_IGNORE_NEW_LINES) ?: [];
        self::assertCount(1, $computed, 'exactly one process computes; got ' . implode(', ', $computed));
        self::assertSame('computed by ' . $computed[0], $outA);
        self::assertSame($outA, $outB, 'the waiting process returns the value the winner computed');
    }
}
