<?php

namespace Ephpm\SymfonyRuntime\Tests\Fixtures\App;

/** Requests handled by this kernel: a service that is deliberately not reset, so it lives as long as the kernel. */
final class BootCounter
{
    public int $handled = 0;
}
