<?php

declare(strict_types=1);

namespace Ephpm\Bundle\DependencyInjection\Compiler;

use Ephpm\Bundle\DependencyInjection\EphpmExtension;
use Symfony\Component\DependencyInjection\ChildDefinition;
use Symfony\Component\DependencyInjection\Compiler\CompilerPassInterface;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\DependencyInjection\Exception\InvalidArgumentException;
use Symfony\Component\DependencyInjection\Reference;
use Symfony\Component\Lock\Store\StoreFactory;

/**
 * Connects FrameworkBundle's services to ephpm after its extension ran:
 *  - framework.lock: ephpm.lock.store (or "ephpm://"): the framework builds every lock store through
 *    StoreFactory::createStore(), which knows only its own DSNs and connection classes, so such a store
 *    definition is replaced by a reference to ours;
 *  - ephpm.rate_limiter: the limiters' pool "cache.rate_limiter" (a child of cache.app) becomes a pool of
 *    cache.adapter.ephpm, whatever cache.app is.
 */
final class EphpmFrameworkPass implements CompilerPassInterface
{
    public function process(ContainerBuilder $container): void
    {
        $this->wireLockStores($container);
        $this->wireRateLimiterPool($container);
    }

    private function wireLockStores(ContainerBuilder $container): void
    {
        foreach ($container->findTaggedServiceIds('lock.store') as $id => $_) {
            $definition = $container->getDefinition($id);
            if ([StoreFactory::class, 'createStore'] !== $definition->getFactory()) {
                continue;
            }
            $connection = $definition->getArguments()[0] ?? null;
            if ($connection instanceof Reference) {
                $connection = (string) $connection; // Symfony >= 7.x passes a service id as a reference, 6.4 as a string
            }
            $isOurs = \is_string($connection)
                && (EphpmExtension::LOCK_STORE === $connection || str_starts_with($connection, 'ephpm:'));
            if (!$isOurs) {
                continue;
            }
            if (!$container->hasDefinition(EphpmExtension::LOCK_STORE)) {
                throw new InvalidArgumentException(\sprintf('framework.lock uses the ephpm lock store ("%s"), but ephpm.lock is disabled: set ephpm.lock.enabled to true.', $connection));
            }
            if (EphpmExtension::LOCK_STORE !== $connection && 'ephpm://' !== $connection) {
                throw new InvalidArgumentException(\sprintf('framework.lock: unsupported ephpm DSN "%s": use "ephpm://" (TTL and key prefix are set under ephpm.lock).', $connection));
            }
            $container->removeDefinition($id);
            $container->setAlias($id, EphpmExtension::LOCK_STORE);
        }
    }

    private function wireRateLimiterPool(ContainerBuilder $container): void
    {
        if (
            !$container->hasParameter('ephpm.rate_limiter.enabled') || !$container->getParameter('ephpm.rate_limiter.enabled')
            || !$container->hasDefinition('cache.rate_limiter')
        ) {
            return;
        }
        $pool = new ChildDefinition(EphpmExtension::CACHE_ADAPTER);
        $pool->addTag('cache.pool');
        $container->setDefinition('cache.rate_limiter', $pool);
    }
}
