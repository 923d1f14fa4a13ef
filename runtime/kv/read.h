// Reads that take no lock (read.cc): what Store::Get, Store::Read and Store::ReadPeeked try first.
// Internal to runtime/kv.
#ifndef EPHPM_RUNTIME_KV_READ_H_
#define EPHPM_RUNTIME_KV_READ_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/kv/arena.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {

// kLocked: no answer without the lock (the shard kept changing, a writer is inside it or died
// there, the entry is expired and must be reaped, or it is not a plain raw string): the caller
// takes the locked path, which counts the hit or miss itself.
enum class LockFree { kHit, kMiss, kTooBig, kLocked };

// What the reads of one Store::GetMany share: the LRU clock, read once, and the hits and misses,
// added to the counters once (CountReads).
struct ReadBatch {
  uint32_t lru_now = 0;  // LruClock
  uint64_t hits = 0;
  uint64_t misses = 0;
};

// Copies a live key's value into *value. Counts the hit or miss unless kLocked: in *batch when
// given, else in the thread's counter slot.
LockFree GetWithoutLock(Arena* arena, std::string_view key, uint64_t hash, std::string* value,
                        ReadBatch* batch = nullptr);
// Store::Read's contract: a value of at most `capacity` bytes is copied into `buffer` (kHit), a
// larger one only located in *peeked (kTooBig). Counts the hit or miss unless kLocked.
LockFree ReadWithoutLock(Arena* arena, std::string_view key, uint64_t hash, char* buffer,
                         size_t capacity, Store::Peeked* peeked);
// Copies the peeked value (peeked.size bytes) into dest if its shard has not changed since the
// peek; false otherwise.
bool ReadPeekedWithoutLock(Arena* arena, const Store::Peeked& peeked, char* dest);

// The arena's clock for LRU stamps (EntryHeader::lru_ms).
inline uint32_t LruClock(const Arena* arena) {
  return static_cast<uint32_t>(CoarseMonotonicMs() - arena->header()->anchor_ms);
}

// One hit or miss, in the calling thread's counter slot (ReadCounters in arena.h).
void CountRead(Arena* arena, bool hit);
void CountReads(Arena* arena, uint64_t hits, uint64_t misses);

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_READ_H_
