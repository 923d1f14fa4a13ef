<?php

namespace Ephpm\SymfonyRuntime\Tests\Fixtures\App;

use Symfony\Contracts\Service\ResetInterface;

/**
 * Per-request state kept in a service (the classic worker-mode pitfall: the current user, a tenant, a locale). It
 * is reset-tagged (autoconfigured through ResetInterface); every reset is counted in the ephpm store, where a test
 * reads it through `ephpm php` without sending another request.
 */
final class RequestState implements ResetInterface
{
    public ?string $value = null;

    public function reset(): void
    {
        $this->value = null;
        ephpm_kv_incr('fixture.resets');
    }
}
