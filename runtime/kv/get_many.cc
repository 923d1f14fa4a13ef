// Store::GetMany: a batch of reads that costs less per key than one Get each.
//
// Why: ephpm_kv_mget and RESP MGET read many keys per call, and as N Gets each key paid every
// fixed cost of a read: a clock read for the LRU stamp, an atomic add on the read counters, the
// Get wrappers. Here all keys are hashed first and their buckets prefetched, so the cache misses
// of the chain walks overlap instead of following one another; then each key takes the lock-free
// read (read.cc) with the clock read once for the batch and the hits and misses added to the
// counters once at the end. A key that path cannot answer (a busy shard, an expired entry to
// reap, a compressed value or a RESP hash) takes Get's own path, which also counts it.
//
// Grouping the keys by shard to validate each shard's sequence once was measured and dropped:
// with 64 shards a batch of 20 keys rarely has two in one shard, and the sort cost more than it
// saved (callgrind, bench/php-native).
//
// A repeated key is looked up once: a small open-addressing table of the batch's hashes, reused
// across calls by the thread, finds it.
#include <algorithm>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/kv/read.h"
#include "runtime/kv/shard.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

constexpr uint32_t kEmptySlot = UINT32_MAX;

// The batch's hashes and the table of the distinct keys seen so far (indexes into hashes).
struct BatchScratch {
  std::vector<uint64_t> hashes;
  std::vector<uint32_t> seen;
};

}  // namespace

void Store::GetMany(const std::string_view* keys, size_t count, std::string* values,
                    BatchResult* results) {
  if (count == 0) return;
  Arena* arena = arena_.get();
  thread_local BatchScratch scratch;  // a warm batch of this size allocates nothing
  scratch.hashes.resize(count);
  size_t slots = 16;
  while (slots < 2 * count) slots *= 2;
  scratch.seen.assign(slots, kEmptySlot);
  uint64_t bucket_mask = arena->bucket_count() - 1;
  for (size_t i = 0; i < count; ++i) {
    if (keys[i].size() > kMaxKeyLength) continue;  // never stored; Get does not count it either
    uint64_t hash = HashKey(arena, keys[i]);
    scratch.hashes[i] = hash;
    __builtin_prefetch(&arena->buckets(ShardOf(arena, hash))[(hash >> 12) & bucket_mask]);
  }
  ReadBatch batch{LruClock(arena)};
  for (size_t i = 0; i < count; ++i) {
    results[i] = BatchResult::kMiss;
    if (keys[i].size() > kMaxKeyLength) continue;
    uint64_t hash = scratch.hashes[i];
    size_t slot = hash & (slots - 1);
    bool repeat = false;
    for (; scratch.seen[slot] != kEmptySlot; slot = (slot + 1) & (slots - 1)) {
      uint32_t earlier = scratch.seen[slot];
      if (scratch.hashes[earlier] == hash && keys[earlier] == keys[i]) {
        repeat = true;
        break;
      }
    }
    if (repeat) {
      results[i] = BatchResult::kRepeat;
      continue;
    }
    scratch.seen[slot] = static_cast<uint32_t>(i);
    switch (GetWithoutLock(arena, keys[i], hash, &values[i], &batch)) {
      case LockFree::kHit: results[i] = BatchResult::kHit; break;
      case LockFree::kMiss: break;
      case LockFree::kTooBig:
      case LockFree::kLocked:
        if (Get(keys[i], &values[i])) results[i] = BatchResult::kHit;
        break;
    }
  }
  CountReads(arena, batch.hits, batch.misses);
  if (count > 4096) scratch = BatchScratch();  // a huge batch gives its memory back
}

}  // namespace ephpm::kv
