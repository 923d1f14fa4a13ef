<?php

declare(strict_types=1);

namespace Ephpm\Cache\Symfony\Tests\Support;

/**
 * A redis-server for tests: the one named by EPHPM_TEST_REDIS_PORT (started by the suite script), or a private one
 * started here on a free loopback port and stopped by pid.
 */
final class RedisServer
{
    /** @var resource|null */
    private static $process;
    private static ?int $port = null;
    private static ?string $dir = null;

    public static function port(): int
    {
        if (null !== self::$port) {
            return self::$port;
        }
        $env = getenv('EPHPM_TEST_REDIS_PORT');
        if (false !== $env && '' !== $env) {
            return self::$port = (int) $env;
        }

        $port = self::freePort();
        self::$dir = sys_get_temp_dir() . '/ephpm-redis-' . getmypid();
        @mkdir(self::$dir, 0700, true);
        $proc = proc_open(
            [
                'redis-server', '--port', (string) $port, '--bind', '127.0.0.1',
                '--save', '', '--appendonly', 'no', '--dir', self::$dir,
            ],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log = self::$dir . '/log', 'a'], 2 => ['file', $log, 'a']],
            $pipes,
        );
        if (!\is_resource($proc)) {
            throw new \RuntimeException('cannot start redis-server');
        }
        self::$process = $proc;
        register_shutdown_function([self::class, 'stop']);
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $sock = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.2);
            if (false !== $sock) {
                fclose($sock);

                return self::$port = $port;
            }
            usleep(20_000);
        }
        self::stop();

        throw new \RuntimeException('redis-server did not start: ' . @file_get_contents(self::$dir . '/log'));
    }

    public static function stop(): void
    {
        if (\is_resource(self::$process)) {
            $pid = proc_get_status(self::$process)['pid'];
            posix_kill($pid, \SIGTERM);
            proc_close(self::$process);
        }
        self::$process = null;
        self::$port = null;
        if (null !== self::$dir) {
            @unlink(self::$dir . '/log');
            @rmdir(self::$dir);
            self::$dir = null;
        }
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if (false === $server) {
            throw new \RuntimeException("no free port: $errstr");
        }
        $name = (string) stream_socket_get_name($server, false);
        fclose($server);

        return (int) substr($name, (int) strrpos($name, ':') + 1);
    }
}
