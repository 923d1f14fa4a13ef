<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Functional\Fixtures;

use Psr\Cache\CacheItemPoolInterface;
use Symfony\Component\DependencyInjection\Attribute\Autowire;
use Symfony\Component\Lock\LockFactory;
use Symfony\Component\RateLimiter\RateLimiterFactory;

/** An application service: what it gets autowired is what a controller would get. */
final class Consumer
{
    public function __construct(
        public readonly LockFactory $lockFactory,
        #[Autowire(service: 'limiter.api')]
        public readonly RateLimiterFactory $apiLimiter,
        #[Autowire(service: 'cache.rate_limiter')]
        public readonly CacheItemPoolInterface $rateLimiterPool,
    ) {
    }
}
