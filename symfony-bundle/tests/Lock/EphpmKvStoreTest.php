<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Lock;

use Ephpm\Bundle\Lock\EphpmKvStore;
use Symfony\Component\Lock\Exception\InvalidTtlException;
use Symfony\Component\Lock\Exception\LockAcquiringException;
use Symfony\Component\Lock\Exception\LockConflictedException;
use Symfony\Component\Lock\Key;
use Symfony\Component\Lock\LockFactory;

/**
 * The Symfony Lock store contract (BlockingStoreContractTestCase) against the real store, plus what is specific to
 * ephpm: wake-up on release, take-over after a killed holder's TTL, cancellation, tokens.
 */
final class EphpmKvStoreTest extends BlockingStoreContractTestCase
{
    protected function createStore(): EphpmKvStore
    {
        return new EphpmKvStore();
    }

    /** The store's TTLs are whole seconds. */
    protected function expiryUnit(): float
    {
        return 1.0;
    }

    public function testConstructorRejectsNonPositiveTtl(): void
    {
        $this->expectException(InvalidTtlException::class);
        new EphpmKvStore(0.0);
    }

    public function testKeyLayoutAndPrefix(): void
    {
        $store = new EphpmKvStore(30.0, 'app1:');
        $key = new Key('report');
        $store->save($key);
        $token = ephpm_kv_get('app1:report');
        $this->assertIsString($token);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $token);
        $this->assertSame(30, ephpm_kv_ttl('app1:report'));
        $this->assertFalse(ephpm_kv_exists('lock:report'));
        $store->delete($key);
        $this->assertFalse(ephpm_kv_exists('app1:report'));
    }

    public function testDeleteNeverFreesAnotherHoldersLock(): void
    {
        $store = $this->createStore();
        $resource = uniqid(__METHOD__, true);
        $mine = new Key($resource);
        $store->save($mine);
        // My lock expired and someone else took it.
        ephpm_kv_del('lock:' . $resource);
        $theirs = new Key($resource);
        $store->save($theirs);
        $store->delete($mine);
        $this->assertTrue($store->exists($theirs));
        $this->assertFalse($store->exists($mine));
        $this->expectException(LockConflictedException::class);
        $store->putOffExpiration($mine, 10);
    }

    public function testPutOffExpirationRetakesAFreeLockAndExtendsOwnLock(): void
    {
        $store = $this->createStore();
        $key = new Key(uniqid(__METHOD__, true));
        $store->save($key);
        $store->putOffExpiration($key, 100);
        $this->assertSame(100, ephpm_kv_ttl('lock:' . $key));
        ephpm_kv_del('lock:' . $key); // expired, nobody took it
        $store->putOffExpiration($key, 5);
        $this->assertTrue($store->exists($key));
        $this->assertSame(5, ephpm_kv_ttl('lock:' . $key));
    }

    public function testSubSecondTtlRoundsUpInTheStoreOnly(): void
    {
        $store = $this->createStore();
        $key = new Key(uniqid(__METHOD__, true));
        $store->save($key);
        $store->putOffExpiration($key, 0.3);
        $this->assertSame(1, ephpm_kv_ttl('lock:' . $key));
        $this->assertLessThanOrEqual(0.3, $key->getRemainingLifetime());
    }

    public function testBlockingAcquireIsWokenByTheRelease(): void
    {
        $resource = uniqid(__METHOD__, true);
        $pid = $this->fork(function () use ($resource): int {
            $store = new EphpmKvStore();
            $store->save($key = new Key($resource));
            ephpm_kv_set($resource . ':child', 'holding');
            usleep(300_000);
            ephpm_kv_set($resource . ':released_at', (string) hrtime(true));
            $store->delete($key);

            return 0;
        });
        $this->waitFor($resource . ':child');
        $store = $this->createStore();
        $key = new Key($resource);
        $store->waitAndSave($key);
        $acquiredAt = hrtime(true);
        $this->assertTrue($store->exists($key));
        $releasedAt = (int) ephpm_kv_get($resource . ':released_at');
        $this->assertGreaterThan(0, $releasedAt, 'acquired only after the holder released');
        $this->assertGreaterThanOrEqual($releasedAt, $acquiredAt);
        $store->delete($key);
        $this->assertSame(0, $this->reap($pid));
    }

    public function testBlockingAcquireTakesOverAfterAKilledHoldersTtl(): void
    {
        $resource = uniqid(__METHOD__, true);
        $pid = $this->fork(function () use ($resource): int {
            (new EphpmKvStore(1.0))->save(new Key($resource));
            ephpm_kv_set($resource . ':child', 'holding');
            posix_kill(getmypid(), \SIGKILL);

            return 1;
        });
        $this->assertSame(128 + \SIGKILL, $this->reap($pid));
        $this->assertTrue(ephpm_kv_exists('lock:' . $resource), 'the dead holder\'s lock is still there');
        $store = $this->createStore();
        $key = new Key($resource);
        $store->waitAndSave($key);
        $this->assertTrue($store->exists($key));
        $store->delete($key);
    }

    /**
     * Needs the test build (`ephpm-test-hooks php`): suite 55 runs the group "hooks" there, the rest under `ephpm`.
     *
     * @group hooks
     */
    public function testCancelledWaitThrows(): void
    {
        $this->assertTrue(\function_exists('ephpm_test_cancel_waits_after'), 'run under build/runtime/ephpm-test-hooks (cancels waits)');
        $resource = uniqid(__METHOD__, true);
        ephpm_kv_set('lock:' . $resource, 'someone-else', 60);
        ephpm_test_cancel_waits_after(100);
        try {
            $this->expectException(LockAcquiringException::class);
            $this->createStore()->waitAndSave(new Key($resource));
        } finally {
            ephpm_test_reset_wait_cancel();
            $this->assertSame('someone-else', ephpm_kv_get('lock:' . $resource));
        }
    }

    public function testLockFactoryMutualExclusionAcrossProcesses(): void
    {
        $resource = uniqid(__METHOD__, true);
        $counter = $resource . ':counter';
        ephpm_kv_set($counter, '0');
        $inside = $resource . ':inside';
        $work = function () use ($resource, $counter, $inside): int {
            $factory = new LockFactory(new EphpmKvStore());
            for ($i = 0; $i < 50; ++$i) {
                $lock = $factory->createLock($resource);
                $lock->acquire(true);
                if (1 !== ephpm_kv_incr($inside)) {
                    return 3; // two holders at once
                }
                $n = (int) ephpm_kv_get($counter);
                usleep(100);
                ephpm_kv_set($counter, (string) ($n + 1));
                ephpm_kv_decr($inside);
                $lock->release();
            }

            return 0;
        };
        $pids = [$this->fork($work), $this->fork($work), $this->fork($work)];
        foreach ($pids as $pid) {
            $this->assertSame(0, $this->reap($pid));
        }
        $this->assertSame('150', ephpm_kv_get($counter));
    }

    /** @param callable(): int $fn */
    private function fork(callable $fn): int
    {
        $pid = pcntl_fork();
        $this->assertNotSame(-1, $pid);
        if (0 === $pid) {
            $code = 1;
            try {
                $code = $fn();
            } finally {
                exit($code);
            }
        }

        return $pid;
    }

    private function reap(int $pid): int
    {
        pcntl_waitpid($pid, $status);
        return pcntl_wifsignaled($status) ? 128 + pcntl_wtermsig($status) : pcntl_wexitstatus($status);
    }

    private function waitFor(string $flag): void
    {
        $deadline = microtime(true) + 10;
        while (null === ephpm_kv_get($flag) && microtime(true) < $deadline) {
            usleep(1000);
        }
        $this->assertNotNull(ephpm_kv_get($flag), "child signalled $flag");
    }
}
