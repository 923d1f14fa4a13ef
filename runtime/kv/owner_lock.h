// OwnerLock: a process-shared lock word that survives the death of its holder.
//
// Why not a PTHREAD_MUTEX_ROBUST mutex: glibc's robust mutexes keep every held mutex on a per-thread
// list for the kernel, which made lock+unlock cost about 20 ns, a quarter of a whole get. This lock
// is one compare-and-swap to take and one exchange to release. The word holds the owner's thread id
// (bits 0-29) and a waiters bit (bit 31). A waiter that has slept kDeadOwnerCheckMs checks whether
// the owner still exists; if not, it takes the lock over and reports that the owner died, and the
// caller repairs what the owner may have left half-done (ShardLock discards the shard).
//
// "Still exists" means: a live (not zombie) thread whose process maps this very lock's memory. A
// bare "does the tid exist" test is not enough: a word holding a foreign thread's id (a corrupt
// arena, or an id reused by an unrelated process) would then block every locker for as long as
// that foreign thread lives. The mapping is identified by the device and inode the kernel shows
// in /proc/<pid>/maps (the shm object of a named arena, the shmem inode of an anonymous shared
// one, inherited across fork); /proc/<tid>/status gives the thread's process. This check runs
// only on the slow path, after a waiter slept kDeadOwnerCheckMs. Where /proc cannot be read at
// all the rule falls back to "the tid exists", and for a private arena (one process) to "the tid
// is a thread of this process".
// Cost of the design: a dead owner is noticed after ~kDeadOwnerCheckMs, not at once, and a thread
// id reused within that window by a new process that maps the same arena would look alive (pid_max
// makes that vanishingly rare).
#ifndef EPHPM_RUNTIME_KV_OWNER_LOCK_H_
#define EPHPM_RUNTIME_KV_OWNER_LOCK_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace ephpm::kv {

inline constexpr int kDeadOwnerCheckMs = 20;

// Which mapping a lock word lives in, for the dead-owner rule.
struct LockDomain {
  enum class Kind { kThisProcess, kMapping, kAnyThread };
  Kind kind = Kind::kThisProcess;
  uint64_t dev_major = 0, dev_minor = 0, inode = 0;  // kMapping: as in /proc/<pid>/maps
};

// The domain of the mapping that contains `address` (this process's /proc/self/maps).
// `shared` = false: a private mapping, only this process's threads can own its locks.
LockDomain LockDomainOf(const void* address, bool shared);

// Whether thread `tid` is alive and its process maps `domain` (the dead-owner rule above).
bool OwnerAlive(uint32_t tid, const LockDomain& domain);

// The calling thread's kernel thread id, cached (and refreshed after fork).
uint32_t CurrentThreadId();

class OwnerLock {
 public:
  // Returns the thread id of a dead owner the lock was taken over from (UINT32_MAX when the word
  // held no thread id at all), 0 when the lock was free or released normally.
  static uint32_t Lock(std::atomic<uint32_t>* word, const LockDomain& domain) {
    uint32_t expected = 0;
    uint32_t dead_owner = 0;
    if (!word->compare_exchange_strong(expected, CurrentThreadId(), std::memory_order_acquire)) {
      dead_owner = LockSlow(word, domain);
    }
    AnnotateAcquired(word);
    return dead_owner;
  }

  // Takes the lock only if it is free at once (never waits, never takes over a dead owner's).
  static bool TryLock(std::atomic<uint32_t>* word) {
    uint32_t expected = 0;
    if (word->load(std::memory_order_relaxed) != 0 ||
        !word->compare_exchange_strong(expected, CurrentThreadId(), std::memory_order_acquire)) {
      return false;
    }
    AnnotateAcquired(word);
    return true;
  }

  static void Unlock(std::atomic<uint32_t>* word) {
    AnnotateReleasing(word);
    if (word->exchange(0, std::memory_order_release) & kWaiters) Wake(word);
  }

 private:
  static constexpr uint32_t kWaiters = 1u << 31;
  static constexpr uint32_t kTidMask = (1u << 30) - 1;

  static uint32_t LockSlow(std::atomic<uint32_t>* word, const LockDomain& domain);
  static void Wake(std::atomic<uint32_t>* word);
  static void AnnotateAcquired(std::atomic<uint32_t>* word);
  static void AnnotateReleasing(std::atomic<uint32_t>* word);
};

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_OWNER_LOCK_H_
