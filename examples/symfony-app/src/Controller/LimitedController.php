<?php

namespace App\Controller;

use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\RateLimiter\RateLimiterFactoryInterface;
use Symfony\Component\Routing\Attribute\Route;

/**
 * GET /limited: the rate limiter "api" (fixed window, 10 per minute per client address, framework.rate_limiter in
 * config/packages/ephpm_framework.yaml). Its state is in the store, shared by every worker: the 11th request of a
 * minute gets 429 whichever worker serves it. $apiLimiter is the framework's named autowiring alias of that limiter.
 */
#[AsController]
final class LimitedController
{
    public function __construct(private RateLimiterFactoryInterface $apiLimiter)
    {
    }

    #[Route('/limited', name: 'limited', methods: ['GET'])]
    public function limited(Request $request): JsonResponse
    {
        $limit = $this->apiLimiter->create($request->getClientIp())->consume();
        $headers = [
            'X-RateLimit-Remaining' => (string) $limit->getRemainingTokens(),
            'X-RateLimit-Limit' => (string) $limit->getLimit(),
        ];
        if (!$limit->isAccepted()) {
            $headers['Retry-After'] = (string) max(1, $limit->getRetryAfter()->getTimestamp() - time());

            return new JsonResponse(['error' => 'too many requests'], JsonResponse::HTTP_TOO_MANY_REQUESTS, $headers);
        }

        return new JsonResponse(['remaining' => $limit->getRemainingTokens()], JsonResponse::HTTP_OK, $headers);
    }
}
