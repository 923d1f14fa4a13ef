#include "runtime/kv/owner_lock.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace ephpm::kv {
namespace {

std::atomic<uint64_t> fork_generation{1};

struct ThreadIdCache {
  uint64_t generation = 0;
  uint32_t tid = 0;
};
thread_local ThreadIdCache tid_cache;

[[maybe_unused]] const int atfork_registered = pthread_atfork(
    nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });

bool ThreadAlive(uint32_t tid) {
  return tid != 0 && (kill(static_cast<pid_t>(tid), 0) == 0 || errno == EPERM);
}

}  // namespace

uint32_t CurrentThreadId() {
  uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (tid_cache.generation != generation) {
    tid_cache.tid = static_cast<uint32_t>(syscall(SYS_gettid));
    tid_cache.generation = generation;
  }
  return tid_cache.tid;
}

bool OwnerLock::LockSlow(std::atomic<uint32_t>* word) {
  uint32_t self = CurrentThreadId();
  for (int spin = 0; spin < 64; ++spin) {
    __builtin_ia32_pause();
    uint32_t expected = 0;
    if (word->load(std::memory_order_relaxed) == 0 &&
        word->compare_exchange_strong(expected, self, std::memory_order_acquire)) {
      return false;
    }
  }
  for (;;) {
    uint32_t current = word->load(std::memory_order_relaxed);
    if (current == 0) {
      // Others may still sleep on the word: keep the waiters bit so our unlock wakes them.
      if (word->compare_exchange_strong(current, self | kWaiters, std::memory_order_acquire)) {
        return false;
      }
      continue;
    }
    if (!(current & kWaiters)) {
      if (!word->compare_exchange_strong(current, current | kWaiters, std::memory_order_relaxed)) {
        continue;
      }
      current |= kWaiters;
    }
    timespec timeout{0, kDeadOwnerCheckMs * 1'000'000L};
    long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, current, &timeout,
                      nullptr, 0);
    if (rc != 0 && errno == ETIMEDOUT && !ThreadAlive(current & kTidMask)) {
      if (word->compare_exchange_strong(current, self | kWaiters, std::memory_order_acquire)) {
        return true;
      }
    }
  }
}

void OwnerLock::Wake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

void OwnerLock::AnnotateAcquired(std::atomic<uint32_t>* word) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(word);
#endif
}

void OwnerLock::AnnotateReleasing(std::atomic<uint32_t>* word) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(word);
#endif
}

}  // namespace ephpm::kv
