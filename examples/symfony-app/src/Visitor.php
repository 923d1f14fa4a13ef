<?php

namespace App;

use Symfony\Contracts\Service\ResetInterface;

/**
 * Per-request state kept in a service: the visitor's name of the current request. In worker mode one instance lives
 * as long as the kernel; ResetInterface (autoconfigured as kernel.reset) makes ephpm/symfony-runtime clear it after
 * every response, so one visitor is never seen by the next request.
 */
final class Visitor implements ResetInterface
{
    private ?string $name = null;

    public function name(): ?string
    {
        return $this->name;
    }

    public function identify(?string $name): void
    {
        $this->name = $name;
    }

    public function reset(): void
    {
        $this->name = null;
    }
}
