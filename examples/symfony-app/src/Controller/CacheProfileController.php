<?php

namespace App\Controller;

use Symfony\Component\DependencyInjection\Attribute\Autowire;
use Symfony\Component\DependencyInjection\Attribute\When;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\HttpKernel\DataCollector\DataCollectorInterface;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;
use Symfony\Component\HttpKernel\Profiler\Profiler;
use Symfony\Component\Routing\Attribute\Route;

/**
 * Dev only: what the profiler's "cache" data collector (fed by the TraceableAdapter that wraps every pool in
 * debug mode) recorded for an earlier request. GET /_cache-profile/{token}, token = that response's X-Debug-Token.
 * This is the data the web profiler's Cache panel shows.
 */
#[When(env: 'dev')]
#[AsController]
final class CacheProfileController
{
    public function __construct(#[Autowire(service: 'profiler')] private Profiler $profiler)
    {
    }

    #[Route('/_cache-profile/{token}', name: 'cache_profile', env: 'dev', methods: ['GET'])]
    public function show(string $token): JsonResponse
    {
        $this->profiler->disable();
        $profile = $this->profiler->loadProfile($token);
        if (null === $profile || !$profile->hasCollector('cache')) {
            throw new NotFoundHttpException("no profile {$token} with a cache collector");
        }
        /** @var \Symfony\Component\Cache\DataCollector\CacheDataCollector&DataCollectorInterface $collector */
        $collector = $profile->getCollector('cache');

        return new JsonResponse(['url' => $profile->getUrl(), 'pools' => $collector->getStatistics()]);
    }
}
