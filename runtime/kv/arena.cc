#include "runtime/kv/arena.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <random>
#include <sstream>

namespace ephpm::kv {
namespace {

constexpr uint64_t kMinEntryBytes = kBlockHeaderSize + sizeof(EntryHeader);  // 48

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

uint64_t NextPow2(uint64_t x) {
  uint64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

// Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), 0 if gone.
uint64_t ProcessStartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return 0;
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

bool OwnerAlive(const ArenaHeader* h) {
  if (h->owner_pid <= 0) return false;
  if (kill(h->owner_pid, 0) != 0 && errno == ESRCH) return false;
  return ProcessStartTime(h->owner_pid) == h->owner_start_time;
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Byte layout of an arena for the given options.
struct Layout {
  uint64_t region_bytes, capacity, bucket_count;
  uint64_t shards_offset, slots_offset, buckets_offset, dense_offset, ttl_offset, regions_offset;
  uint64_t total;
};

constexpr uint64_t kHugePage = 2ull << 20;

bool ComputeLayout(const Options& o, Layout* l, std::string* error) {
  if (o.shards == 0 || o.shards > 4096 || (o.shards & (o.shards - 1)) != 0) {
    *error = "shards must be a power of two between 1 and 4096, got " + std::to_string(o.shards);
    return false;
  }
  uint64_t limit = o.memory_limit;
  if (limit == 0) {
    struct sysinfo si{};
    uint64_t half_ram = sysinfo(&si) == 0 ? uint64_t{si.totalram} * si.mem_unit / 2 : 0;
    limit = half_ram ? std::min(kUnlimitedReserve, half_ram) : kUnlimitedReserve;
  }
  l->region_bytes = std::min(limit / o.shards / kUnit * kUnit, kMaxRegionBytes);
  if (l->region_bytes >= 64 * 4096) l->region_bytes = l->region_bytes / 4096 * 4096;
  if (l->region_bytes < 4 * kMinEntryBytes) {
    *error = "memory_limit " + std::to_string(o.memory_limit) + " is too small for " +
             std::to_string(o.shards) + " shards";
    return false;
  }
  l->capacity = l->region_bytes / kMinEntryBytes + 1;
  l->bucket_count = NextPow2(std::max<uint64_t>(l->capacity / 4, 16));
  l->shards_offset = AlignUp(sizeof(ArenaHeader), 64);
  l->slots_offset = AlignUp(l->shards_offset + sizeof(Shard) * o.shards, 64);
  l->buckets_offset =
      AlignUp(l->slots_offset + sizeof(WatchSlot) * kSlotsPerShard * o.shards, kHugePage);
  l->dense_offset =
      AlignUp(l->buckets_offset + l->bucket_count * sizeof(uint32_t) * o.shards, kHugePage);
  l->ttl_offset = AlignUp(l->dense_offset + l->capacity * sizeof(uint32_t) * o.shards, 4096);
  l->regions_offset =
      AlignUp(l->ttl_offset + l->capacity * sizeof(uint32_t) * o.shards, kHugePage);
  l->total = l->regions_offset + l->region_bytes * o.shards;
  return true;
}

char* MapAnonymous(size_t size, bool shared, std::string* error) {
  int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    *error = Errno("mmap of the store arena failed");
    return nullptr;
  }
  return static_cast<char*>(p);
}

char* MapFd(int fd, size_t size, std::string* error) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) {
    *error = Errno("mmap of the named store arena failed");
    return nullptr;
  }
  return static_cast<char*>(p);
}

}  // namespace

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

int64_t CoarseMonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

std::unique_ptr<Arena> Arena::Create(Kind kind, const std::string& name, const Options& options,
                                     std::string* error) {
  Layout l;
  if (!ComputeLayout(options, &l, error)) return nullptr;
  std::unique_ptr<Arena> arena(new Arena());
  arena->kind_ = kind;
  arena->size_ = l.total;
  arena->options_ = options;
  arena->creator_pid_ = getpid();
  if (kind == Kind::kNamed) {
    int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 && errno == EEXIST) {
      std::string attach_error;
      if (auto live = Attach(name, &attach_error)) {
        *error = "store " + name + " is in use by a running process (pid " +
                 std::to_string(live->header()->owner_pid) + ")";
        return nullptr;
      }
      shm_unlink(name.c_str());  // stale: its owner is gone, or its layout is not ours
      fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    }
    if (fd < 0) {
      *error = Errno(("shm_open " + name).c_str());
      return nullptr;
    }
    if (ftruncate(fd, static_cast<off_t>(l.total)) != 0) {
      *error = Errno(("ftruncate " + name).c_str());
      close(fd);
      shm_unlink(name.c_str());
      return nullptr;
    }
    arena->base_ = MapFd(fd, l.total, error);
    close(fd);
    if (!arena->base_) {
      shm_unlink(name.c_str());
      return nullptr;
    }
    arena->name_ = name;
  } else {
    arena->base_ = MapAnonymous(l.total, kind == Kind::kShared, error);
    if (!arena->base_) return nullptr;
  }

  ArenaHeader* h = new (arena->base_) ArenaHeader();
  h->layout_version = kLayoutVersion;
  h->shard_count = options.shards;
  h->mapping_size = l.total;
  h->memory_limit = options.memory_limit;
  h->eviction_policy = static_cast<uint32_t>(options.eviction_policy);
  h->seed = std::random_device{}() | uint64_t{std::random_device{}()} << 32;
  h->owner_pid = getpid();
  h->owner_start_time = ProcessStartTime(getpid());
  h->anchor_ms = MonotonicMs();
  h->region_bytes = l.region_bytes;
  h->capacity = l.capacity;
  h->bucket_count = l.bucket_count;
  h->shards_offset = l.shards_offset;
  h->slots_offset = l.slots_offset;
  h->buckets_offset = l.buckets_offset;
  h->dense_offset = l.dense_offset;
  h->ttl_offset = l.ttl_offset;
  h->regions_offset = l.regions_offset;
  // Lookups hop from a bucket to an entry: with 4 KiB pages nearly every hop in a large store is a
  // TLB miss, which doubled the cost of a get. The buckets and the data regions therefore ask for
  // transparent huge pages (private mappings; shared memory follows the kernel's shmem setting).
  // They are still committed lazily, 2 MiB at a time; dense/TTL vectors, touched only by writes,
  // stay on small pages.
  madvise(arena->base_ + l.buckets_offset, l.dense_offset - l.buckets_offset, MADV_HUGEPAGE);
  madvise(arena->base_ + l.regions_offset, l.total - l.regions_offset, MADV_HUGEPAGE);
  h->slot_grace_ms.store(kWatchSlotGraceMs);
  for (uint32_t i = 0; i < options.shards; ++i) {
    Shard* s = new (arena->shard(i)) Shard();
    s->bucket_mask = l.bucket_count - 1;
    s->rng = h->seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
    RegionAllocator::Reset(&s->alloc, l.region_bytes);
    WatchSlot* slots = arena->slots(i);
    for (uint32_t j = 0; j < kSlotsPerShard; ++j) new (&slots[j]) WatchSlot();
  }
  h->magic = kArenaMagic;
  h->ready.store(1, std::memory_order_release);
  return arena;
}

std::unique_ptr<Arena> Arena::Attach(const std::string& name, std::string* error) {
  int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) {
    *error = errno == ENOENT ? "no running ephpm server owns store " + name
                             : Errno(("shm_open " + name).c_str());
    return nullptr;
  }
  struct stat st{};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(ArenaHeader))) {
    *error = "store " + name + " is not an ephpm store arena (too small)";
    close(fd);
    return nullptr;
  }
  size_t size = static_cast<size_t>(st.st_size);
  char* base = MapFd(fd, size, error);
  close(fd);
  if (!base) return nullptr;
  std::unique_ptr<Arena> arena(new Arena());
  arena->base_ = base;
  arena->size_ = size;
  arena->kind_ = Kind::kNamed;
  arena->name_ = name;
  arena->creator_pid_ = 0;  // attached: never unlinks
  const ArenaHeader* h = arena->header();
  if (h->magic != kArenaMagic || h->ready.load(std::memory_order_acquire) != 1) {
    *error = "store " + name + " is not an initialised ephpm store arena";
    return nullptr;
  }
  if (h->layout_version != kLayoutVersion) {
    *error = "store " + name + " has layout version " + std::to_string(h->layout_version) +
             ", this ephpm build expects " + std::to_string(kLayoutVersion) +
             "; restart the server with the same ephpm version";
    return nullptr;
  }
  if (h->mapping_size != size) {
    *error = "store " + name + " is truncated or corrupt (size mismatch)";
    return nullptr;
  }
  if (!OwnerAlive(h)) {
    *error = "store " + name + " belongs to a server that is no longer running (pid " +
             std::to_string(h->owner_pid) + ")";
    return nullptr;
  }
  arena->options_.memory_limit = h->memory_limit;
  arena->options_.eviction_policy = static_cast<EvictionPolicy>(h->eviction_policy);
  arena->options_.shards = h->shard_count;
  return arena;
}

Arena::~Arena() {
  if (base_) munmap(base_, size_);
  if (kind_ == Kind::kNamed && creator_pid_ == getpid()) shm_unlink(name_.c_str());
}

void Arena::ResetShard(uint32_t i) {
  Shard* s = shard(i);
  uint64_t touched = uint64_t{s->alloc.top} * kUnit;
  RegionAllocator::Reset(&s->alloc, header()->region_bytes);
  ReleasePages(region(i), touched, /*must_zero=*/false);
  ReleasePages(buckets(i), header()->bucket_count * sizeof(uint32_t), /*must_zero=*/true);
  s->count = 0;
  s->ttl_count = 0;
  s->used_memory = 0;
  ++s->change_seq;
  s->keys_published.store(0, std::memory_order_relaxed);
  s->used_published.store(0, std::memory_order_relaxed);
}

// Gives pages back to the kernel so an emptied shard costs no RSS. Fresh pages read as zero:
// MADV_REMOVE punches a hole in shared memory, MADV_DONTNEED drops private anonymous pages.
void Arena::ReleasePages(void* start, uint64_t bytes, bool must_zero) {
  uint64_t len = AlignUp(bytes, 4096);
  if (len == 0) return;
  if (reinterpret_cast<uintptr_t>(start) % 4096 != 0) {  // only tiny test regions
    if (must_zero) std::memset(start, 0, bytes);
    return;
  }
  int advice = kind_ == Kind::kPrivate ? MADV_DONTNEED : MADV_REMOVE;
  if (madvise(start, len, advice) != 0 && must_zero) std::memset(start, 0, bytes);
}

}  // namespace ephpm::kv
