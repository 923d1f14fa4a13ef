<?php

declare(strict_types=1);

namespace Ephpm\Bundle;

use Ephpm\Bundle\DependencyInjection\Compiler\EphpmFrameworkPass;
use Symfony\Component\DependencyInjection\Compiler\PassConfig;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\HttpKernel\Bundle\Bundle;

/**
 * Wires a Symfony application's cache pools, sessions, locks and rate limiters to the ephpm key-value store.
 * Configuration: see EphpmExtension and the package README.
 */
final class EphpmBundle extends Bundle
{
    public function build(ContainerBuilder $container): void
    {
        parent::build($container);
        // Before FrameworkBundle's CachePoolPass (priority 0 in the same phase), which expands the pools.
        $container->addCompilerPass(new EphpmFrameworkPass(), PassConfig::TYPE_BEFORE_OPTIMIZATION, 64);
    }
}
