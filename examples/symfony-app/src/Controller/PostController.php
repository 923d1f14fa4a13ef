<?php

namespace App\Controller;

use App\LoaderCalls;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpKernel\Attribute\AsController;
use Symfony\Component\Routing\Attribute\Route;
use Symfony\Contracts\Cache\CacheInterface;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * The README's example: CacheInterface::get() with a loader and expiresAfter(300). $cachePosts is the
 * framework pool "cache.posts" (an EphpmKvAdapter), injected by Symfony's named autowiring alias.
 */
#[AsController]
final class PostController
{
    public function __construct(
        private CacheInterface $cachePosts,
        private LoaderCalls $loaderCalls,
    ) {
    }

    #[Route('/posts/{id}', name: 'post_show', requirements: ['id' => '\d+'], methods: ['GET'])]
    public function show(int $id): JsonResponse
    {
        $computed = false;
        $post = $this->cachePosts->get("post.{$id}", function (ItemInterface $item) use ($id, &$computed): array {
            $item->expiresAfter(300);
            $computed = true;

            return $this->loadPostFromDb($id);
        });

        return new JsonResponse([
            'post' => $post,
            'computed' => $computed,
            'loader_calls' => $this->loaderCalls->get('posts'),
        ]);
    }

    /** @return array{id: int, title: string, loaded_at: float} */
    private function loadPostFromDb(int $id): array
    {
        $this->loaderCalls->increment('posts');

        return ['id' => $id, 'title' => "Post #{$id}", 'loaded_at' => microtime(true)];
    }
}
