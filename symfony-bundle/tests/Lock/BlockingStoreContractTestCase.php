<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Lock;

use Symfony\Component\Lock\BlockingStoreInterface;
use Symfony\Component\Lock\Key;

/**
 * The BlockingStoreInterface part of the contract, on top of StoreContractTestCase: waitAndSave() returns only once
 * it holds the resource, which another process held and released. Two real processes (pcntl_fork), each with its own
 * store object, talk over a socket pair, so the test relies on nothing but the interface and the kernel.
 */
abstract class BlockingStoreContractTestCase extends StoreContractTestCase
{
    abstract protected function createStore(): BlockingStoreInterface;

    /**
     * The child takes the lock, and only after the parent has seen save() refused does it release it. Before the
     * release it writes "releasing" to the socket: once waitAndSave() returns, that line must already be readable, so
     * a waitAndSave() that overwrote or ignored the holder's lock is caught without measuring any time.
     */
    public function testWaitAndSaveReturnsOnceAnotherProcessReleasesTheLock(): void
    {
        $resource = $this->freshResource();
        [$parentEnd, $childEnd] = stream_socket_pair(\STREAM_PF_UNIX, \STREAM_SOCK_STREAM, \STREAM_IPPROTO_IP);
        $pid = pcntl_fork();
        self::assertNotSame(-1, $pid, 'fork');
        if (0 === $pid) {
            fclose($parentEnd);
            $this->holdUntilToldThenRelease($resource, $childEnd); // never returns
        }
        fclose($childEnd);

        try {
            self::assertSame("holding\n", fgets($parentEnd), 'the child took the lock');
            $store = $this->createStore();
            $key = new Key($resource);
            $this->assertConflicts(fn () => $store->save($key));
            fwrite($parentEnd, "go\n");

            $store->waitAndSave($key);
            self::assertTrue($store->exists($key), 'waitAndSave() holds the lock when it returns');
            stream_set_blocking($parentEnd, false);
            self::assertSame("releasing\n", fgets($parentEnd), 'waitAndSave() returned only after the holder let go');
            $store->delete($key);
        } finally {
            fclose($parentEnd);
            pcntl_waitpid($pid, $status);
        }
        self::assertTrue(pcntl_wifexited($status), 'the holder exited normally');
        self::assertSame(0, pcntl_wexitstatus($status), 'the holder held the lock until it released it');
    }

    /**
     * The child's side: exit code 0 only if it got the lock, still held it after the parent's refused save() and a
     * pause that gives a faulty waitAndSave() time to return, and then released it.
     *
     * @param resource $socket
     */
    private function holdUntilToldThenRelease(string $resource, $socket): never
    {
        $code = 1;
        try {
            $store = $this->createStore();
            $key = new Key($resource);
            $store->save($key);
            fwrite($socket, "holding\n");
            if ("go\n" === fgets($socket)) {
                usleep(200_000);
                if ($store->exists($key)) {
                    fwrite($socket, "releasing\n");
                    $store->delete($key);
                    $code = 0;
                }
            }
        } finally {
            exit($code); // whatever happened: the parent reads the outcome from the exit code
        }
    }
}
