#include "runtime/kv/owner_lock.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

bool TidExists(uint32_t tid) {
  return kill(static_cast<pid_t>(tid), 0) == 0 || errno == EPERM;
}

// A line of /proc/<pid>/maps: "start-end perms offset major:minor inode path".
struct MapsLine {
  unsigned long start = 0, end = 0;
  unsigned long major = 0, minor = 0, inode = 0;
};

bool ParseMapsLine(const char* line, MapsLine* out) {
  char perms[8];
  unsigned long offset;
  return std::sscanf(line, "%lx-%lx %7s %lx %lx:%lx %lu", &out->start, &out->end, perms, &offset,
                     &out->major, &out->minor, &out->inode) == 7;
}

// Calls fn(line) for each line of /proc/<pid>/maps until it returns true. false if unreadable.
template <typename Fn>
bool ScanMaps(const char* path, Fn fn, bool* found) {
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return false;
  char* buf = nullptr;
  size_t cap = 0;
  *found = false;
  MapsLine m;
  while (!*found && getline(&buf, &cap, f) > 0) {
    if (ParseMapsLine(buf, &m) && fn(m)) *found = true;
  }
  std::free(buf);
  std::fclose(f);
  return true;
}

// The process (thread group) of a live, non-zombie thread; 0 when there is none.
pid_t ThreadGroupOf(uint32_t tid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/status", tid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return 0;
  char line[256];
  pid_t tgid = 0;
  bool zombie = false;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, "State:", 6) == 0) {
      const char* p = line + 6;
      while (*p == ' ' || *p == '\t') ++p;
      zombie = *p == 'Z' || *p == 'X';
    } else if (std::strncmp(line, "Tgid:", 5) == 0) {
      tgid = static_cast<pid_t>(std::strtol(line + 5, nullptr, 10));
      break;  // State comes before Tgid
    }
  }
  std::fclose(f);
  return zombie ? 0 : tgid;
}

}  // namespace

LockDomain LockDomainOf(const void* address, bool shared) {
  LockDomain d;
  if (!shared) return d;  // kThisProcess
  d.kind = LockDomain::Kind::kAnyThread;
  auto at = reinterpret_cast<unsigned long>(address);
  MapsLine hit;
  bool found = false;
  if (ScanMaps("/proc/self/maps",
               [&](const MapsLine& m) {
                 hit = m;
                 return m.start <= at && at < m.end;
               },
               &found) &&
      found && hit.inode != 0) {
    d.kind = LockDomain::Kind::kMapping;
    d.dev_major = hit.major;
    d.dev_minor = hit.minor;
    d.inode = hit.inode;
  }
  return d;
}

bool OwnerAlive(uint32_t tid, const LockDomain& domain) {
  if (tid == 0) return false;
  if (domain.kind == LockDomain::Kind::kAnyThread) return TidExists(tid);
  pid_t tgid = ThreadGroupOf(tid);
  if (tgid == 0) return false;
  if (tgid == getpid()) return true;  // our own threads map every arena we use
  if (domain.kind == LockDomain::Kind::kThisProcess) return false;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/maps", static_cast<int>(tgid));
  bool maps_it = false;
  // Unreadable maps: a process of another user (ptrace rules), which cannot map a 0600 arena.
  ScanMaps(path,
           [&](const MapsLine& m) {
             return m.inode == domain.inode && m.major == domain.dev_major &&
                    m.minor == domain.dev_minor;
           },
           &maps_it);
  return maps_it;
}

uint32_t CurrentThreadId() {
  uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (tid_cache.generation != generation) {
    tid_cache.tid = static_cast<uint32_t>(syscall(SYS_gettid));
    tid_cache.generation = generation;
  }
  return tid_cache.tid;
}

uint32_t OwnerLock::LockSlow(std::atomic<uint32_t>* word, const LockDomain& domain) {
  uint32_t self = CurrentThreadId();
  for (int spin = 0; spin < 64; ++spin) {
    __builtin_ia32_pause();
    uint32_t expected = 0;
    if (word->load(std::memory_order_relaxed) == 0 &&
        word->compare_exchange_strong(expected, self, std::memory_order_acquire)) {
      return 0;
    }
  }
  for (;;) {
    uint32_t current = word->load(std::memory_order_relaxed);
    if (current == 0) {
      // Others may still sleep on the word: keep the waiters bit so our unlock wakes them.
      if (word->compare_exchange_strong(current, self | kWaiters, std::memory_order_acquire)) {
        return 0;
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
    if (rc != 0 && errno == ETIMEDOUT && !OwnerAlive(current & kTidMask, domain)) {
      if (word->compare_exchange_strong(current, self | kWaiters, std::memory_order_acquire)) {
        uint32_t owner = current & kTidMask;
        return owner != 0 ? owner : UINT32_MAX;  // a word with no thread id in it: corrupt
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
