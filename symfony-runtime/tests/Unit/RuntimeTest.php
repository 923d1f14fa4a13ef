<?php

namespace Ephpm\SymfonyRuntime\Tests\Unit;

use Ephpm\SymfonyRuntime\Runtime;
use Ephpm\SymfonyRuntime\Tests\Fixtures\App\Kernel;
use Ephpm\SymfonyRuntime\Tests\Server\EphpmServer;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Runtime\Runner\Symfony\HttpKernelRunner;

/**
 * The runtime outside a worker (plain php: no ephpm_handle_request) and its option handling.
 *
 * @backupGlobals enabled
 */
final class RuntimeTest extends TestCase
{
    private function runtime(array $options = []): Runtime
    {
        return new Runtime($options + ['project_dir' => EphpmServer::fixtureDir(), 'disable_dotenv' => true]);
    }

    public function testWithoutEphpmHandleRequestTheRunnerIsSymfonys(): void
    {
        $_SERVER[Runtime::WORKER_FLAG] = '1'; // even with the flag: the function decides first
        self::assertFalse(\function_exists('ephpm_handle_request'));
        self::assertFalse(Runtime::inWorkerMode());
        $runner = $this->runtime()->getRunner(new Kernel('prod', false));
        self::assertInstanceOf(HttpKernelRunner::class, $runner);
    }

    public function testTheLoopLimitIsDrawnBetween90And100PercentOfTheMaximum(): void
    {
        $seen = [];
        for ($i = 0; $i < 2000; ++$i) {
            $seen[Runtime::jitteredLimit(500)] = true;
        }
        self::assertGreaterThanOrEqual(450, min(array_keys($seen)));
        self::assertLessThanOrEqual(500, max(array_keys($seen)));
        self::assertGreaterThan(20, \count($seen), 'the limit varies from boot to boot');
        self::assertSame(9, Runtime::jitteredLimit(9));
        self::assertSame(0, Runtime::jitteredLimit(0));
        self::assertSame(0, Runtime::jitteredLimit(-1));
    }

    public function testAnInvalidLoopMaximumIsRefused(): void
    {
        $_SERVER['EPHPM_LOOP_MAX'] = 'lots';
        $this->expectException(\LogicException::class);
        $this->expectExceptionMessage('EPHPM_LOOP_MAX');
        $this->runtime();
    }

    public function testAnInvalidLoopMaximumOptionIsRefused(): void
    {
        $this->expectException(\LogicException::class);
        $this->expectExceptionMessage('worker_loop_max');
        $this->runtime(['worker_loop_max' => 'lots']);
    }
}
