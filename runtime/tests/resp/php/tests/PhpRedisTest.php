<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use PHPUnit\Framework\TestCase;

/** phpredis (Debian's php-redis) against the listener: the calls applications make, their PHP-side results. */
final class PhpRedisTest extends TestCase
{
    private \Redis $redis;

    protected function setUp(): void
    {
        $this->redis = Listener::phpredis();
        $this->redis->flushDB();
    }

    public function testStringsAndExpiry(): void
    {
        $r = $this->redis;
        self::assertTrue($r->ping());
        self::assertTrue($r->set('k', "bin\0ary"));
        self::assertSame("bin\0ary", $r->get('k'));
        self::assertFalse($r->get('missing'));
        self::assertTrue($r->setex('e', 100, 'v'));
        self::assertSame(100, $r->ttl('e'));
        self::assertTrue($r->set('px', 'v', ['nx', 'px' => 5000]));
        self::assertFalse($r->set('px', 'w', ['nx', 'px' => 5000]));
        self::assertLessThanOrEqual(5000, $r->pttl('px'));
        self::assertSame('v', $r->getSet('px', 'w'));
        self::assertSame(-1, $r->ttl('px'));
        self::assertTrue($r->persist('e'));
        self::assertSame(-1, $r->ttl('e'));
        self::assertTrue($r->expire('e', 50));
        self::assertSame(-2, $r->ttl('missing'));
        self::assertSame(3, $r->incr('c') + $r->incrBy('c', 1));
        self::assertSame(1, $r->decr('c'));
        self::assertTrue($r->mset(['a' => '1', 'b' => '2']));
        self::assertSame(['1', '2', false], $r->mget(['a', 'b', 'none']));
        self::assertSame(2, $r->exists('a', 'b'));
        self::assertSame(5, $r->append('a', '2345'));
        self::assertSame(5, $r->strlen('a'));
        self::assertSame(2, $r->del('a', 'b'));
        self::assertSame(0, $r->unlink('a'));
        self::assertTrue($r->rename('k', 'k2'));
        self::assertSame(\Redis::REDIS_STRING, $r->type('k2'));
        self::assertSame(\Redis::REDIS_NOT_FOUND, $r->type('k'));
        self::assertSame(4, $r->dbSize()); // k2, e, px, c
    }

    public function testHashes(): void
    {
        $r = $this->redis;
        self::assertSame(2, $r->hSet('h', 'f1', 'v1') + $r->hSet('h', 'f2', 'v2'));
        self::assertTrue($r->hMSet('h', ['f3' => 'v3']));
        self::assertSame('v1', $r->hGet('h', 'f1'));
        self::assertSame(['f1' => 'v1', 'f2' => 'v2', 'f3' => 'v3'], $r->hGetAll('h'));
        self::assertSame(['f1', 'f2', 'f3'], $r->hKeys('h'));
        self::assertSame(['v1', 'v2', 'v3'], $r->hVals('h'));
        self::assertSame(3, $r->hLen('h'));
        self::assertTrue($r->hExists('h', 'f2'));
        self::assertSame(1, $r->hDel('h', 'f2'));
        self::assertSame(['f1' => 'v1', 'nope' => false], $r->hMGet('h', ['f1', 'nope']));
        self::assertSame(\Redis::REDIS_HASH, $r->type('h'));
        $r->set('s', 'v');
        self::assertFalse($r->hGet('s', 'f'));
        // phpredis keeps one byte of the line end in getLastError(), with redis-server as with ephpm.
        self::assertSame('WRONGTYPE Operation against a key holding the wrong kind of value', rtrim((string) $r->getLastError()));
    }

    public function testPipelineAndMultiPipeline(): void
    {
        $r = $this->redis;
        $replies = $r->multi(\Redis::PIPELINE)->set('p1', 'a')->set('p2', 'b')->get('p1')->mget(['p1', 'p2'])->exec();
        self::assertSame([true, true, 'a', ['a', 'b']], $replies);
        $pipe = $r->pipeline();
        for ($i = 0; $i < 500; ++$i) {
            $pipe->incr('counter');
        }
        $replies = $pipe->exec();
        self::assertSame(500, end($replies));
    }

    public function testErrorsAsRedisWordsThem(): void
    {
        $r = $this->redis;
        $r->set('s', 'abc');
        self::assertFalse($r->incr('s'));
        self::assertSame('ERR value is not an integer or out of range', rtrim((string) $r->getLastError()));
        $r->clearLastError();
        self::assertFalse($r->rawCommand('NOSUCH', 'x'));
        self::assertSame("ERR unknown command 'NOSUCH', with args beginning with: 'x'", rtrim((string) $r->getLastError()));
    }
}
