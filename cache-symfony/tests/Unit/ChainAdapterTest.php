<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Unit;

use Ephpm\Cache\Symfony\Tests\Support\AdapterTestCase;
use Ephpm\Cache\Symfony\Tests\Support\Backend;
use Ephpm\Cache\Symfony\Tests\Support\RedisServer;
use Symfony\Component\Cache\Adapter\ChainAdapter;
use Symfony\Component\Cache\Adapter\RedisAdapter;

/**
 * The README's answer to durability / outgrowing one machine: the in-process store in front of a real Redis.
 */
final class ChainAdapterTest extends AdapterTestCase
{
    private string $namespace;

    protected function setUp(): void
    {
        if (!\extension_loaded('redis')) {
            self::markTestSkipped('the redis extension is not loaded in this PHP');
        }
        parent::setUp();
        $this->namespace = 'chain' . getmypid() . bin2hex(random_bytes(3));
    }

    public static function tearDownAfterClass(): void
    {
        RedisServer::stop();
    }

    private function redis(): RedisAdapter
    {
        /** @var \Redis $client */
        $client = RedisAdapter::createConnection('redis://127.0.0.1:' . RedisServer::port());

        return new RedisAdapter($client, $this->namespace);
    }

    public function testWriteThroughReadFromFirstLayerAndRefillAfterFlush(): void
    {
        $local = $this->adapter($this->namespace);
        $redis = $this->redis();
        $chain = new ChainAdapter([$local, $redis]);

        // Write-through: both layers hold the item.
        self::assertTrue($chain->save($chain->getItem('post.1')->set(['title' => 'Hello'])));
        self::assertSame(['title' => 'Hello'], $local->getItem('post.1')->get());
        self::assertSame(['title' => 'Hello'], $redis->getItem('post.1')->get());

        // Reads are served by the first layer: remove the Redis copy, the chain still hits.
        self::assertTrue($redis->deleteItem('post.1'));
        self::assertSame(['title' => 'Hello'], $chain->getItem('post.1')->get());

        // The in-process store is lost (restart, or another process): Redis answers and refills the first layer.
        $chain->save($chain->getItem('post.2')->set('second'));
        Backend::flush();
        $local = $this->adapter($this->namespace);
        self::assertFalse($local->getItem('post.2')->isHit());
        $chain = new ChainAdapter([$local, $this->redis()]);
        self::assertSame('second', $chain->getItem('post.2')->get());
        self::assertSame('second', $this->adapter($this->namespace)->getItem('post.2')->get(), 'refilled from Redis');
        self::assertSame('second', $chain->get('post.2', static fn (): string => 'recomputed'));

        // get() with a callback on a miss in both layers computes once and writes both layers.
        self::assertSame('computed', $chain->get('post.3', static fn (): string => 'computed'));
        self::assertSame('computed', $this->redis()->getItem('post.3')->get());
        self::assertSame('computed', $this->adapter($this->namespace)->getItem('post.3')->get());

        self::assertTrue($chain->clear());
        self::assertFalse($chain->getItem('post.2')->isHit());
    }
}
