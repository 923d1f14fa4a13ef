<?php

namespace App\Controller;

use App\LoaderCalls;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;
use Symfony\Component\Routing\Attribute\Route;
use Symfony\Contracts\Cache\CacheInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * The same key in two pools: GET /pools/{posts|sessions}/{key} computes "{pool}:{key}" once per pool. Both pools
 * use the same adapter class on the same store; Symfony gives each its own namespace, so they never share items.
 */
#[AsController]
final class PoolController
{
    public function __construct(
        private CacheInterface $cachePosts,
        private CacheInterface $cacheSessions,
        private LoaderCalls $loaderCalls,
    ) {
    }

    #[Route('/pools/{pool}/{key}', name: 'pool_get', requirements: ['pool' => 'posts|sessions'], methods: ['GET'])]
    public function get(string $pool, string $key): JsonResponse
    {
        $cache = match ($pool) {
            'posts' => $this->cachePosts,
            'sessions' => $this->cacheSessions,
            default => throw new NotFoundHttpException(),
        };
        $computed = false;
        $value = $cache->get($key, function (ItemInterface $item) use ($pool, $key, &$computed): string {
            $item->expiresAfter(300);
            $computed = true;
            $this->loaderCalls->increment($pool);

            return "{$pool}:{$key}";
        });

        return new JsonResponse([
            'pool' => "cache.{$pool}",
            'key' => $key,
            'value' => $value,
            'computed' => $computed,
            'loader_calls' => $this->loaderCalls->get($pool),
        ]);
    }
}
