// Eviction: making room for a write inside the writer's shard.
//
// Memory belongs to shards (arena.h), so only a victim from the writer's own shard frees space the
// write can use; eviction therefore never touches, let alone locks, a second shard.
//
// allkeys-lru / volatile-lru use Redis's sampled LRU: draw kEvictionSamples candidates uniformly at
// random from the shard's dense vector (or its TTL vector for volatile-lru) and evict the one with
// the oldest access stamp. An already-expired candidate is taken first and counted as expired.
// When no more than kEvictionSamples entries are eligible, all of them are examined, so a small
// store evicts its exact LRU entry. Cost: O(kEvictionSamples) per victim, whatever the store size.
// allkeys-random takes one random slot of the dense vector: O(1) per victim.
// The key being written is never a candidate, so a refused write keeps its old value.
#include "runtime/kv/shard.h"

namespace ephpm::kv {

bool ShardView::EvictOne(uint32_t exclude) {
  EvictionPolicy policy = arena_->options().eviction_policy;
  if (policy == EvictionPolicy::kNoEviction) return false;
  bool volatile_only = policy == EvictionPolicy::kVolatileLru;
  const uint32_t* pool = volatile_only ? ttl_ : dense_;
  uint32_t n = volatile_only ? s_->ttl_count : s_->count;
  uint32_t eligible = n - (exclude != 0 && (!volatile_only || Entry(exclude)->ttl_index != kNoIndex));
  if (eligible == 0) return false;

  uint32_t victim = 0;
  if (policy == EvictionPolicy::kAllKeysRandom) {
    do {
      victim = pool[NextRandom() % n];
    } while (victim == exclude);
  } else {
    int64_t now = 0;
    uint32_t clock = ArenaClock();
    uint32_t oldest_age = 0;
    bool exhaustive = eligible <= kEvictionSamples;
    int draws = exhaustive ? static_cast<int>(n) : kEvictionSamples;
    for (int i = 0; i < draws; ++i) {
      uint32_t candidate = exhaustive ? pool[i] : pool[NextRandom() % n];
      if (candidate == exclude || !Plausible(candidate)) continue;
      const EntryHeader* e = Entry(candidate);
      if (Expired(e, &now)) {
        RemoveBlock(candidate);
        Count(s_->expired);
        return true;
      }
      uint32_t age = clock - e->lru_ms;
      if (victim == 0 || age > oldest_age) {
        victim = candidate;
        oldest_age = age;
      }
    }
    if (victim == 0) return false;  // every draw hit the excluded key; the caller retries
  }
  if (!Plausible(victim)) return false;
  RemoveBlock(victim);
  Count(s_->evictions);
  return true;
}

}  // namespace ephpm::kv
