<?php

namespace App\Controller;

use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\Routing\Attribute\Route;

/**
 * GET /session/incr?sleep_ms=N: a login-like counter in the Symfony session (framework.session.handler_id:
 * ephpm.session.handler). It reads the counter, sleeps N ms, then writes counter + 1: a read-modify-write that loses
 * updates when two requests of one session run at once, unless the session is locked. The native handler holds the
 * session from the first access until the response saves it, so concurrent requests take turns and all count.
 */
#[AsController]
final class SessionController
{
    private const MAX_SLEEP_MS = 5000;

    #[Route('/session/incr', name: 'session_incr', methods: ['GET'])]
    public function incr(Request $request): JsonResponse
    {
        $sleepMs = min(max(0, $request->query->getInt('sleep_ms')), self::MAX_SLEEP_MS);
        $session = $request->getSession();
        $count = (int) $session->get('count', 0);
        usleep($sleepMs * 1000);
        $session->set('count', $count + 1);

        return new JsonResponse(['count' => $count + 1, 'pid' => getmypid()]);
    }
}
