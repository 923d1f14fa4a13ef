<?php

declare(strict_types=1);

namespace Ephpm\Bundle\Tests\Lock;

use PHPUnit\Framework\TestCase;
use Symfony\Component\Lock\Exception\LockConflictedException;
use Symfony\Component\Lock\Exception\LockExpiredException;
use Symfony\Component\Lock\Key;
use Symfony\Component\Lock\PersistingStoreInterface;

/**
 * What Symfony Lock expects of any PersistingStoreInterface, written from its documentation and its Lock class (the
 * store's only caller): a resource is held by at most one Key at a time, a Key's own save and delete affect nothing
 * else, putOffExpiration both sets the store's TTL and bounds the Key's lifetime, and a Key whose lifetime ran out
 * while it was being stored is refused (LockExpiredException) and leaves the resource free.
 *
 * Symfony's own store tests are not shipped in its Packagist archives, so a store of ours is held to the contract
 * here. Only the interface is used: a store-specific test extends this class and adds its own cases.
 */
abstract class StoreContractTestCase extends TestCase
{
    /** A new store; every call of one test must reach the same locks. */
    abstract protected function createStore(): PersistingStoreInterface;

    /**
     * The smallest TTL the store keeps exactly, in seconds. The expiry tests sleep in multiples of it with a whole
     * unit of margin on each side of an expiry, so they never depend on how fast the machine is.
     */
    abstract protected function expiryUnit(): float;

    /** A resource name no other test (or earlier run against the same store) uses. */
    protected function freshResource(): string
    {
        return static::class . ':' . $this->getName(false) . ':' . bin2hex(random_bytes(8));
    }

    // --- holding and releasing ---------------------------------------------------------------------------------

    public function testSavedKeyExistsUntilDeleted(): void
    {
        $store = $this->createStore();
        $key = new Key($this->freshResource());

        self::assertFalse($store->exists($key), 'a key never saved is not held');
        $store->save($key);
        self::assertTrue($store->exists($key), 'saved');
        $store->delete($key);
        self::assertFalse($store->exists($key), 'deleted');
    }

    public function testLocksOnDifferentResourcesAreIndependent(): void
    {
        $store = $this->createStore();
        $report = new Key($this->freshResource());
        $invoice = new Key($this->freshResource());

        $store->save($report);
        self::assertSame([true, false], [$store->exists($report), $store->exists($invoice)]);
        $store->save($invoice); // no conflict: another resource
        self::assertSame([true, true], [$store->exists($report), $store->exists($invoice)]);
        $store->delete($report);
        self::assertSame([false, true], [$store->exists($report), $store->exists($invoice)]);
        $store->delete($invoice);
        self::assertSame([false, false], [$store->exists($report), $store->exists($invoice)]);
    }

    public function testSecondKeyOnAHeldResourceConflictsUntilTheHolderReleases(): void
    {
        $store = $this->createStore();
        $resource = $this->freshResource();
        $holder = new Key($resource);
        $contender = new Key($resource);

        $store->save($holder);
        self::assertFalse($store->exists($contender), 'the same resource name is not the same lock');
        $this->assertConflicts(fn () => $store->save($contender));
        self::assertTrue($store->exists($holder), 'a refused save leaves the holder in place');
        self::assertFalse($store->exists($contender), 'a refused save does not half-acquire');

        $store->delete($holder);
        self::assertSame([false, false], [$store->exists($holder), $store->exists($contender)]);
        $store->save($contender); // free again: the contender gets it
        self::assertSame([false, true], [$store->exists($holder), $store->exists($contender)]);
        $this->assertConflicts(fn () => $store->save($holder));
        $store->delete($contender);
        self::assertSame([false, false], [$store->exists($holder), $store->exists($contender)]);
    }

    public function testSavingTheHeldKeyAgainSucceedsAndKeepsIt(): void
    {
        $store = $this->createStore();
        $resource = $this->freshResource();
        $key = new Key($resource);

        $store->save($key);
        $store->save($key); // Lock::acquire() may be called again by the holder
        self::assertTrue($store->exists($key));
        $this->assertConflicts(fn () => $store->save(new Key($resource)));
        $store->delete($key);
        self::assertFalse($store->exists($key));
    }

    public function testDeletingAKeyThatIsNotHeldTouchesNoOtherLock(): void
    {
        $store = $this->createStore();
        $resource = $this->freshResource();
        $held = new Key($resource);
        $elsewhere = new Key($this->freshResource());
        $sameResource = new Key($resource);

        $store->save($held);
        $store->delete($elsewhere); // never saved, another resource
        self::assertTrue($store->exists($held), 'a delete on another resource');
        self::assertFalse($store->exists($elsewhere));
        $store->delete($sameResource); // never saved, same resource: Lock::release() of a lock it lost
        self::assertTrue($store->exists($held), 'a delete by a key that does not hold the resource');
        self::assertFalse($store->exists($sameResource));
        $store->delete($held);
    }

    // --- expiry --------------------------------------------------------------------------------------------------

    public function testLockIsGoneOnceItsTtlRunsOutAndTheResourceIsFree(): void
    {
        $unit = $this->expiryUnit();
        $store = $this->createStore();
        $resource = $this->freshResource();
        $key = new Key($resource);

        $store->save($key);
        $store->putOffExpiration($key, 2 * $unit);
        self::assertTrue($store->exists($key), 'held within its TTL');
        $this->sleepUnits(3);
        self::assertFalse($store->exists($key), 'expired one unit after its TTL');
        $next = new Key($resource);
        $store->save($next); // would conflict if the expired lock still held the resource
        self::assertTrue($store->exists($next));
        $store->delete($next);
    }

    public function testRefreshingBeforeTheTtlRunsOutKeepsTheLockUntilTheNewTtl(): void
    {
        $unit = $this->expiryUnit();
        $store = $this->createStore();
        $resource = $this->freshResource();
        $key = new Key($resource);

        $store->save($key);
        $store->putOffExpiration($key, $unit); // would expire after one unit...
        // ...but is refreshed the way Lock::refresh() does it: the Key's lifetime reset, then a new TTL.
        $key->resetLifetime();
        $store->putOffExpiration($key, 3 * $unit);
        $this->sleepUnits(2);
        self::assertTrue($store->exists($key), 'the refresh moved the expiry from 1 to 3 units');
        $this->assertConflicts(fn () => $store->save(new Key($resource)));
        $this->sleepUnits(2);
        self::assertFalse($store->exists($key), 'and the new TTL runs out in its turn');
    }

    public function testPutOffExpirationBoundsTheKeysRemainingLifetime(): void
    {
        $store = $this->createStore();
        $key = new Key($this->freshResource());

        $store->save($key);
        $store->putOffExpiration($key, 1.0);
        $remaining = $key->getRemainingLifetime();
        self::assertNotNull($remaining, 'the Key knows when its lock ends');
        self::assertGreaterThanOrEqual(0.0, $remaining);
        self::assertLessThanOrEqual(1.0, $remaining);
        $store->delete($key);
    }

    public function testPutOffExpirationWithATtlThatRunsOutMeanwhileThrowsExpiredAndReleases(): void
    {
        $store = $this->createStore();
        $resource = $this->freshResource();
        $key = new Key($resource);

        $store->save($key);
        try {
            $store->putOffExpiration($key, 0.000001); // one microsecond: over before the store call returns
            self::fail('putOffExpiration() kept a lock whose TTL ran out during the call');
        } catch (LockExpiredException) {
        }
        self::assertFalse($store->exists($key), 'the expired lock was removed, not left until the store\'s TTL');
        $store->save($other = new Key($resource));
        $store->delete($other);
    }

    public function testSavingAKeyWhoseLifetimeIsOverThrowsExpiredAndLeavesTheResourceFree(): void
    {
        $store = $this->createStore();
        $resource = $this->freshResource();
        $stale = new Key($resource);
        $stale->reduceLifetime(0);
        self::assertTrue($stale->isExpired());

        try {
            $store->save($stale);
            self::fail('save() stored a Key whose lifetime was already over');
        } catch (LockExpiredException) {
        }
        self::assertFalse($store->exists($stale));
        $next = new Key($resource);
        $store->save($next); // would conflict if the stale key had been left in the store
        self::assertTrue($store->exists($next));
        $store->delete($next);
    }

    protected function sleepUnits(int $units): void
    {
        usleep((int) round($units * $this->expiryUnit() * 1_000_000));
    }

    /** @param callable(): void $save */
    protected function assertConflicts(callable $save): void
    {
        try {
            $save();
        } catch (LockConflictedException) {
            $this->addToAssertionCount(1);

            return;
        }
        self::fail('the store let a second Key take a held resource');
    }
}
