<?php

declare(strict_types=1);

namespace Ephpm\Bundle\DependencyInjection;

use Symfony\Component\Config\Definition\Builder\TreeBuilder;
use Symfony\Component\Config\Definition\ConfigurationInterface;

/**
 * The `ephpm:` configuration tree. Every part is on by default; each is a plain service until the application points
 * a framework option at it (framework.cache.app, framework.session.handler_id, framework.lock), except the rate
 * limiter pool, which replaces the framework's `cache.rate_limiter` when enabled.
 */
final class Configuration implements ConfigurationInterface
{
    public function getConfigTreeBuilder(): TreeBuilder
    {
        $tree = new TreeBuilder('ephpm');
        $root = $tree->getRootNode();
        $root
            ->children()
                ->arrayNode('cache')
                    ->info('Registers the abstract cache pool adapter "cache.adapter.ephpm" (framework.cache.app / pools.*.adapter).')
                    ->canBeDisabled()
                ->end()
                ->arrayNode('session')
                    ->info('Registers "ephpm.session.handler" for framework.session.handler_id (the native "ephpm" save handler, with per-session locking).')
                    ->canBeDisabled()
                    ->children()
                        ->scalarNode('lock_ttl')
                            ->info('Seconds a crashed request can keep a session locked (INI ephpm.session_lock_ttl); null = the INI value (30).')
                            ->defaultNull()
                            ->validate()
                                ->ifTrue(static fn (mixed $v): bool => null !== $v && (!\is_int($v) || $v < 1))
                                ->thenInvalid('must be a whole number of seconds, at least 1, or null; %s given')
                            ->end()
                        ->end()
                        ->scalarNode('lock_wait')
                            ->info('Seconds a request waits for a locked session before session start fails (INI ephpm.session_lock_wait); null = the INI value (30).')
                            ->defaultNull()
                            ->validate()
                                ->ifTrue(static fn (mixed $v): bool => null !== $v && (!\is_int($v) || $v < 1))
                                ->thenInvalid('must be a whole number of seconds, at least 1, or null; %s given')
                            ->end()
                        ->end()
                    ->end()
                ->end()
                ->arrayNode('lock')
                    ->info('Registers the lock store "ephpm.lock.store": use it with framework.lock: ephpm.lock.store (or the DSN "ephpm://").')
                    ->canBeDisabled()
                    ->children()
                        ->floatNode('ttl')
                            ->info('Seconds a lock lives unless refreshed (Lock::refresh / the LockFactory TTL sets it per lock).')
                            ->defaultValue(300.0)
                            ->min(0.001)
                        ->end()
                        ->scalarNode('prefix')
                            ->info('Prefix of the store keys of locks.')
                            ->defaultValue('lock:')
                            ->validate()
                                ->ifTrue(static fn (mixed $v): bool => !\is_string($v) || \strlen($v) > 1024)
                                ->thenInvalid('must be a string of at most 1024 bytes, %s given')
                            ->end()
                        ->end()
                    ->end()
                ->end()
                ->arrayNode('rate_limiter')
                    ->info('Keeps the framework rate limiters\' state ("cache.rate_limiter" pool) on the store.')
                    ->canBeDisabled()
                ->end()
            ->end()
            ->validate()
                ->ifTrue(static fn (array $v): bool => self::enabled($v, 'rate_limiter') && !self::enabled($v, 'cache'))
                ->thenInvalid('ephpm.rate_limiter needs ephpm.cache (its pool uses cache.adapter.ephpm): enable ephpm.cache or disable ephpm.rate_limiter.')
            ->end();

        return $tree;
    }

    /** @param array<mixed> $config */
    private static function enabled(array $config, string $part): bool
    {
        $node = $config[$part] ?? null;

        return \is_array($node) && true === ($node['enabled'] ?? false);
    }
}
