// Lock-free reads: a sequence lock per shard (docs/kv-contract.md section 1 guarantees kept).
//
// Why: a get that takes the shard's OwnerLock does two atomic read-modify-writes on the shard's
// cache line, so two cores reading the same shards bounce that line between them, and the lock
// was a quarter of a get's cost even on one core. A reader here writes nothing shared.
//
// Writers keep the lock. Before the first change a lock-free reader could observe (linking,
// unlinking or freeing an entry, rewriting a value in place, changing a deadline, resetting the
// shard) a writer makes Shard::seq odd (OpenShardWrite); releasing the lock makes it even again
// (CloseShardWrite). Building a new entry in free blocks needs no bump: no reader can reach them
// until they are published. A reader:
//   1. loads seq (acquire); an odd value means a writer is inside: pause and retry;
//   2. walks the bucket chain and copies what it needs (the entry's header fields, then the value)
//      with racy loads;
//   3. acquire fence, loads seq again: unchanged means nothing it read was being written, so the
//      copy is exactly a state some locked reader could have seen. Otherwise it retries.
// After kAttempts tries it gives up and takes the lock (LockFree::kLocked). That also covers a
// writer that died mid-write: it left seq odd, so readers go to the lock, whose dead-owner rule
// discards the shard (ShardLock) and whose release makes seq even again.
//
// A racy read may see any mix of old and new bytes, so nothing it reads is trusted before the
// final check, and nothing it reads may make it misbehave before then: every offset is checked
// against the shard's region before it is followed, every length is clamped to the region and to
// the destination, a chain walk stops after kMaxChainHops (then the locked path decides), and a
// chunk walk stops at a piece of length 0, so it ends after at most value-length pieces. A size
// used to allocate (Get's string) is validated by a sequence check before the allocation.
//
// The racy loads are plain memory reads that race with the writers' plain stores: allowed by the
// design (Boehm, "Can seqlocks get along with programming language memory models?", takes the
// same route with relaxed atomics), and hidden from ThreadSanitizer by ignore annotations around
// exactly those reads. Scalars are read once each (__atomic_load_n, relaxed), so the compiler
// cannot re-load a value after it was bounds-checked.
//
// What a read would have written on a shared line moved away: hits and misses go to the calling
// thread's ReadCounters slot; an LRU stamp older than kLruGranularityMs is refreshed only when the
// lock can be taken at once (TryLock) and seq shows the entry unchanged since it was read, so a
// stamp is never written into a block that has meanwhile been freed or reused. An expired entry,
// or one that is not a raw string, is left to the locked path (which reaps, or decodes).
#include "runtime/kv/read.h"

#include <algorithm>
#include <cstring>

#include "runtime/kv/owner_lock.h"
#include "runtime/kv/shard.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#define EPHPM_RACY_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define EPHPM_RACY_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define EPHPM_RACY_BEGIN() ((void)0)
#define EPHPM_RACY_END() ((void)0)
#endif

namespace ephpm::kv {
namespace {

// The read path is a handful of small steps; as calls, their prologues and epilogues were a tenth
// of a PHP ephpm_kv_get (callgrind), so they are inlined into the two entry points.
#define EPHPM_INLINE inline __attribute__((always_inline))

constexpr int kAttempts = 4;
constexpr int kMaxChainHops = 64;

template <typename T>
T Racy(const T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// What a validated lookup saw of the entry.
struct Snapshot {
  uint64_t seq = 0;
  uint32_t block = 0;
  uint32_t value_len = 0;
  uint32_t lru_ms = 0;
  int64_t deadline_ms = 0;
  uint8_t value_type = 0;
  uint8_t encoding = 0;
};

enum class Lookup { kFound, kMissing, kLocked };

class Reader {
 public:
  Reader(Arena* arena, uint32_t shard)
      : arena_(arena),
        shard_(arena->shard(shard)),
        buckets_(arena->buckets(shard)),
        bucket_mask_(arena->bucket_count() - 1),
        region_(arena->region(shard)),
        region_bytes_(arena->region_bytes()) {}

  // Finds the key in a consistent state of the shard (retrying while it changes).
  Lookup Find(std::string_view key, uint64_t hash, Snapshot* snap);
  // Copies exactly n (<= the value's length) bytes of the snapshot's value into dest; false when
  // the shard changed since the lookup (dest then holds garbage).
  bool Copy(const Snapshot& snap, char* dest, size_t n);
  // Whether the shard is still as it was at `seq`.
  bool Unchanged(uint64_t seq) const;
  // `now`: the arena's LRU clock (LruClock).
  void TouchLruIfStale(const Snapshot& snap, uint32_t now);

 private:
  uint32_t RacyWalk(std::string_view key, uint64_t hash, bool* gave_up) const;
  bool RacyCopy(uint32_t block, char* dest, size_t n) const;
  bool HeaderInRegion(uint32_t block, size_t key_len) const {
    return block != 0 &&
           uint64_t{block} * kUnit + kBlockHeaderSize + sizeof(EntryHeader) + key_len <=
               region_bytes_;
  }
  const EntryHeader* Entry(uint32_t block) const {
    return reinterpret_cast<const EntryHeader*>(region_ + uint64_t{block} * kUnit +
                                                kBlockHeaderSize);
  }

  Arena* arena_;
  Shard* shard_;
  const uint32_t* buckets_;
  uint64_t bucket_mask_;
  const char* region_;
  uint64_t region_bytes_;
};

EPHPM_INLINE bool Reader::Unchanged(uint64_t seq) const {
#if defined(__SANITIZE_THREAD__)
  __asm__ __volatile__("" ::: "memory");  // TSan models no fences (x86 keeps loads in order)
#else
  std::atomic_thread_fence(std::memory_order_acquire);  // the racy loads before the re-check
#endif
  return shard_->seq.load(std::memory_order_relaxed) == seq;
}

EPHPM_INLINE uint32_t Reader::RacyWalk(std::string_view key, uint64_t hash, bool* gave_up) const {
  uint32_t tag = static_cast<uint32_t>(hash >> 32);
  uint32_t block = Racy(&buckets_[(hash >> 12) & bucket_mask_]);
  for (int hops = 0; block != 0; ++hops) {
    if (hops == kMaxChainHops || !HeaderInRegion(block, key.size())) {
      *gave_up = true;  // torn (the check will say so) or a chain only the locked path may judge
      return 0;
    }
    const EntryHeader* e = Entry(block);
    if (Racy(&e->hash_tag) == tag && Racy(&e->key_len) == key.size() &&
        std::memcmp(e + 1, key.data(), key.size()) == 0) {
      return block;
    }
    block = Racy(&e->bucket_next);
  }
  return 0;
}

EPHPM_INLINE Lookup Reader::Find(std::string_view key, uint64_t hash, Snapshot* snap) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint64_t seq = shard_->seq.load(std::memory_order_acquire);
    if (seq & 1) {
      __builtin_ia32_pause();
      continue;
    }
    bool gave_up = false;
    EPHPM_RACY_BEGIN();
    uint32_t block = RacyWalk(key, hash, &gave_up);
    if (block != 0) {
      const EntryHeader* e = Entry(block);
      snap->value_len = Racy(&e->value_len);
      snap->lru_ms = Racy(&e->lru_ms);
      snap->deadline_ms = Racy(&e->deadline_ms);
      snap->value_type = Racy(&e->value_type);
      snap->encoding = Racy(&e->encoding);
    }
    EPHPM_RACY_END();
    if (!Unchanged(seq)) continue;
    if (gave_up) return Lookup::kLocked;
    if (block == 0) return Lookup::kMissing;
    if (snap->deadline_ms != 0 && MonotonicMs() >= snap->deadline_ms) return Lookup::kLocked;
    if (snap->value_type != static_cast<uint8_t>(ValueType::kString) ||
        snap->encoding != static_cast<uint8_t>(ValueEncoding::kRaw)) {
      return Lookup::kLocked;
    }
    snap->seq = seq;
    snap->block = block;
    return Lookup::kFound;
  }
  return Lookup::kLocked;
}

// The value is the tail of the head block after the key, then the chunks (shard.h's
// ForEachValuePiece, with every bound re-derived from what this read saw).
EPHPM_INLINE bool Reader::RacyCopy(uint32_t block, char* dest, size_t n) const {
  if (!HeaderInRegion(block, 0)) return false;
  const EntryHeader* e = Entry(block);
  uint64_t start = uint64_t{block} * kUnit + kBlockHeaderSize + sizeof(EntryHeader) +
                   Racy(&e->key_len);
  const auto* head = reinterpret_cast<const BlockHeader*>(region_ + uint64_t{block} * kUnit);
  uint64_t end = std::min(uint64_t{block} * kUnit + (Racy(&head->size_and_free) >> 1) * kUnit,
                          region_bytes_);
  size_t left = n;
  size_t piece = start < end ? static_cast<size_t>(std::min<uint64_t>(end - start, left)) : 0;
  std::memcpy(dest, region_ + start, piece);
  dest += piece;
  left -= piece;
  for (uint32_t c = Racy(&e->chunk_next); c != 0 && left > 0;) {
    uint64_t data = uint64_t{c} * kUnit + kBlockHeaderSize + sizeof(ChunkHeader);
    if (data >= region_bytes_) return false;
    const auto* ch = reinterpret_cast<const ChunkHeader*>(region_ + data - sizeof(ChunkHeader));
    piece = static_cast<size_t>(
        std::min<uint64_t>({Racy(&ch->len), uint64_t{left}, region_bytes_ - data}));
    if (piece == 0) return false;
    std::memcpy(dest, region_ + data, piece);
    dest += piece;
    left -= piece;
    c = Racy(&ch->next);
  }
  return left == 0;
}

EPHPM_INLINE bool Reader::Copy(const Snapshot& snap, char* dest, size_t n) {
  EPHPM_RACY_BEGIN();
  bool whole = RacyCopy(snap.block, dest, n);
  EPHPM_RACY_END();
  return Unchanged(snap.seq) && whole;
}

EPHPM_INLINE void Reader::TouchLruIfStale(const Snapshot& snap, uint32_t now) {
  if (now - snap.lru_ms < kLruGranularityMs) return;
  if (!OwnerLock::TryLock(&shard_->lock_word)) return;  // busy: a later read refreshes it
  if (shard_->seq.load(std::memory_order_relaxed) == snap.seq) {
    const_cast<EntryHeader*>(Entry(snap.block))->lru_ms = now;
  }
  OwnerLock::Unlock(&shard_->lock_word);
}

// The calling thread's counter slot (ReadCounters in arena.h).
EPHPM_INLINE ReadCounters* ThreadCounters(Arena* arena) {
  return arena->read_counters(CurrentThreadId() % kReadCounterSlots);
}

EPHPM_INLINE void Count(Arena* arena, bool hit) {
  ReadCounters* c = ThreadCounters(arena);
  (hit ? c->hits : c->misses).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void CountRead(Arena* arena, bool hit) { Count(arena, hit); }

void CountReads(Arena* arena, uint64_t hits, uint64_t misses) {
  ReadCounters* c = ThreadCounters(arena);
  if (hits != 0) c->hits.fetch_add(hits, std::memory_order_relaxed);
  if (misses != 0) c->misses.fetch_add(misses, std::memory_order_relaxed);
}

LockFree GetWithoutLock(Arena* arena, std::string_view key, uint64_t hash, std::string* value,
                        ReadBatch* batch) {
  Reader reader(arena, ShardOf(arena, hash));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Snapshot snap;
    Lookup found = reader.Find(key, hash, &snap);
    if (found == Lookup::kLocked) return LockFree::kLocked;
    if (found == Lookup::kMissing) {
      if (batch != nullptr) {
        ++batch->misses;
      } else {
        Count(arena, false);
      }
      return LockFree::kMiss;
    }
    value->resize(snap.value_len);  // validated by Find: a real length, not a torn one
    if (!reader.Copy(snap, value->data(), snap.value_len)) continue;
    reader.TouchLruIfStale(snap, batch != nullptr ? batch->lru_now : LruClock(arena));
    if (batch != nullptr) {
      ++batch->hits;
    } else {
      Count(arena, true);
    }
    return LockFree::kHit;
  }
  return LockFree::kLocked;
}

LockFree ReadWithoutLock(Arena* arena, std::string_view key, uint64_t hash, char* buffer,
                         size_t capacity, Store::Peeked* peeked) {
  uint32_t shard = ShardOf(arena, hash);
  Reader reader(arena, shard);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Snapshot snap;
    Lookup found = reader.Find(key, hash, &snap);
    if (found == Lookup::kLocked) return LockFree::kLocked;
    if (found == Lookup::kMissing) {
      Count(arena, false);
      return LockFree::kMiss;
    }
    *peeked = Store::Peeked{shard, snap.block, snap.seq, snap.value_len};
    bool too_big = snap.value_len > capacity;
    if (!too_big && !reader.Copy(snap, buffer, snap.value_len)) continue;
    reader.TouchLruIfStale(snap, LruClock(arena));
    Count(arena, true);
    return too_big ? LockFree::kTooBig : LockFree::kHit;
  }
  return LockFree::kLocked;
}

bool ReadPeekedWithoutLock(Arena* arena, const Store::Peeked& peeked, char* dest) {
  if (peeked.shard >= arena->shard_count() || (peeked.change_seq & 1)) return false;
  Reader reader(arena, peeked.shard);
  if (!reader.Unchanged(peeked.change_seq)) return false;
  Snapshot snap;
  snap.seq = peeked.change_seq;
  snap.block = peeked.block;
  return reader.Copy(snap, dest, peeked.size);
}

}  // namespace ephpm::kv
