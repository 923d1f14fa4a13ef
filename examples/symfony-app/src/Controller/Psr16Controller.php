<?php

namespace App\Controller;

use Psr\SimpleCache\CacheInterface;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\Routing\Attribute\Route;

/**
 * A PSR-16 consumer: Psr\SimpleCache\CacheInterface is Symfony's Psr16Cache over cache.app (config/services.yaml).
 */
#[AsController]
final class Psr16Controller
{
    public function __construct(private CacheInterface $simpleCache)
    {
    }

    #[Route('/psr16/{key}', name: 'psr16_get', methods: ['GET'])]
    public function get(string $key): JsonResponse
    {
        $hit = $this->simpleCache->has($key);
        if (!$hit) {
            $this->simpleCache->set($key, ['stored_at' => time()], 300);
        }

        return new JsonResponse(['key' => $key, 'hit' => $hit, 'value' => $this->simpleCache->get($key)]);
    }
}
