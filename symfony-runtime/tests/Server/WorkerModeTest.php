<?php

namespace Ephpm\SymfonyRuntime\Tests\Server;

use PHPUnit\Framework\TestCase;

/**
 * The fixture app's unchanged front controller under a real `ephpm serve`, in worker mode (`workers = 1`, so every
 * request reaches the same worker) and in classic mode. Nothing is mocked: ephpm_handle_request() is the server's.
 */
final class WorkerModeTest extends TestCase
{
    private ?EphpmServer $server = null;

    protected function tearDown(): void
    {
        $this->server?->stop();
        $this->server = null;
    }

    /** @param array<string, string> $env */
    private function serve(string $mode, array $env = []): EphpmServer
    {
        return $this->server = new EphpmServer($mode, $env);
    }

    /** @return array<string, mixed> */
    private function json(EphpmServer $server, string $path): array
    {
        $r = $server->request($path);
        self::assertSame(200, $r['status'], $path . ': ' . substr($r['body'], 0, 500) . "\n" . $server->output());
        self::assertIsArray($r['json']);

        return $r['json'];
    }

    public function testOneKernelServesRequestAfterRequest(): void
    {
        $server = $this->serve('worker');
        $probes = [];
        for ($i = 0; $i < 5; ++$i) {
            $probes[] = $this->json($server, '/probe');
        }
        self::assertSame([1, 2, 3, 4, 5], array_column($probes, 'handled'), 'one kernel, booted once');
        self::assertCount(1, array_unique(array_column($probes, 'kernel')));
        self::assertCount(1, array_unique(array_column($probes, 'pid')));
        foreach ($probes as $p) {
            self::assertSame('web=1&worker=1', $p['runtime_mode']);
            self::assertSame('hello-from-dotenv', $p['greeting_server'], '.env reaches every request ($_SERVER)');
            self::assertSame('hello-from-dotenv', $p['greeting_env'], '.env reaches every request ($_ENV)');
            self::assertSame('prod', $p['app_env']);
        }
        self::assertSame(0, $server->stop(), $server->output());
        self::assertDoesNotMatchRegularExpression('/PHP (Fatal|Warning)|Uncaught/', $server->output());
    }

    public function testClassicModeRunsTheSameFrontControllerWithSymfonysRunner(): void
    {
        $server = $this->serve('classic');
        $probes = [$this->json($server, '/probe'), $this->json($server, '/probe'), $this->json($server, '/probe')];
        self::assertSame([1, 1, 1], array_column($probes, 'handled'), 'a kernel per request');
        self::assertCount(3, array_unique(array_column($probes, 'kernel')));
        foreach ($probes as $p) {
            self::assertStringNotContainsString('worker=1', (string) $p['runtime_mode']);
            self::assertSame('hello-from-dotenv', $p['greeting_server']);
        }
    }

    public function testServicesAreResetAfterTheResponseBeforeTheNextRequest(): void
    {
        $server = $this->serve('worker');
        $first = $this->json($server, '/state?set=alice');
        self::assertNull($first['previous']);
        // Read through the store, without a second request: the reset has already happened.
        self::assertSame('1', $server->storeValue('fixture.resets'), 'RequestState reset after the response');
        self::assertSame('1', $server->storeValue('fixture.terminated'), 'kernel.terminate ran after the response');

        $second = $this->json($server, '/state?set=bob');
        self::assertNull($second['previous'], 'alice did not leak into the next request');
        self::assertSame($first['kernel'], $second['kernel']);
        $third = $this->json($server, '/state');
        self::assertNull($third['previous'], 'bob did not leak either');
        self::assertSame('3', $server->storeValue('fixture.terminated'), 'one kernel.terminate per request');
    }

    public function testRequestDataDoesNotLeakIntoTheNextRequest(): void
    {
        $server = $this->serve('worker');
        $a = $server->request(
            '/echo?q=secret',
            'POST',
            ['X-Probe' => 'from-a', 'Cookie' => 'probe=cookie-a', 'Content-Type' => 'text/plain'],
            'body-a'
        );
        self::assertSame(200, $a['status'], $a['body']);
        self::assertSame(['q' => 'secret', 'get_q' => 'secret', 'header' => 'from-a', 'server_header' => 'from-a',
            'cookie' => 'cookie-a', 'method' => 'POST', 'body' => 'body-a', 'uri' => '/echo?q=secret'], $a['json']);

        $b = $server->request('/echo');
        self::assertSame(['q' => null, 'get_q' => null, 'header' => null, 'server_header' => null, 'cookie' => null,
            'method' => 'GET', 'body' => '', 'uri' => '/echo'], $b['json']);
    }

    public function testAnExceptionIsA500AndTheSameKernelGoesOn(): void
    {
        $server = $this->serve('worker');
        $before = $this->json($server, '/probe');
        $failed = $server->request('/fail');
        self::assertSame(500, $failed['status']);
        $after = $this->json($server, '/probe');
        self::assertSame($before['kernel'], $after['kernel'], 'the kernel handled the exception and serves on');
        self::assertSame(2, $after['handled']);
    }

    public function testTheLoopLimitBootsAFreshKernel(): void
    {
        // 3 is below the jitter's granularity (max/10 = 0), so every boot serves exactly 3 requests.
        $server = $this->serve('worker', ['EPHPM_LOOP_MAX' => '3']);
        $probes = [];
        for ($i = 0; $i < 7; ++$i) {
            $probes[] = $this->json($server, '/probe');
        }
        self::assertSame([1, 2, 3, 1, 2, 3, 1], array_column($probes, 'handled'), $server->output());
        $kernels = array_column($probes, 'kernel');
        self::assertCount(3, array_unique($kernels));
        self::assertSame($kernels[0], $kernels[2]);
        self::assertSame($kernels[3], $kernels[5]);
        self::assertCount(1, array_unique(array_column($probes, 'pid')), 'the same worker process boots the app again');
    }
}
