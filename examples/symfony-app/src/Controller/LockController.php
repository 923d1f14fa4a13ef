<?php

namespace App\Controller;

use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\Lock\LockFactory;
use Symfony\Component\Routing\Attribute\Route;

/**
 * GET /lock/{name}?hold_ms=N: takes the lock "report.{name}" from the autowired LockFactory (framework.lock:
 * ephpm.lock.store) with a blocking acquire, stays inside for N ms, and says how many requests were ever inside at
 * the same time ("peak"). A waiting request sleeps in the store until the holder releases, so the peak stays 1.
 * `&lock=0` skips the lock: then overlapping requests raise the peak, which shows the count can see an overlap.
 *
 * The counts live in the store, outside the lock: "inside" goes up and down with ephpm_kv_incr/decr, and reaching
 * level n sets the key "reached.n" once (setnx), so the peak only grows, without a read-modify-write race.
 */
#[AsController]
final class LockController
{
    private const MAX_HOLD_MS = 5000;

    public function __construct(private LockFactory $lockFactory)
    {
    }

    #[Route('/lock/{name}', name: 'lock_hold', requirements: ['name' => '[\w-]{1,64}'], methods: ['GET'])]
    public function hold(Request $request, string $name): JsonResponse
    {
        $holdMs = min(max(0, $request->query->getInt('hold_ms')), self::MAX_HOLD_MS);
        $prefix = "symfony-app.lock.{$name}.";
        $lock = $request->query->getBoolean('lock', true) ? $this->lockFactory->createLock("report.{$name}") : null;
        $lock?->acquire(true);
        try {
            $inside = (int) ephpm_kv_incr($prefix.'inside');
            ephpm_kv_setnx($prefix."reached.{$inside}", '1');
            usleep($holdMs * 1000);
            ephpm_kv_decr($prefix.'inside');
        } finally {
            $lock?->release();
        }
        $peak = 0;
        while (ephpm_kv_exists($prefix.'reached.'.($peak + 1))) {
            ++$peak;
        }

        return new JsonResponse([
            'name' => $name,
            'locked' => null !== $lock,
            'inside' => $inside,
            'peak' => $peak,
            'pid' => getmypid(),
        ]);
    }
}
