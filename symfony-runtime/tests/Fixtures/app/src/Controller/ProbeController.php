<?php

namespace Ephpm\SymfonyRuntime\Tests\Fixtures\App\Controller;

use Ephpm\SymfonyRuntime\Tests\Fixtures\App\BootCounter;
use Ephpm\SymfonyRuntime\Tests\Fixtures\App\Kernel;
use Ephpm\SymfonyRuntime\Tests\Fixtures\App\RequestState;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpKernel\KernelInterface;

/** What the tests look at, as JSON. */
final class ProbeController
{
    public function __construct(
        private readonly KernelInterface $kernel,
        private readonly BootCounter $counter,
        private readonly RequestState $state,
    ) {
    }

    /** Which kernel answered, how many requests it has handled, what the boot's environment gives this request. */
    public function probe(): JsonResponse
    {
        \assert($this->kernel instanceof Kernel);

        return new JsonResponse([
            'pid' => getmypid(),
            'kernel' => $this->kernel->instanceId,
            'handled' => ++$this->counter->handled,
            'runtime_mode' => $_SERVER['APP_RUNTIME_MODE'] ?? null,
            'greeting_server' => $_SERVER['FIXTURE_GREETING'] ?? null,
            'greeting_env' => $_ENV['FIXTURE_GREETING'] ?? null,
            'app_env' => $_SERVER['APP_ENV'] ?? null,
        ]);
    }

    /** Returns the state the previous request may have left, then stores ?set=. */
    public function state(Request $request): JsonResponse
    {
        $previous = $this->state->value;
        $this->state->value = $request->query->get('set');

        return new JsonResponse(['previous' => $previous, 'kernel' => $this->kernel->instanceId ?? null]);
    }

    /** The request as the app sees it, through Symfony and through the superglobals. */
    public function echo(Request $request): JsonResponse
    {
        return new JsonResponse([
            'q' => $request->query->get('q'),
            'get_q' => $_GET['q'] ?? null,
            'header' => $request->headers->get('X-Probe'),
            'server_header' => $_SERVER['HTTP_X_PROBE'] ?? null,
            'cookie' => $request->cookies->get('probe'),
            'method' => $request->getMethod(),
            'body' => $request->getContent(),
            'uri' => $request->getRequestUri(),
        ]);
    }

    public function fail(): never
    {
        throw new \RuntimeException('fixture failure');
    }
}
