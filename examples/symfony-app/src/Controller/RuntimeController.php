<?php

namespace App\Controller;

use App\KernelRequests;
use App\Visitor;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\Routing\Attribute\Route;

/**
 * How the app is being run: `GET /runtime` says which mode and how many requests this kernel has handled;
 * `GET /visitor?name=...` stores a name in the per-request Visitor service and returns what it held before (always
 * null: the service is reset after every response).
 */
#[AsController]
final class RuntimeController
{
    public function __construct(
        private KernelRequests $kernelRequests,
        private Visitor $visitor,
    ) {
    }

    #[Route('/runtime', name: 'runtime', methods: ['GET'])]
    public function runtime(): JsonResponse
    {
        return new JsonResponse([
            'worker_mode' => str_contains($_SERVER['APP_RUNTIME_MODE'] ?? '', 'worker=1'),
            'pid' => getmypid(),
            'kernel_requests' => ++$this->kernelRequests->count,
        ]);
    }

    #[Route('/visitor', name: 'visitor', methods: ['GET'])]
    public function visitor(Request $request): JsonResponse
    {
        $previous = $this->visitor->name();
        $this->visitor->identify($request->query->get('name'));

        return new JsonResponse(['previous' => $previous, 'name' => $this->visitor->name()]);
    }
}
