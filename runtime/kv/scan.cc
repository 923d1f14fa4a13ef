// Store::Scan: listing the keys of a live store without stopping it (Redis's SCAN guarantee).
//
// Why a linear cursor works here: a shard's bucket array never grows, moves or rehashes (arena.h),
// and a key's bucket is a function of its hash alone, so a key stays in one bucket for as long as
// the arena exists, however often it is overwritten, deleted and re-created. The cursor is simply
// the next (shard, bucket) position in a fixed order, shard after shard. Each bucket is read
// exactly once per scan, whole, under its shard's lock, which gives:
//  * every key live during the whole scan is returned (its bucket was read while it was there);
//  * no key is returned twice within one scan (a key's only bucket is read once);
//  * keys added or removed during the scan may or may not be returned.
// A shard discarded because a process died holding its lock (docs/kv-contract.md 4.1) loses its
// keys, which are then not "live during the whole scan".
//
// Empty shards are skipped without reading their buckets (an untouched page of an unlimited arena
// stays uncommitted). Work is bounded twice: one lock hold reads at most kBucketsPerLock buckets (and stops once
// `count` keys were seen), and one call reads at most count * kBucketsPerKey buckets, so a sparse
// store costs several calls rather than one long one. Keys are copied under the lock and matched
// against the pattern after it is released (a pattern may cost O(pattern x key)).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/kv/glob.h"
#include "runtime/kv/shard.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

constexpr uint64_t kBucketsPerLock = 64;
constexpr uint64_t kBucketsPerKey = 10;  // Redis's empty-bucket allowance per requested key

// Appends the live keys of one bucket chain; returns how many. The walk is bounded by the shard's
// capacity so that a corrupt chain (a loop) cannot hold the lock forever.
size_t CollectBucket(ShardView& view, uint32_t head, uint64_t capacity, int64_t* now,
                     std::vector<std::string>* out) {
  size_t found = 0;
  uint64_t hops = 0;
  for (uint32_t block = head; block != 0 && hops <= capacity; ++hops) {
    if (!view.Plausible(block)) break;  // a corrupt link ends the chain, as in Find
    const EntryHeader* e = view.Entry(block);
    if (!view.Expired(e, now)) {
      out->emplace_back(reinterpret_cast<const char*>(e + 1), e->key_len);
      ++found;
    }
    block = e->bucket_next;
  }
  return found;
}

}  // namespace

uint64_t Store::Scan(uint64_t cursor, size_t count, std::string_view match,
                     std::vector<std::string>* keys) {
  const uint64_t per_shard = arena_->bucket_count();
  const uint64_t total = per_shard * arena_->shard_count();
  if (count == 0) count = 1;
  uint64_t bucket_budget =
      count > UINT64_MAX / kBucketsPerKey ? UINT64_MAX : uint64_t{count} * kBucketsPerKey;
  size_t seen = 0;
  std::vector<std::string> batch;
  while (cursor < total && seen < count && bucket_budget > 0) {
    const uint32_t shard = static_cast<uint32_t>(cursor / per_shard);
    if (arena_->shard(shard)->keys_published.load(std::memory_order_relaxed) == 0) {
      cursor = uint64_t{shard + 1} * per_shard;  // an empty shard holds no key to return
      --bucket_budget;
      continue;
    }
    const uint64_t first = cursor % per_shard;
    const uint64_t last = first + std::min({kBucketsPerLock, bucket_budget, per_shard - first});
    uint64_t b = first;
    {
      ShardLock lock(arena_.get(), shard);
      ShardView view(arena_.get(), shard);
      const uint32_t* buckets = arena_->buckets(shard);
      int64_t now = 0;
      for (; b < last && seen < count; ++b) {
        seen += CollectBucket(view, buckets[b], arena_->capacity(), &now, &batch);
      }
    }
    bucket_budget -= b - first;
    cursor = uint64_t{shard} * per_shard + b;
    for (std::string& key : batch) {
      if (match.empty() || GlobMatch(match, key)) keys->push_back(std::move(key));
    }
    batch.clear();
  }
  return cursor >= total ? 0 : cursor;
}

}  // namespace ephpm::kv
