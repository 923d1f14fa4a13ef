<?php
// Sessions and locks on ephpm vs Redis (phpredis) vs files/flock, under `ephpm php` (run by run.sh, which starts
// redis-server). Prints one JSON object: per case the median µs per operation over BENCH_RUNS runs, and the
// hand-over latencies measured by handover().
//
//   session start+write: session_id(); session_start(); $_SESSION['n'] = $i; session_write_close();  (one session,
//                        a ~600-byte payload, lazy_write on, gc off)
//   lock acquire+release: Symfony LockFactory::createLock('r')->acquire() + release(), per store
//   hand-over: two processes pass one blocking lock back and forth; latency = the waiter's acquire() return minus
//              the holder's release() call (hrtime, CLOCK_MONOTONIC, comparable across processes)

declare(strict_types=1);

use Ephpm\Bundle\Lock\EphpmKvStore;
use Symfony\Component\Lock\LockFactory;
use Symfony\Component\Lock\Store\FlockStore;
use Symfony\Component\Lock\Store\RedisStore;

require getenv('BUNDLE_AUTOLOAD');

$runs = (int) (getenv('BENCH_RUNS') ?: 5);
$seconds = (float) (getenv('BENCH_TIME') ?: 0.5);
$redisPort = (int) getenv('REDIS_PORT');
$tmp = getenv('BENCH_TMP');

function median(array $xs): float
{
    sort($xs);
    $n = count($xs);
    return $n % 2 ? $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

function percentile(array $xs, float $p): float
{
    sort($xs);
    return $xs[min(count($xs) - 1, (int) floor($p * count($xs)))];
}

/** µs per session start + write with the given save handler settings; each run lasts $seconds. */
function session_case(array $ini, float $seconds, int $runs): array
{
    foreach ($ini + ['session.use_cookies' => '0', 'session.cache_limiter' => '', 'session.gc_probability' => '0',
                     'session.lazy_write' => '1'] as $k => $v) {
        if (ini_set($k, (string) $v) === false) {
            throw new RuntimeException("ini_set($k, $v) failed");
        }
    }
    $id = 'bench' . bin2hex(random_bytes(8));
    session_id($id);
    session_start();
    $_SESSION = ['user' => ['id' => 42, 'name' => 'Ada Lovelace', 'roles' => ['ROLE_USER', 'ROLE_ADMIN']],
                 'cart' => array_fill(0, 20, ['sku' => 'ABC-123', 'qty' => 1]), 'n' => 0];
    session_write_close();
    $samples = [];
    $n = 0;
    for ($r = 0; $r < $runs; $r++) {
        $t0 = hrtime(true);
        $end = $t0 + (int) ($seconds * 1e9);
        $i = 0;
        do {
            session_id($id);
            session_start();
            $_SESSION['n'] = $i++;
            session_write_close();
        } while (hrtime(true) < $end);
        $samples[] = (hrtime(true) - $t0) / 1e3 / $i;
        $n += $i;
    }
    session_id($id);
    session_start();
    session_destroy();
    return ['us' => median($samples), 'min' => min($samples), 'max' => max($samples), 'n' => $n];
}

/** µs per Symfony lock acquire + release; each run lasts $seconds. */
function lock_case(LockFactory $factory, float $seconds, int $runs): array
{
    $samples = [];
    $n = 0;
    for ($r = 0; $r < $runs; $r++) {
        $t0 = hrtime(true);
        $end = $t0 + (int) ($seconds * 1e9);
        $i = 0;
        do {
            $lock = $factory->createLock('bench-resource');
            $lock->acquire();
            $lock->release();
            $i++;
        } while (hrtime(true) < $end);
        $samples[] = (hrtime(true) - $t0) / 1e3 / $i;
        $n += $i;
    }
    return ['us' => median($samples), 'min' => min($samples), 'max' => max($samples), 'n' => $n];
}

/**
 * Two forked processes pass a blocking lock back and forth. Round r is acquired by process r % 2 while the other
 * holds it; the holder releases 3 ms after the waiter announced itself (so the waiter is really blocked).
 * Coordination goes through the ephpm store, outside the measured interval.
 *
 * @param callable(): LockFactory $makeFactory called in each process (connections are per process)
 * @return array{median_us: float, p90_us: float, rounds: int}
 */
function handover(callable $makeFactory, int $rounds, string $name): array
{
    $ns = "handover:$name:" . bin2hex(random_bytes(4)) . ':';
    $pids = [];
    for ($p = 0; $p < 2; $p++) {
        $pid = pcntl_fork();
        if ($pid === 0) {
            $code = 0;
            try {
                $factory = $makeFactory();
                $lock = $factory->createLock($ns . 'lock', 300.0, false);
                for ($r = $p; $r < $rounds; $r += 2) {
                    // Wait until the other process holds the lock (it acquired round r - 1), then queue up.
                    while ($r > 0 && ephpm_kv_get($ns . 't1:' . ($r - 1)) === null) {
                        usleep(50);
                    }
                    ephpm_kv_set($ns . 'waiting', (string) $r);
                    $lock->acquire(true);
                    ephpm_kv_set($ns . "t1:$r", (string) hrtime(true));
                    if ($r + 1 < $rounds) {
                        while (ephpm_kv_get($ns . 'waiting') !== (string) ($r + 1)) {
                            usleep(50);
                        }
                        usleep(3000);
                        ephpm_kv_set($ns . 't0:' . ($r + 1), (string) hrtime(true));
                    }
                    $lock->release();
                }
            } catch (Throwable $e) {
                fwrite(STDERR, "handover $name: " . $e->getMessage() . ($e->getPrevious() ? " (" . $e->getPrevious()->getMessage() . ")" : "") . "\n");
                $code = 1;
            }
            exit($code);
        }
        $pids[] = $pid;
        if ($p === 0) {
            while (ephpm_kv_get($ns . 't1:0') === null) {  // process 0 holds the lock first
                usleep(100);
            }
        }
    }
    foreach ($pids as $pid) {
        pcntl_waitpid($pid, $status);
        if (pcntl_wexitstatus($status) !== 0) {
            throw new RuntimeException("handover $name: a process failed");
        }
    }
    $lat = [];
    for ($r = 1; $r < $rounds; $r++) {
        $lat[] = ((int) ephpm_kv_get($ns . "t1:$r") - (int) ephpm_kv_get($ns . "t0:$r")) / 1e3;
    }
    return ['median_us' => median($lat), 'p90_us' => percentile($lat, 0.9), 'rounds' => count($lat)];
}

/** The same protocol with the bare functions and no Symfony: what the store's wake-up itself costs. */
final class RawKvLock
{
    private string $token;

    public function __construct(private readonly string $key)
    {
        $this->token = bin2hex(random_bytes(16));
    }

    public function acquire(bool $blocking): bool
    {
        while (!ephpm_kv_setnx($this->key, $this->token, 300)) {
            $w = ephpm_kv_wait($this->key, 0, 0);
            if ($w !== false && $w['value'] !== null) {
                ephpm_kv_wait($this->key, $w['version'], max(1, ephpm_kv_pttl($this->key)));
            }
        }
        return true;
    }

    public function release(): void
    {
        ephpm_kv_del_if_eq($this->key, $this->token);
    }
}

/** A session as the lock: acquire = session_start() (waits for the native handler's session lock), release = close. */
final class SessionAsLock
{
    public function __construct(private readonly string $id)
    {
    }

    public function acquire(bool $blocking): bool
    {
        session_id($this->id);
        return session_start();
    }

    public function release(): void
    {
        session_write_close();
    }
}

$sessionFactory = function () {
    ini_set('session.save_handler', 'ephpm');
    return new class () {
        public function createLock(string $resource, float $ttl, bool $autoRelease): SessionAsLock
        {
            return new SessionAsLock(substr(hash('sha256', $resource), 0, 32));
        }
    };
};

$rawFactory = fn () => new class () {
    public function createLock(string $resource, float $ttl, bool $autoRelease): RawKvLock
    {
        return new RawKvLock($resource);
    }
};

$out = ['runs' => $runs, 'seconds' => $seconds, 'symfony_lock' => Composer\InstalledVersions::getPrettyVersion('symfony/lock'),
        'load_before' => sys_getloadavg()];

// --- sessions --------------------------------------------------------------------------------------------------
$redisPath = "tcp://127.0.0.1:$redisPort";
$out['session'] = [
    'ephpm' => session_case(['session.save_handler' => 'ephpm'], $seconds, $runs),
    'redis' => session_case(['session.save_handler' => 'redis', 'session.save_path' => $redisPath,
                             'redis.session.locking_enabled' => '0'], $seconds, $runs),
    'redis_locking' => session_case(['session.save_handler' => 'redis', 'session.save_path' => $redisPath,
                                     'redis.session.locking_enabled' => '1'], $seconds, $runs),
    'files' => session_case(['session.save_handler' => 'files', 'session.save_path' => "$tmp/sessions"], $seconds, $runs),
];

// --- locks -------------------------------------------------------------------------------------------------------
$redis = new Redis();
$redis->connect('127.0.0.1', $redisPort);
$out['lock'] = [
    'ephpm' => lock_case(new LockFactory(new EphpmKvStore()), $seconds, $runs),
    'redis' => lock_case(new LockFactory(new RedisStore($redis)), $seconds, $runs),
    'flock' => lock_case(new LockFactory(new FlockStore("$tmp/locks")), $seconds, $runs),
];
$redis->close();

// --- blocking hand-over between processes ------------------------------------------------------------------------
$out['handover'] = [
    'raw' => handover($rawFactory, 201, 'raw'),
    'session' => handover($sessionFactory, 201, 'session'),
    'ephpm' => handover(fn () => new LockFactory(new EphpmKvStore()), 201, 'ephpm'),
    'flock' => handover(fn () => new LockFactory(new FlockStore("$tmp/locks")), 201, 'flock'),
    'redis' => handover(function () use ($redisPort) {
        $r = new Redis();
        $r->connect('127.0.0.1', $redisPort);
        return new LockFactory(new RedisStore($r));
    }, 21, 'redis'),
];

$out['load_after'] = sys_getloadavg();
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
