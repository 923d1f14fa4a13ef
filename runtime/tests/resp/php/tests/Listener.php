<?php

declare(strict_types=1);

namespace Ephpm\Resp\Tests;

use Predis\Client as PredisClient;

/** Connections to the listener under test. */
final class Listener
{
    public static function dsn(): string
    {
        return 'redis://' . getenv('REDIS_HOST') . ':' . getenv('REDIS_PORT');
    }

    public static function phpredis(): \Redis
    {
        $redis = new \Redis();
        $redis->connect((string) getenv('REDIS_HOST'), (int) getenv('REDIS_PORT'), 5.0);
        return $redis;
    }

    public static function predis(): PredisClient
    {
        return new PredisClient(['host' => getenv('REDIS_HOST'), 'port' => (int) getenv('REDIS_PORT')]);
    }
}
