<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Functional;

use Ephpm\Bundle\EphpmBundle;
use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Bundle\FrameworkBundle\Kernel\MicroKernelTrait;
use Symfony\Component\Config\Loader\LoaderInterface;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\DependencyInjection\Loader\Configurator\ContainerConfigurator;
use Symfony\Component\HttpKernel\Kernel;

/** A kernel configured from arrays, each instance in its own cache directory. */
final class TestKernel extends Kernel
{
    use MicroKernelTrait;

    /**
     * @param array<string, mixed> $framework
     * @param array<string, mixed> $ephpm
     */
    public function __construct(
        private readonly string $dir,
        private readonly array $framework,
        private readonly array $ephpm = [],
        string $environment = 'test',
        /** @var list<string> config files imported after the arrays */
        private readonly array $imports = [],
    ) {
        parent::__construct($environment, false);
    }

    public function registerBundles(): iterable
    {
        return [new FrameworkBundle(), new EphpmBundle()];
    }

    public function getProjectDir(): string
    {
        return $this->dir;
    }

    public function getCacheDir(): string
    {
        return $this->dir . '/cache/' . $this->environment;
    }

    public function getLogDir(): string
    {
        return $this->dir . '/log';
    }

    protected function configureContainer(ContainerConfigurator $container, LoaderInterface $loader, ContainerBuilder $builder): void
    {
        $container->extension('framework', $this->framework + [
            'secret' => 'test',
            'test' => true,
            'http_method_override' => false,
            'handle_all_throwables' => true,
            'php_errors' => ['log' => true],
            'router' => ['utf8' => true, 'resource' => 'kernel::loadRoutes', 'type' => 'service'],
        ]);
        $container->extension('ephpm', $this->ephpm);
        foreach ($this->imports as $file) {
            $container->import($file);
        }
        $container->services()->set(Fixtures\Consumer::class)->autowire()->public();
    }
}
