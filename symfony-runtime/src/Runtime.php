<?php

namespace Ephpm\SymfonyRuntime;

use Ephpm\SymfonyRuntime\Runner\WorkerRunner;
use Symfony\Component\HttpKernel\HttpKernelInterface;
use Symfony\Component\Runtime\RunnerInterface;
use Symfony\Component\Runtime\SymfonyRuntime;

/**
 * The Symfony Runtime for the ephpm application server.
 *
 * In worker mode (`[php] mode = "worker"` in ephpm.toml) the server runs the front controller once per worker and
 * sets $_SERVER['EPHPM_WORKER'] = '1' for it; an HttpKernel application then gets a WorkerRunner, which serves
 * request after request with the kernel booted once. Everywhere else (classic mode, the console, another server)
 * this is Symfony's own SymfonyRuntime, unchanged: the same public/index.php serves in both modes.
 *
 * Options, on top of SymfonyRuntime's (composer.json extra.runtime, or APP_RUNTIME_OPTIONS):
 *  - "worker_loop_max": requests one boot of the front controller serves before it returns and the server boots it
 *    again (bounds what a leak can accumulate). Default 500; environment variable EPHPM_LOOP_MAX (read after the
 *    .env files); 0 or less: never. Each boot draws its own limit between 90 % and 100 % of this value, so workers
 *    started together do not all reboot on the same request.
 */
class Runtime extends SymfonyRuntime
{
    public const DEFAULT_LOOP_MAX = 500;

    /** The $_SERVER key ephpm sets for the worker script in worker mode. */
    public const WORKER_FLAG = 'EPHPM_WORKER';

    private readonly int $loopMax;

    /**
     * @param array<string, mixed> $options
     *
     * @throws \LogicException when worker_loop_max / EPHPM_LOOP_MAX is not an integer
     */
    public function __construct(array $options = [])
    {
        $explicit = $options['worker_loop_max'] ?? null;
        // The parent's documented shape lists its own keys only; ours (worker_loop_max) rides along, as in 7.4.
        /** @phpstan-ignore argument.type */
        parent::__construct($options);

        $loopMax = $explicit ?? $_SERVER['EPHPM_LOOP_MAX'] ?? $_ENV['EPHPM_LOOP_MAX'] ?? self::DEFAULT_LOOP_MAX;
        $valid = filter_var($loopMax, \FILTER_VALIDATE_INT, \FILTER_NULL_ON_FAILURE);
        if (null === $valid) {
            throw new \LogicException(\sprintf(
                'ephpm/symfony-runtime: "worker_loop_max" (or EPHPM_LOOP_MAX) must be an integer, "%s" given.',
                \is_scalar($loopMax) ? (string) $loopMax : get_debug_type($loopMax)
            ));
        }
        $this->loopMax = $valid;
    }

    public function getRunner(?object $application): RunnerInterface
    {
        if ($application instanceof HttpKernelInterface && self::inWorkerMode()) {
            return new WorkerRunner($application, self::jitteredLimit($this->loopMax));
        }

        return parent::getRunner($application);
    }

    /** Whether this script is ephpm's worker script in worker mode (and not a classic request or the console). */
    public static function inWorkerMode(): bool
    {
        return \function_exists('ephpm_handle_request')
            && filter_var($_SERVER[self::WORKER_FLAG] ?? false, \FILTER_VALIDATE_BOOL);
    }

    /** The loop limit of one boot: uniformly in [max - max/10, max]; 0 (never) for max <= 0. */
    public static function jitteredLimit(int $max): int
    {
        return $max <= 0 ? 0 : $max - random_int(0, intdiv($max, 10));
    }
}
