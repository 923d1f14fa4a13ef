<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use PHPUnit\Framework\TestCase;
use Symfony\Component\HttpFoundation\Session\Storage\Handler\RedisSessionHandler;

/** Symfony's stock RedisSessionHandler (phpredis and Predis) over the listener: the session life cycle. */
final class RedisSessionHandlerTest extends TestCase
{
    /** @return iterable<string, array{\Closure(): (\Redis|\Predis\Client)}> */
    public static function clients(): iterable
    {
        yield 'phpredis' => [static fn () => Listener::phpredis()];
        yield 'predis' => [static fn () => Listener::predis()];
    }

    /** @dataProvider clients */
    public function testLifeCycle(\Closure $connect): void
    {
        $redis = $connect();
        $handler = new RedisSessionHandler($redis, ['prefix' => 'sess_', 'ttl' => 300]);
        self::assertTrue($handler->open('', 'PHPSESSID'));
        self::assertSame('', $handler->read('abc'));
        self::assertTrue($handler->write('abc', 'user|s:5:"alice";'));
        self::assertSame('user|s:5:"alice";', $handler->read('abc'));
        $check = Listener::phpredis();
        self::assertSame('user|s:5:"alice";', $check->get('sess_abc'));
        self::assertGreaterThan(290, $check->ttl('sess_abc'));
        $check->expire('sess_abc', 10);
        self::assertTrue($handler->updateTimestamp('abc', 'user|s:5:"alice";'));
        self::assertGreaterThan(290, $check->ttl('sess_abc'));
        self::assertTrue($handler->validateId('abc'));
        self::assertTrue($handler->destroy('abc'));
        self::assertFalse($check->get('sess_abc'));
        self::assertSame(0, $handler->gc(300));
        self::assertTrue($handler->close());
    }
}
