// The arena: one mapping holding the whole store, laid out identically in every process.
//
//   [ArenaHeader][ReadCounters x kReadCounterSlots][Shard x N][WatchSlot x N*kSlotsPerShard]
//   [buckets: shard 0..N-1][dense vectors: 0..N-1][TTL vectors: 0..N-1][data regions: 0..N-1]
//
// Everything inside refers to everything else by offset, never by pointer, because each process
// maps the arena at its own address. Each shard owns its index and its data region outright, so a
// shard lock guards everything a keyed operation touches, and a shard whose lock holder died can be
// discarded on its own (reset its allocator and index) without touching any other shard.
#ifndef EPHPM_RUNTIME_KV_ARENA_H_
#define EPHPM_RUNTIME_KV_ARENA_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/kv/allocator.h"
#include "runtime/kv/options.h"
#include "runtime/kv/owner_lock.h"

namespace ephpm::kv {

inline constexpr uint64_t kArenaMagic = 0x31414e4552414b45ull;  // "EKARENA1"
inline constexpr uint32_t kLayoutVersion = 6;
inline constexpr uint32_t kReadCounterSlots = 64;
inline constexpr uint32_t kSlotsPerShard = 64;
inline constexpr uint64_t kMaxRegionBytes = 8ull << 30;  // 2^30 units of 8 bytes

// An entry, at the payload of its head block: header, key, then as much of the value as fits.
// The rest of the value follows in chunks (ChunkHeader + bytes) linked through chunk_next.
struct EntryHeader {
  uint32_t bucket_next;  // next entry in this bucket's chain, 0 = end
  uint32_t chunk_next;   // first continuation chunk, 0 = none
  uint32_t hash_tag;     // high 32 bits of the key's hash
  uint16_t key_len;      // kMaxKeyLength fits
  uint8_t value_type;    // ValueType: what the bytes are (string, or a RESP hash)
  uint8_t encoding;      // ValueEncoding: how the bytes are stored (raw or compressed)
  uint32_t value_len;    // stored bytes (after compression)
  uint32_t lru_ms;       // arena clock (ms since creation, wraps after 49 days) of last access
  uint32_t dense_index;  // position in the shard's dense vector
  uint32_t ttl_index;    // position in the shard's TTL vector, kNoIndex if persistent
  int64_t deadline_ms;   // CLOCK_MONOTONIC ms; 0 = persistent
};
static_assert(sizeof(EntryHeader) == 40);

// Set when an entry is built; the readers that care (the RESP listener for the type, every read
// path for the encoding) look at them. Zero is the plain string most entries are.
enum class ValueType : uint8_t { kString = 0, kHash = 1 };
enum class ValueEncoding : uint8_t { kRaw = 0, kGzip = 1, kBrotli = 2, kZstd = 3 };

struct ChunkHeader {
  uint32_t next;
  uint32_t len;
};

inline constexpr uint32_t kNoIndex = UINT32_MAX;

// A versioned watch slot (docs/kv-contract.md section 4.6). `hash` identifies the key: two keys
// sharing a 64-bit hash share a slot, which can only cause a spurious wake-up (allowed: waiters
// re-read).
struct WatchSlot {
  uint64_t hash;
  uint64_t version;
  std::atomic<uint32_t> seq;  // futex word, bumped with version
  uint32_t waiters;
  int64_t idle_since_ms;      // when waiters last dropped to 0
  uint32_t in_use;
  uint32_t pad;
};

struct alignas(64) Shard {
  std::atomic<uint32_t> lock_word;  // OwnerLock; guards everything below but the atomics
  // The shard's sequence (read.cc): odd while a lock holder changes what a lock-free reader could
  // follow, bumped back to even when the lock is released. Written only under the lock.
  std::atomic<uint64_t> seq;
  RegionAllocator::State alloc;
  uint64_t bucket_mask;
  uint32_t count;      // entries (also the dense vector's length)
  uint32_t ttl_count;  // length of the TTL vector
  std::atomic<uint32_t> slots_in_use;  // written under mu, read anywhere
  uint64_t rng;        // xorshift state for sampling
  uint64_t used_memory;
  uint64_t bytes_saved;  // original minus stored bytes of the compressed entries
  std::atomic<uint64_t> keys_published;  // count, readable without the lock
  std::atomic<uint64_t> used_published;  // used_memory, readable without the lock
  std::atomic<uint64_t> saved_published;  // bytes_saved, readable without the lock
  std::atomic<uint64_t> expires_published;  // ttl_count (keys with a TTL), likewise
  std::atomic<uint64_t> evictions;
  std::atomic<uint64_t> expired;
  std::atomic<uint64_t> discards;  // times the shard was reset after a holder died
};

// Marks the start of a change a lock-free reader could observe (caller holds the shard lock).
// Idempotent within one critical section; the lock's release closes it (CloseShardWrite).
inline void OpenShardWrite(Shard* s) {
  uint64_t seq = s->seq.load(std::memory_order_relaxed);
  if (seq & 1) return;
  s->seq.store(seq + 1, std::memory_order_relaxed);
#if defined(__SANITIZE_THREAD__)
  __asm__ __volatile__("" ::: "memory");  // TSan models no fences (x86 keeps stores in order)
#else
  std::atomic_thread_fence(std::memory_order_release);  // the odd value before the changes
#endif
}

inline void CloseShardWrite(Shard* s) {
  uint64_t seq = s->seq.load(std::memory_order_relaxed);
  if (seq & 1) s->seq.store(seq + 1, std::memory_order_release);
}

// Hit and miss counts of reads, summed by Store::GetStats. A thread counts in slot
// (thread id % kReadCounterSlots), so concurrent readers rarely share a cache line, and the shard's
// lines stay read-only for reads (read.cc).
struct alignas(64) ReadCounters {
  std::atomic<uint64_t> hits;
  std::atomic<uint64_t> misses;
};

struct ArenaHeader {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t shard_count;
  uint64_t mapping_size;
  uint64_t memory_limit;  // as configured; 0 = unlimited
  uint32_t eviction_policy;
  uint32_t pages_reserved;  // 1: every page was allocated at creation; never punch holes in it
  uint64_t seed;
  int32_t owner_pid;
  uint32_t pad1;
  uint64_t owner_start_time;  // /proc/<pid>/stat field 22, to tell a reused pid apart
  int64_t anchor_ms;          // CLOCK_MONOTONIC ms at creation
  uint64_t region_bytes;      // per shard
  uint64_t capacity;          // max entries per shard (dense/TTL vector length)
  uint64_t bucket_count;      // per shard
  uint64_t shards_offset;
  uint64_t slots_offset;
  uint64_t buckets_offset;    // all shards' bucket arrays, shard after shard
  uint64_t dense_offset;      // all shards' dense vectors
  uint64_t ttl_offset;        // all shards' TTL vectors
  uint64_t regions_offset;
  std::atomic<uint64_t> version_counter;
  std::atomic<uint64_t> slots_total;  // watch slots in use, all shards
  std::atomic<int64_t> slot_grace_ms;
  std::atomic<uint32_t> sweep_cursor;
  std::atomic<uint32_t> ready;
  // Compression settings of the creator, which every attached process writes with too.
  uint32_t compression;  // Compression
  int32_t compression_level;
  uint64_t compression_min_size;
  std::atomic<uint64_t> decode_errors;  // compressed values that failed to decode (any process)
};

// Where everything sits in an arena of `shard_count` shards of `region_bytes` each. A function of
// those two numbers only (LayoutFor), so an attacher recomputes it and checks the header against
// it.
struct ArenaLayout {
  uint32_t shard_count = 0;
  uint64_t region_bytes = 0, capacity = 0, bucket_count = 0;
  uint64_t counters_offset = 0, shards_offset = 0, slots_offset = 0, buckets_offset = 0,
           dense_offset = 0, ttl_offset = 0, regions_offset = 0;
  uint64_t total = 0;
};

// The layout of an arena of `shards` shards of `region_bytes` each; false (and *l untouched)
// when those numbers are not ones Create could have chosen.
bool LayoutFor(uint64_t shards, uint64_t region_bytes, ArenaLayout* l);

// Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), 0 if gone.
uint64_t ProcessStartTime(pid_t pid);

// Owns the mapping (and, for a named arena created here, the shared-memory name). The layout is
// kept in this process's memory, taken from the header only once it was validated, so nothing a
// writer of the shared memory changes later can move an offset outside the mapping.
class Arena {
 public:
  enum class Kind { kPrivate, kShared, kNamed };

  static std::unique_ptr<Arena> Create(Kind kind, const std::string& name, const Options& options,
                                       std::string* error);
  static std::unique_ptr<Arena> Attach(const std::string& name, AttachError* why,
                                       std::string* error);
  ~Arena();

  ArenaHeader* header() const { return reinterpret_cast<ArenaHeader*>(base_); }
  char* base() const { return base_; }
  uint32_t shard_count() const { return layout_.shard_count; }
  uint64_t region_bytes() const { return layout_.region_bytes; }
  uint64_t capacity() const { return layout_.capacity; }
  uint64_t bucket_count() const { return layout_.bucket_count; }  // per shard
  Shard* shard(uint32_t i) const {
    return reinterpret_cast<Shard*>(base_ + layout_.shards_offset) + i;
  }
  ReadCounters* read_counters(uint32_t slot) const {
    return reinterpret_cast<ReadCounters*>(base_ + layout_.counters_offset) + slot;
  }
  WatchSlot* slots(uint32_t shard_index) const {
    return reinterpret_cast<WatchSlot*>(base_ + layout_.slots_offset) +
           size_t{shard_index} * kSlotsPerShard;
  }
  uint32_t* buckets(uint32_t i) const {
    return reinterpret_cast<uint32_t*>(base_ + layout_.buckets_offset) + layout_.bucket_count * i;
  }
  uint32_t* dense(uint32_t i) const {
    return reinterpret_cast<uint32_t*>(base_ + layout_.dense_offset) + layout_.capacity * i;
  }
  uint32_t* ttl(uint32_t i) const {
    return reinterpret_cast<uint32_t*>(base_ + layout_.ttl_offset) + layout_.capacity * i;
  }
  char* region(uint32_t i) const {
    return base_ + layout_.regions_offset + layout_.region_bytes * i;
  }
  // Identifies this mapping to the shard locks' dead-owner rule (owner_lock.h).
  const LockDomain& lock_domain() const { return lock_domain_; }

  // Empties shard i's index and data region (not its watch slots). Caller holds its lock.
  void ResetShard(uint32_t i);
  // Logs (SetEventLog) that shard i was discarded with `keys` entries. Caller holds its lock.
  void ReportDiscard(uint32_t i, uint32_t dead_owner, uint64_t keys) const;

  const Options& options() const { return options_; }
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }

 private:
  Arena() = default;
  bool CreateNamedObject(const ArenaLayout& l, std::string* error);  // named_arena.cc
  void InitHeader(const ArenaLayout& l);
  void ReleasePages(void* start, uint64_t bytes, bool must_zero);

  char* base_ = nullptr;
  size_t size_ = 0;
  Kind kind_ = Kind::kPrivate;
  std::string name_;
  pid_t creator_pid_ = 0;  // unlinks a named arena; forked children never do
  ArenaLayout layout_;
  LockDomain lock_domain_;
  bool pages_reserved_ = false;  // then pages are zeroed in place, never given back (ResetShard)
  Options options_;
};

int64_t MonotonicMs();
int64_t CoarseMonotonicMs();

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_ARENA_H_
