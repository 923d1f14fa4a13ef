<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Functional;

use Ephpm\Bundle\Cache\EphpmPoolAdapter;
use Ephpm\Bundle\Lock\EphpmKvStore;
use Ephpm\Bundle\Session\EphpmSessionHandler;
use Ephpm\Bundle\Tests\Functional\Fixtures\Consumer;
use Ephpm\Cache\Symfony\EphpmKvAdapter;
use PHPUnit\Framework\TestCase;
use Symfony\Bundle\FrameworkBundle\Console\Application;
use Symfony\Component\Cache\Adapter\AbstractAdapter;
use Symfony\Component\Cache\Adapter\TagAwareAdapter;
use Symfony\Component\Config\Definition\Exception\InvalidConfigurationException;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\Filesystem\Filesystem;
use Symfony\Component\HttpFoundation\Session\Session;
use Symfony\Component\HttpFoundation\Session\Storage\NativeSessionStorage;
use Symfony\Contracts\Cache\ItemInterface;

/**
 * The bundle in a real kernel, compiled and dumped in the test: the framework options point at ephpm services, and
 * what they build works against the real store.
 */
final class BundleTest extends TestCase
{
    private const FRAMEWORK = [
        'cache' => [
            'app' => 'cache.adapter.ephpm',
            'pools' => [
                'cache.posts' => ['adapter' => 'cache.adapter.ephpm', 'default_lifetime' => 600],
                'cache.tagged' => ['adapter' => 'cache.adapter.ephpm', 'tags' => true],
            ],
        ],
        'session' => ['handler_id' => 'ephpm.session.handler', 'storage_factory_id' => 'session.storage.factory.native'],
        'lock' => 'ephpm.lock.store',
        'rate_limiter' => ['api' => ['policy' => 'fixed_window', 'limit' => 10, 'interval' => '1 minute']],
    ];

    /** @var list<string> */
    private array $dirs = [];

    protected function tearDown(): void
    {
        (new Filesystem())->remove($this->dirs);
        ephpm_kv_flush_all();
    }

    /**
     * @param array<string, mixed> $framework
     * @param array<string, mixed> $ephpm
     */
    private function boot(array $framework = self::FRAMEWORK, array $ephpm = [], string $env = 'test', array $imports = []): TestKernel
    {
        $this->dirs[] = $dir = sys_get_temp_dir() . '/ephpm-bundle-' . bin2hex(random_bytes(6));
        $kernel = new TestKernel($dir, $framework, $ephpm, $env, $imports);
        $kernel->boot();

        return $kernel;
    }

    private function container(TestKernel $kernel): ContainerInterface
    {
        return $kernel->getContainer()->get('test.service_container');
    }

    public function testPoolsResolveToEphpmAdaptersInTheBuildIdNamespace(): void
    {
        $c = $this->container($this->boot());
        $app = $c->get('cache.app');
        $this->assertInstanceOf(EphpmPoolAdapter::class, $app);
        $this->assertInstanceOf(EphpmPoolAdapter::class, $c->get('cache.posts'));
        $this->assertInstanceOf(TagAwareAdapter::class, $c->get('cache.tagged'));

        $posts = $c->get('cache.posts');
        $posts->save($posts->getItem('post-1')->set('hello'));
        $storeKey = $this->storeKey($posts, 'post-1');
        $this->assertTrue(ephpm_kv_exists($storeKey), "item stored under $storeKey");
        $this->assertSame(600, ephpm_kv_ttl($storeKey), 'the pool\'s default_lifetime');
        $buildId = $c->getParameter('container.build_id');
        $this->assertIsString($buildId);
        $this->assertStringEndsWith('.' . substr(hash('xxh128', $buildId), 0, 8) . ':', $this->namespaceOf($posts), 'namespace carries the build id');
        $this->assertNotSame($this->namespaceOf($posts), $this->namespaceOf($app), 'each pool has its own namespace');

        $this->assertSame('computed', $c->get('cache.tagged')->get('t1', function (ItemInterface $i): string {
            $i->tag('posts');

            return 'computed';
        }));
        $this->assertTrue($c->get('cache.tagged')->invalidateTags(['posts']));
        $this->assertFalse($c->get('cache.tagged')->getItem('t1')->isHit());
    }

    public function testClearerAndCachePoolClearCommandClearOnlyThatPool(): void
    {
        $kernel = $this->boot();
        $c = $this->container($kernel);
        $c->get('cache.posts')->save($c->get('cache.posts')->getItem('a')->set(1));
        $c->get('cache.app')->save($c->get('cache.app')->getItem('b')->set(2));

        $this->assertTrue($c->get('cache.global_clearer')->hasPool('cache.posts'));
        $c->get('cache.global_clearer')->clearPool('cache.posts');
        $this->assertFalse($c->get('cache.posts')->getItem('a')->isHit());
        $this->assertTrue($c->get('cache.app')->getItem('b')->isHit());

        $c->get('cache.posts')->save($c->get('cache.posts')->getItem('a')->set(1));
        $app = new Application($kernel);
        $app->setAutoExit(false);
        $out = new BufferedOutput();
        $this->assertSame(0, $app->run(new ArrayInput(['command' => 'cache:pool:clear', 'pools' => ['cache.posts']]), $out), $out->fetch());
        // A worker's memoised namespace version is dropped by kernel.reset (the pool is reset-tagged).
        $c->get('services_resetter')->reset();
        $this->assertFalse($c->get('cache.posts')->getItem('a')->isHit());
        $this->assertTrue($c->get('cache.app')->getItem('b')->isHit());
    }

    public function testANewBuildIdStartsFromAnEmptyPool(): void
    {
        $old = new EphpmPoolAdapter('ns', 0, 'build-1');
        $old->save($old->getItem('k')->set('v1'));
        $this->assertFalse((new EphpmPoolAdapter('ns', 0, 'build-2'))->getItem('k')->isHit(), 'new deploy: empty');
        $this->assertTrue((new EphpmPoolAdapter('ns', 0, 'build-1'))->getItem('k')->isHit(), 'same deploy: shared');
    }

    public function testAutowiredLockFactoryLocksOnEphpm(): void
    {
        $c = $this->container($this->boot());
        $factory = $c->get(Consumer::class)->lockFactory;
        $lock = $factory->createLock('invoice-42');
        $this->assertTrue($lock->acquire());
        $this->assertTrue(ephpm_kv_exists('lock:invoice-42'));
        $this->assertFalse($factory->createLock('invoice-42')->acquire(), 'a second lock on the resource is refused');
        $lock->release();
        $this->assertFalse(ephpm_kv_exists('lock:invoice-42'));
        $this->assertInstanceOf(EphpmKvStore::class, $c->get('ephpm.lock.store'));
    }

    public function testLockDsnAndBundleSettings(): void
    {
        $framework = ['lock' => 'ephpm://'] + self::FRAMEWORK;
        $c = $this->container($this->boot($framework, ['lock' => ['ttl' => 42, 'prefix' => 'locks/']]));
        $lock = $c->get(Consumer::class)->lockFactory->createLock('r', null);
        $this->assertTrue($lock->acquire());
        $this->assertSame(42, ephpm_kv_ttl('locks/r'));
        $lock->release();
    }

    public function testRateLimiterStateLivesInTheStore(): void
    {
        $c = $this->container($this->boot());
        $consumer = $c->get(Consumer::class);
        $this->assertInstanceOf(EphpmPoolAdapter::class, $consumer->rateLimiterPool);
        $factory = $consumer->apiLimiter;
        for ($i = 1; $i <= 10; ++$i) {
            $this->assertTrue($factory->create('client-1')->consume()->isAccepted(), "request $i");
        }
        $this->assertFalse($factory->create('client-1')->consume()->isAccepted(), 'the 11th is limited');
        $this->assertTrue($factory->create('client-2')->consume()->isAccepted(), 'other clients are not');
        $this->assertGreaterThan(0, ephpm_kv_stats()['keys'], 'limiter state in the store');
    }

    /**
     * In its own process: PHP refuses session INI changes once output was sent, and PHPUnit has printed by now.
     *
     * @runInSeparateProcess
     * @preserveGlobalState disabled
     */
    public function testSessionHandlerServiceUsesTheNativeHandler(): void
    {
        $c = $this->container($this->boot());
        $handler = $c->get('ephpm.session.handler');
        $this->assertInstanceOf(EphpmSessionHandler::class, $handler);
        $this->assertSame('ephpm', ini_get('session.save_handler'));

        $session = new Session(new NativeSessionStorage(['use_cookies' => 0, 'use_strict_mode' => 1], $handler));
        $session->start();
        $id = $session->getId();
        $this->assertTrue(ephpm_kv_exists('session_lock:' . $id), 'the native handler locks the session');
        $session->set('user', 'ada');
        $session->save();
        $this->assertFalse(ephpm_kv_exists('session_lock:' . $id), 'released on save');
        $this->assertStringContainsString('ada', (string) ephpm_kv_get('session:' . $id));
        $this->assertTrue($handler->validateId($id));
        $this->assertFalse($handler->validateId('forged'));

        // Lazy write: unchanged data only moves the TTL (no rewrite: the key's version stays).
        ephpm_kv_expire('session:' . $id, 5);
        $version = ephpm_kv_wait('session:' . $id, 0, 0)['version'];
        $again = new Session(new NativeSessionStorage(['use_cookies' => 0, 'use_strict_mode' => 1], $handler));
        $again->setId($id);
        $again->start();
        $this->assertSame('ada', $again->get('user'));
        $again->save();
        $this->assertSame((int) ini_get('session.gc_maxlifetime'), ephpm_kv_ttl('session:' . $id));
        $this->assertSame($version, ephpm_kv_wait('session:' . $id, 0, 0)['version']);
    }

    /**
     * @runInSeparateProcess
     * @preserveGlobalState disabled
     */
    public function testSessionLockSettingsBecomeIni(): void
    {
        $this->container($this->boot(self::FRAMEWORK, ['session' => ['lock_ttl' => 7, 'lock_wait' => 3]]))->get('ephpm.session.handler');
        $this->assertSame('7', ini_get('ephpm.session_lock_ttl'));
        $this->assertSame('3', ini_get('ephpm.session_lock_wait'));
        ini_restore('ephpm.session_lock_ttl');
        ini_restore('ephpm.session_lock_wait');
    }

    /**
     * In its own process, like the session tests (the handler sets session.save_handler).
     *
     * @runInSeparateProcess
     * @preserveGlobalState disabled
     */
    public function testTheRecipeConfigFilesBootAsDocumented(): void
    {
        $recipe = \dirname(__DIR__, 2) . '/docs/recipe/config/packages';
        $kernel = $this->boot([], [], 'test', [$recipe . '/ephpm.yaml', $recipe . '/ephpm_framework.yaml']);
        $c = $this->container($kernel);
        $this->assertInstanceOf(EphpmPoolAdapter::class, $c->get('cache.app'));
        $this->assertInstanceOf(EphpmPoolAdapter::class, $c->get('cache.posts'));
        $this->assertInstanceOf(TagAwareAdapter::class, $c->get('cache.tagged'));
        $consumer = $c->get(Consumer::class);
        $lock = $consumer->lockFactory->createLock('recipe');
        $this->assertTrue($lock->acquire());
        $this->assertSame(300, ephpm_kv_ttl('lock:recipe'));
        $lock->release();
        $this->assertInstanceOf(EphpmPoolAdapter::class, $consumer->rateLimiterPool);
        $this->assertInstanceOf(EphpmSessionHandler::class, $c->get('session.handler'));
    }

    /** @return iterable<string, array{array<string, mixed>, string}> */
    public static function badConfigs(): iterable
    {
        yield 'lock ttl 0' => [['lock' => ['ttl' => 0]], 'ephpm.lock.ttl'];
        yield 'session lock_ttl 0' => [['session' => ['lock_ttl' => 0]], 'ephpm.session.lock_ttl'];
        yield 'session lock_wait string' => [['session' => ['lock_wait' => 'soon']], 'ephpm.session.lock_wait'];
        yield 'unknown key' => [['lock' => ['tll' => 5]], 'tll'];
        yield 'rate limiter without cache' => [['cache' => false], 'ephpm.rate_limiter needs ephpm.cache'];
    }

    /**
     * @dataProvider badConfigs
     *
     * @param array<string, mixed> $ephpm
     */
    public function testInvalidConfigurationNamesTheKey(array $ephpm, string $expected): void
    {
        try {
            $this->boot(self::FRAMEWORK, $ephpm);
            $this->fail('the kernel booted');
        } catch (InvalidConfigurationException $e) {
            $this->assertStringContainsString($expected, $e->getMessage());
        }
    }

    public function testLockStoreDisabledButReferencedIsAClearError(): void
    {
        $this->expectExceptionMessage('framework.lock uses the ephpm lock store');
        $this->boot(self::FRAMEWORK, ['lock' => false]);
    }

    /** The store key an adapter uses for a cache key (its private getId(), then the adapter's encoding). */
    private function storeKey(AbstractAdapter $adapter, string $key): string
    {
        $id = \Closure::bind(fn (string $k): string => $this->getId($k), $adapter, AbstractAdapter::class)($key);

        return EphpmKvAdapter::encodeId($id);
    }

    private function namespaceOf(AbstractAdapter $adapter): string
    {
        return \Closure::bind(fn (): string => $this->namespace, $adapter, AbstractAdapter::class)();
    }
}
