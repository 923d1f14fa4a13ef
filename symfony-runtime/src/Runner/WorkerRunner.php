<?php

namespace Ephpm\SymfonyRuntime\Runner;

use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpKernel\HttpKernelInterface;
use Symfony\Component\HttpKernel\KernelInterface;
use Symfony\Component\HttpKernel\TerminableInterface;
use Symfony\Component\Runtime\RunnerInterface;
use Symfony\Contracts\Service\ResetInterface;

/**
 * Serves requests in ephpm's worker mode with one booted kernel: a loop on ephpm_handle_request().
 *
 * Per request, inside the handler (the server has populated the superglobals as in classic mode): the variables the
 * boot put into $_SERVER / $_ENV (the .env files, APP_ENV, APP_RUNTIME_MODE) are merged under the request's, then
 * Request::createFromGlobals(), $kernel->handle(), $response->send(). After ephpm_handle_request() returns (the
 * response is complete, the client is not waiting): $kernel->terminate(), then the services tagged kernel.reset are
 * reset (services_resetter) — so the state a request left in a service is gone before the worker idles, and cache
 * pools drop their memoised namespace version, which makes a `cache:pool:clear` from the console visible to the
 * next request. Symfony's Kernel resets them again at the start of the next handle(); the second pass finds
 * nothing to do but is kept, because skipping it would mean writing the Kernel's private state.
 *
 * run() returns 0 after $loopMax requests (0: never), when the server says the worker must stop (drain, recycle,
 * restart), or after a request whose handler threw past the kernel (the server answers it with a 500; the kernel's
 * state is unknown); the front controller then ends and the server boots it again if it is still serving.
 */
final class WorkerRunner implements RunnerInterface
{
    /** Boot-time $_SERVER keys that describe a request, never carried into the next ones. */
    private const REQUEST_KEY = '/^(HTTP_|CONTENT_|REQUEST_|QUERY_STRING$|PATH_INFO$|PATH_TRANSLATED$|ORIG_PATH_INFO$'
        . '|PHP_AUTH_|AUTH_TYPE$|REMOTE_|HTTPS$|argv$|argc$)/';

    private int $served = 0;
    private ?Request $request = null;
    private ?Response $response = null;

    public function __construct(
        private readonly HttpKernelInterface $kernel,
        private readonly int $loopMax,
    ) {
    }

    public function run(): int
    {
        $server = array_filter(
            $_SERVER,
            static fn ($key): bool => 1 !== preg_match(self::REQUEST_KEY, (string) $key),
            \ARRAY_FILTER_USE_KEY
        );
        $server['APP_RUNTIME_MODE'] = 'web=1&worker=1';
        $env = $_ENV;
        $handler = function () use ($server, $env): void {
            $_SERVER += $server;
            $_ENV += $env;
            $this->request = Request::createFromGlobals();
            $this->response = $this->kernel->handle($this->request);
            $this->response->send();
        };

        do {
            $this->request = $this->response = null;
            $more = ephpm_handle_request($handler);
        } while ($this->finishRequest() && $more && ($this->loopMax <= 0 || $this->served < $this->loopMax));

        return 0;
    }

    /** Requests served by this runner so far. */
    public function served(): int
    {
        return $this->served;
    }

    /**
     * After ephpm_handle_request() returned: terminate, reset, collect. False when the loop must end: the worker was
     * told to stop before a request came, or the handler threw past the kernel (its state is unknown: boot afresh).
     */
    private function finishRequest(): bool
    {
        if (null === $this->request) {
            return false;
        }
        ++$this->served;
        if (null === $this->response) {
            return false;
        }
        if ($this->kernel instanceof TerminableInterface) {
            $this->kernel->terminate($this->request, $this->response);
        }
        $this->request = $this->response = null;
        if ($this->kernel instanceof KernelInterface) {
            $container = $this->kernel->getContainer();
            $resetter = $container->has('services_resetter') ? $container->get('services_resetter') : null;
            if ($resetter instanceof ResetInterface) {
                $resetter->reset();
            }
        }
        gc_collect_cycles();

        return true;
    }
}
