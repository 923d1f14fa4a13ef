<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use PHPUnit\Framework\TestCase;
use Predis\Response\ServerException;

/** Predis 2 (pure-PHP client) against the listener, including its pipelines and error mapping. */
final class PredisTest extends TestCase
{
    public function testCommandsPipelineAndErrors(): void
    {
        $p = Listener::predis();
        $p->flushdb();
        self::assertSame('PONG', (string) $p->ping());
        self::assertSame('OK', (string) $p->set('k', "v\0w", 'EX', 100));
        self::assertSame("v\0w", $p->get('k'));
        self::assertSame(100, $p->ttl('k'));
        self::assertNull($p->get('missing'));
        self::assertSame(1, $p->setnx('n', '1'));
        self::assertSame(6, $p->incrby('n', 5));
        self::assertSame(['v' . "\0" . 'w', '6', null], $p->mget(['k', 'n', 'x']));
        self::assertSame(2, $p->hset('h', 'a', '1', 'b', '2'));
        self::assertSame(['a' => '1', 'b' => '2'], $p->hgetall('h'));
        self::assertSame('hash', (string) $p->type('h'));
        $replies = $p->pipeline(function ($pipe): void {
            for ($i = 0; $i < 100; ++$i) {
                $pipe->set("p$i", "v$i");
            }
            $pipe->get('p99');
        });
        self::assertSame('v99', end($replies));
        self::assertSame(103, $p->dbsize()); // k, n, h, p0..p99
        try {
            $p->get('h');
            self::fail('GET on a hash must fail');
        } catch (ServerException $e) {
            self::assertSame('WRONGTYPE', $e->getErrorType());
            self::assertSame('WRONGTYPE Operation against a key holding the wrong kind of value', $e->getMessage());
        }
    }
}
