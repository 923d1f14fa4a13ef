<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Exception;

/**
 * Thrown by SapiKvOps when the ephpm_kv_* functions do not exist, i.e. the code does not run inside the ephpm runtime.
 */
final class KvUnavailableException extends \LogicException
{
    public const MESSAGE = 'The ephpm_kv_* functions are not available: run this code under the ephpm runtime'
        . ' (ephpm serve / ephpm php), or pass new InMemoryKvOps() as the third argument of EphpmKvAdapter for tests.';

    public static function create(): self
    {
        return new self(self::MESSAGE);
    }
}
