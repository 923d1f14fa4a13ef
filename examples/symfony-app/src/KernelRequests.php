<?php

namespace App;

/** Requests handled by this kernel instance: 1 on every request in classic mode, counting up in worker mode. */
final class KernelRequests
{
    public int $count = 0;
}
