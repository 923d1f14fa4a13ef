<?php

namespace Ephpm\SymfonyRuntime\Tests\Fixtures\App;

use Symfony\Component\EventDispatcher\EventSubscriberInterface;
use Symfony\Component\HttpKernel\KernelEvents;

/** Counts kernel.terminate events in the ephpm store. */
final class TerminateCounter implements EventSubscriberInterface
{
    public static function getSubscribedEvents(): array
    {
        return [KernelEvents::TERMINATE => 'onTerminate'];
    }

    public function onTerminate(): void
    {
        ephpm_kv_incr('fixture.terminated');
    }
}
