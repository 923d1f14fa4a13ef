// The arena's layout, creation and per-shard reset. The named shared-memory object (ownership,
// page reservation, attaching and header validation) is in named_arena.cc.
#include "runtime/kv/arena.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <random>
#include <sstream>

#include "runtime/kv/compression.h"

namespace ephpm::kv {
namespace {

constexpr uint64_t kMinEntryBytes = kBlockHeaderSize + sizeof(EntryHeader);  // 48
constexpr uint64_t kHugePage = 2ull << 20;

std::atomic<EventLogFn> event_log{nullptr};

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

uint64_t NextPow2(uint64_t x) {
  uint64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

// Bytes of each shard's data region for these options (the only input of the layout besides the
// shard count). 0 when the limit is too small for the shards.
uint64_t RegionBytesFor(const Options& o) {
  uint64_t limit = o.memory_limit;
  if (limit == 0) {
    struct sysinfo si{};
    uint64_t half_ram = sysinfo(&si) == 0 ? uint64_t{si.totalram} * si.mem_unit / 2 : 0;
    limit = half_ram ? std::min(kUnlimitedReserve, half_ram) : kUnlimitedReserve;
  }
  uint64_t region = std::min(limit / o.shards / kUnit * kUnit, kMaxRegionBytes);
  if (region >= 64 * 4096) region = region / 4096 * 4096;
  return region < 4 * kMinEntryBytes ? 0 : region;
}

bool ComputeLayout(const Options& o, ArenaLayout* l, std::string* error) {
  if (o.shards == 0 || o.shards > kMaxShards || (o.shards & (o.shards - 1)) != 0) {
    *error = "shards must be a power of two between 1 and 4096, got " + std::to_string(o.shards);
    return false;
  }
  if (!LayoutFor(o.shards, RegionBytesFor(o), l)) {
    *error = "memory_limit " + std::to_string(o.memory_limit) + " is too small for " +
             std::to_string(o.shards) + " shards";
    return false;
  }
  std::string compression = CheckCompression(o);
  if (!compression.empty()) {
    *error = "compression_level: " + compression;
    return false;
  }
  return true;
}

char* MapAnonymous(size_t size, bool shared, std::string* error) {
  int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    *error = std::string("mmap of the store arena failed: ") + std::strerror(errno);
    return nullptr;
  }
  return static_cast<char*>(p);
}

}  // namespace

bool LayoutFor(uint64_t shards, uint64_t region_bytes, ArenaLayout* out) {
  if (shards == 0 || shards > kMaxShards || (shards & (shards - 1)) != 0) return false;
  if (region_bytes < 4 * kMinEntryBytes || region_bytes > kMaxRegionBytes ||
      region_bytes % kUnit != 0 || (region_bytes >= 64 * 4096 && region_bytes % 4096 != 0)) {
    return false;
  }
  ArenaLayout l;
  l.shard_count = static_cast<uint32_t>(shards);
  l.region_bytes = region_bytes;
  l.capacity = region_bytes / kMinEntryBytes + 1;
  l.bucket_count = NextPow2(std::max<uint64_t>(l.capacity / 4, 16));
  l.counters_offset = AlignUp(sizeof(ArenaHeader), 64);
  l.shards_offset = l.counters_offset + sizeof(ReadCounters) * kReadCounterSlots;
  l.slots_offset = AlignUp(l.shards_offset + sizeof(Shard) * shards, 64);
  l.buckets_offset =
      AlignUp(l.slots_offset + sizeof(WatchSlot) * kSlotsPerShard * shards, kHugePage);
  l.dense_offset =
      AlignUp(l.buckets_offset + l.bucket_count * sizeof(uint32_t) * shards, kHugePage);
  l.ttl_offset = AlignUp(l.dense_offset + l.capacity * sizeof(uint32_t) * shards, 4096);
  l.regions_offset = AlignUp(l.ttl_offset + l.capacity * sizeof(uint32_t) * shards, kHugePage);
  l.total = l.regions_offset + l.region_bytes * shards;
  *out = l;
  return true;
}

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

void SetEventLog(EventLogFn fn) { event_log.store(fn, std::memory_order_release); }

std::unique_ptr<Arena> Arena::Create(Kind kind, const std::string& name, const Options& options,
                                     std::string* error) {
  ArenaLayout l;
  if (!ComputeLayout(options, &l, error)) return nullptr;
  std::unique_ptr<Arena> arena(new Arena());
  arena->kind_ = kind;
  arena->size_ = l.total;
  arena->layout_ = l;
  arena->options_ = options;
  if (kind == Kind::kNamed) {
    arena->name_ = name;
    if (!arena->CreateNamedObject(l, error)) return nullptr;  // the name is not ours to unlink
    arena->creator_pid_ = getpid();
  } else {
    arena->base_ = MapAnonymous(l.total, kind == Kind::kShared, error);
    if (!arena->base_) return nullptr;
  }
  arena->lock_domain_ = LockDomainOf(arena->base_, kind != Kind::kPrivate);
  arena->InitHeader(l);
  return arena;
}

void Arena::InitHeader(const ArenaLayout& l) {
  ArenaHeader* h = new (base_) ArenaHeader();
  h->layout_version = kLayoutVersion;
  h->shard_count = l.shard_count;
  h->mapping_size = l.total;
  h->memory_limit = options_.memory_limit;
  h->eviction_policy = static_cast<uint32_t>(options_.eviction_policy);
  h->compression = static_cast<uint32_t>(options_.compression);
  h->compression_level = options_.compression_level;
  h->compression_min_size = options_.compression_min_size;
  h->pages_reserved = pages_reserved_ ? 1 : 0;
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
  madvise(base_ + l.buckets_offset, l.dense_offset - l.buckets_offset, MADV_HUGEPAGE);
  madvise(base_ + l.regions_offset, l.total - l.regions_offset, MADV_HUGEPAGE);
  h->slot_grace_ms.store(kWatchSlotGraceMs);
  for (uint32_t i = 0; i < kReadCounterSlots; ++i) new (read_counters(i)) ReadCounters();
  for (uint32_t i = 0; i < l.shard_count; ++i) {
    Shard* s = new (shard(i)) Shard();
    s->bucket_mask = l.bucket_count - 1;
    s->rng = h->seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
    RegionAllocator::Reset(&s->alloc, l.region_bytes);
    WatchSlot* watch = slots(i);
    for (uint32_t j = 0; j < kSlotsPerShard; ++j) new (&watch[j]) WatchSlot();
  }
  h->magic = kArenaMagic;
  h->ready.store(1, std::memory_order_release);
}

Arena::~Arena() {
  if (base_) munmap(base_, size_);
  if (kind_ == Kind::kNamed && creator_pid_ == getpid()) shm_unlink(name_.c_str());
}

void Arena::ResetShard(uint32_t i) {
  Shard* s = shard(i);
  OpenShardWrite(s);
  uint64_t touched = std::min<uint64_t>(uint64_t{s->alloc.top} * kUnit, layout_.region_bytes);
  RegionAllocator::Reset(&s->alloc, layout_.region_bytes);
  ReleasePages(region(i), touched, /*must_zero=*/false);
  ReleasePages(buckets(i), layout_.bucket_count * sizeof(uint32_t), /*must_zero=*/true);
  s->bucket_mask = layout_.bucket_count - 1;
  s->count = 0;
  s->ttl_count = 0;
  s->used_memory = 0;
  s->bytes_saved = 0;
  s->keys_published.store(0, std::memory_order_relaxed);
  s->used_published.store(0, std::memory_order_relaxed);
  s->saved_published.store(0, std::memory_order_relaxed);
  s->expires_published.store(0, std::memory_order_relaxed);
}

void Arena::ReportDiscard(uint32_t i, uint32_t dead_owner, uint64_t keys) const {
  EventLogFn log = event_log.load(std::memory_order_acquire);
  if (log == nullptr) return;
  std::string who = dead_owner == UINT32_MAX ? std::string("a corrupt lock word")
                                             : "thread " + std::to_string(dead_owner);
  log("kv: shard " + std::to_string(i) + " of " +
      (name_.empty() ? std::string("this process's store") : "store " + name_) +
      " discarded: its lock holder died (" + who + "); " + std::to_string(keys) +
      (keys == 1 ? " key" : " keys") + " lost");
}

// Gives pages back to the kernel so an emptied shard costs no RSS. Fresh pages read as zero:
// MADV_REMOVE punches a hole in shared memory, MADV_DONTNEED drops private anonymous pages.
// Not for an arena whose pages were reserved at creation (named arenas with a memory limit): a
// punched hole gives the reservation back to the tmpfs, and a later write into it could find
// /dev/shm full and die of SIGBUS. Those pages stay allocated (the reservation is the point) and
// are zeroed in place where zeros are needed.
void Arena::ReleasePages(void* start, uint64_t bytes, bool must_zero) {
  uint64_t len = AlignUp(bytes, 4096);
  if (len == 0) return;
  if (pages_reserved_ || reinterpret_cast<uintptr_t>(start) % 4096 != 0) {
    if (must_zero) std::memset(start, 0, bytes);
    return;
  }
  int advice = kind_ == Kind::kPrivate ? MADV_DONTNEED : MADV_REMOVE;
  if (madvise(start, len, advice) != 0 && must_zero) std::memset(start, 0, bytes);
}

}  // namespace ephpm::kv
