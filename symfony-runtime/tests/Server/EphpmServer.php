<?php

namespace Ephpm\SymfonyRuntime\Tests\Server;

/**
 * A real `ephpm serve` on the fixture app (tests/Fixtures/app), on a free loopback port, with its own config file in
 * a temporary directory; HTTP through PHP streams; the store read through `ephpm --config FILE php`, which attaches
 * to this server's store. stop() sends SIGTERM to the server's pid and waits for it.
 */
final class EphpmServer
{
    /** @var resource */
    private $process;
    private string $dir;
    private string $config;
    private string $log;
    private string $base;
    private ?int $exitCode = null;

    /**
     * @param 'classic'|'worker'   $mode
     * @param array<string, string> $env extra environment variables of the server
     */
    public function __construct(string $mode, array $env = [], int $workers = 1)
    {
        $this->dir = sys_get_temp_dir() . '/ephpm-symfony-runtime-' . bin2hex(random_bytes(5));
        mkdir($this->dir);
        $this->config = $this->dir . '/ephpm.toml';
        $this->log = $this->dir . '/serve.log';
        $toml = "[server]\nlisten = \"127.0.0.1:0\"\ndocument_root = \"" . self::fixtureDir() . "/public\"\n\n"
            . "[php]\nworkers = {$workers}\n";
        if ('worker' === $mode) {
            $toml .= "mode = \"worker\"\nworker_script = \"index.php\"\n";
        }
        file_put_contents($this->config, $toml);

        $process = proc_open(
            [self::binary(), 'serve', '--config', $this->config],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->log, 'w'], 2 => ['redirect', 1]],
            $pipes,
            $this->dir,
            getenv() + $env
        );
        if (!\is_resource($process)) {
            throw new \RuntimeException('cannot start ' . self::binary());
        }
        $this->process = $process;

        $deadline = microtime(true) + 60;
        while (microtime(true) < $deadline) {
            if (preg_match('~ephpm: listening on (http://127\.0\.0\.1:\d+)~', $this->output(), $m)) {
                $this->base = $m[1];

                return;
            }
            if (!proc_get_status($this->process)['running']) {
                break;
            }
            usleep(50000);
        }
        $this->stop();
        throw new \RuntimeException("ephpm serve did not start:\n" . $this->output());
    }

    public static function binary(): string
    {
        return getenv('EPHPM_BIN') ?: \dirname(__DIR__, 3) . '/build/runtime/ephpm';
    }

    public static function fixtureDir(): string
    {
        return \dirname(__DIR__) . '/Fixtures/app';
    }

    /**
     * @param array<string, string> $headers
     *
     * @return array{status: int, body: string, json: mixed}
     */
    public function request(string $path, string $method = 'GET', array $headers = [], string $body = ''): array
    {
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = "{$name}: {$value}";
        }
        $context = stream_context_create(['http' => [
            'method' => $method, 'header' => $lines, 'content' => $body, 'ignore_errors' => true, 'timeout' => 30,
        ]]);
        $response = @file_get_contents($this->base . $path, false, $context);
        $status = isset($http_response_header[0]) && preg_match('~^HTTP/\S+ (\d{3})~', $http_response_header[0], $m)
            ? (int) $m[1] : 0;

        return ['status' => $status, 'body' => (string) $response, 'json' => json_decode((string) $response, true)];
    }

    /** A value of the server's store, read by `ephpm --config FILE php` (no request to the app). */
    public function storeValue(string $key): ?string
    {
        $code = 'echo json_encode(ephpm_kv_get(' . var_export($key, true) . '));';
        $out = shell_exec(escapeshellarg(self::binary()) . ' --config ' . escapeshellarg($this->config)
            . ' php -r ' . escapeshellarg($code) . ' 2>&1');

        $value = json_decode((string) $out, true);
        if (null !== $value && !\is_string($value) && !\is_int($value)) {
            throw new \RuntimeException('unexpected store read: ' . $out);
        }

        return null === $value ? null : (string) $value;
    }

    public function output(): string
    {
        return (string) @file_get_contents($this->log);
    }

    /** SIGTERM, then the server's exit code (SIGKILL after 30 s). */
    public function stop(): int
    {
        if (null !== $this->exitCode) {
            return $this->exitCode;
        }
        $status = proc_get_status($this->process);
        if ($status['running']) {
            proc_terminate($this->process, 15);
            $deadline = microtime(true) + 30;
            while (($status = proc_get_status($this->process))['running'] && microtime(true) < $deadline) {
                usleep(20000);
            }
            if ($status['running']) {
                proc_terminate($this->process, 9);
            }
        }
        $code = $status['running'] ? -9 : $status['exitcode'];
        proc_close($this->process);
        $this->exitCode = $code;

        return $code;
    }

    public function __destruct()
    {
        $this->stop();
        @unlink($this->config);
        @unlink($this->log);
        @rmdir($this->dir);
    }
}
