<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Cache;

use Ephpm\Cache\Symfony\EphpmKvAdapter;

/**
 * The adapter behind `cache.adapter.ephpm`: EphpmKvAdapter with the framework's constructor shape
 * (namespace, default lifetime, version), like `cache.adapter.apcu`.
 *
 * The version is the container's build id. It becomes part of the namespace, so a deploy (a new build id) starts from
 * an empty pool while the previous deploy's entries age out of the store by LRU; `cache:pool:clear` in the same deploy
 * reaches the same namespace as the web workers.
 */
class EphpmPoolAdapter extends EphpmKvAdapter
{
    public function __construct(string $namespace = '', int $defaultLifetime = 0, ?string $version = null)
    {
        if (null !== $version && '' !== $version) {
            $namespace .= ('' === $namespace ? '' : '.') . substr(hash('xxh128', $version), 0, 8);
        }
        parent::__construct($namespace, $defaultLifetime);
    }
}
