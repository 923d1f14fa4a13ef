<?php

namespace Ephpm\SymfonyRuntime\Tests\Fixtures\App;

use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Bundle\FrameworkBundle\Kernel\MicroKernelTrait;
use Symfony\Component\DependencyInjection\Loader\Configurator\ContainerConfigurator;
use Symfony\Component\HttpKernel\Kernel as BaseKernel;
use Symfony\Component\Routing\Loader\Configurator\RoutingConfigurator;

/**
 * The tests' Symfony app, configured in PHP so one file serves Symfony 5.4, 6.4 and 7.x. $instanceId tells one
 * kernel (one boot of the front controller) from the next.
 */
final class Kernel extends BaseKernel
{
    use MicroKernelTrait;

    public readonly string $instanceId;

    public function __construct(string $environment, bool $debug)
    {
        parent::__construct($environment, $debug);
        $this->instanceId = bin2hex(random_bytes(6));
    }

    public function registerBundles(): iterable
    {
        yield new FrameworkBundle();
    }

    public function getProjectDir(): string
    {
        return \dirname(__DIR__);
    }

    // One cache per Symfony version: the test legs of several Symfony lines share this directory.
    public function getCacheDir(): string
    {
        return $this->getProjectDir() . '/var/cache/' . self::VERSION . '/' . $this->environment;
    }

    public function getLogDir(): string
    {
        return $this->getProjectDir() . '/var/log/' . self::VERSION;
    }

    protected function configureContainer(ContainerConfigurator $container): void
    {
        $framework = [
            'secret' => 'fixture', 'test' => false, 'http_method_override' => false, 'php_errors' => ['log' => true],
        ];
        if (self::VERSION_ID >= 60400) {
            $framework['handle_all_throwables'] = true;
        }
        $container->extension('framework', $framework);
        $services = $container->services()->defaults()->autowire()->autoconfigure();
        $services->load(__NAMESPACE__ . '\\', __DIR__ . '/*')->exclude(__DIR__ . '/{Kernel.php,Controller}');
        $services->load(__NAMESPACE__ . '\\Controller\\', __DIR__ . '/Controller')->public()
            ->tag('controller.service_arguments');
    }

    protected function configureRoutes(RoutingConfigurator $routes): void
    {
        $controller = Controller\ProbeController::class;
        foreach (['probe', 'state', 'echo', 'fail'] as $name) {
            $routes->add($name, '/' . $name)->controller([$controller, $name]);
        }
    }
}
