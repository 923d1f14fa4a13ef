<?php

declare(strict_types=1);

namespace Ephpm\Bundle\DependencyInjection;

use Ephpm\Bundle\Cache\EphpmPoolAdapter;
use Ephpm\Bundle\Lock\EphpmKvStore;
use Ephpm\Bundle\Session\EphpmSessionHandler;
use Ephpm\Bundle\Session\SaveHandlerSelector;
use Symfony\Component\DependencyInjection\Argument\AbstractArgument;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\DependencyInjection\Definition;
use Symfony\Component\DependencyInjection\Extension\Extension;
use Symfony\Component\DependencyInjection\Parameter;
use Symfony\Component\DependencyInjection\Reference;

/**
 * Services of the `ephpm:` configuration (see Configuration). The framework-facing rewiring (framework.lock stores,
 * the rate limiter pool) happens in Compiler\EphpmFrameworkPass, once FrameworkBundle has defined its services.
 */
final class EphpmExtension extends Extension
{
    public const LOCK_STORE = 'ephpm.lock.store';
    public const SESSION_HANDLER = 'ephpm.session.handler';
    public const CACHE_ADAPTER = 'cache.adapter.ephpm';

    /** @param array<mixed> $configs */
    public function load(array $configs, ContainerBuilder $container): void
    {
        /** @var array{cache: array{enabled: bool}, session: array{enabled: bool, lock_ttl: ?int, lock_wait: ?int}, lock: array{enabled: bool, ttl: float, prefix: string}, rate_limiter: array{enabled: bool}} $config */
        $config = $this->processConfiguration(new Configuration(), $configs);

        if ($config['cache']['enabled']) {
            // Same shape as the framework's cache.adapter.apcu: CachePoolPass replaces namespace and default lifetime
            // by position in each pool's child definition; the version is the container build id (a deploy starts
            // from empty pools).
            $container->register(self::CACHE_ADAPTER, EphpmPoolAdapter::class)
                ->setAbstract(true)
                ->setArguments(['', 0, new Parameter('container.build_id')])
                ->addMethodCall('setLogger', [new Reference('logger', ContainerInterface::IGNORE_ON_INVALID_REFERENCE)])
                ->addTag('cache.pool', ['clearer' => 'cache.default_clearer', 'reset' => 'reset'])
                ->addTag('monolog.logger', ['channel' => 'cache']);
        }

        if ($config['session']['enabled']) {
            $container->register(self::SESSION_HANDLER, EphpmSessionHandler::class)
                ->setArguments([$config['session']['lock_ttl'], $config['session']['lock_wait']]);
            $container->register('ephpm.session.save_handler_selector', SaveHandlerSelector::class)
                ->addTag('kernel.event_listener', ['event' => 'kernel.request', 'method' => 'onKernelRequest', 'priority' => 512]);
            $container->setAlias(EphpmSessionHandler::class, self::SESSION_HANDLER);
        }

        if ($config['lock']['enabled']) {
            $container->register(self::LOCK_STORE, EphpmKvStore::class)
                ->setArguments([$config['lock']['ttl'], $config['lock']['prefix']]);
            $container->setAlias(EphpmKvStore::class, self::LOCK_STORE);
        }

        $container->setParameter('ephpm.rate_limiter.enabled', $config['rate_limiter']['enabled']);
    }

    public function getAlias(): string
    {
        return 'ephpm';
    }
}
