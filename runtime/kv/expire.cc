// Active expiry (the sweeper's cycle), after Redis's activeExpireCycle.
//
// Lazy expiry alone lets keys that are never read again hold memory forever. Each tick the sweeper
// visits every shard and draws up to kExpireSamples random entries from its TTL vector (persistent
// keys are never sampled), reaping the expired ones. While more than kExpireRepeatPercent of a
// sample was expired, the shard probably holds many more, so it samples again, until the tick's
// time budget is spent. The lock is released between samples, so no lock hold does more than one
// sample's work. Shards are visited from a rotating cursor so a spent budget does not always
// starve the same shards. Trade-off (as in Redis): a store where just under 10 % of TTL'd keys are
// expired converges slowly, but the cost per tick stays bounded.
#include <algorithm>

#include "runtime/kv/shard.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

constexpr int kExpireSamples = 20;
constexpr int kExpireRepeatPercent = 10;
constexpr int64_t kExpireBudgetUs = 1000;

int64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

void ShardView::ExpireSample(int samples, int64_t now, int* sampled, int* reaped) {
  *sampled = 0;
  *reaped = 0;
  uint32_t n = s_->ttl_count;
  bool exhaustive = n <= static_cast<uint32_t>(samples);
  for (int i = 0; i < samples && s_->ttl_count > 0; ++i) {
    if (exhaustive && static_cast<uint32_t>(i) >= n) break;
    // When examining everything, walk from the end: a reap moves the last entry into the hole.
    uint32_t slot = exhaustive ? n - 1 - i : static_cast<uint32_t>(NextRandom() % s_->ttl_count);
    if (slot >= s_->ttl_count) continue;
    uint32_t block = ttl_[slot];
    if (!Plausible(block)) continue;
    ++*sampled;
    if (Entry(block)->deadline_ms <= now) {
      RemoveBlock(block);
      Count(s_->expired);
      ++*reaped;
    }
  }
}

size_t Store::ActiveExpireCycle() {
  ArenaHeader* h = arena_->header();
  int64_t start = MonotonicUs();
  size_t reaped_total = 0;
  uint32_t shards = arena_->shard_count();
  uint32_t first = h->sweep_cursor.fetch_add(1, std::memory_order_relaxed) % shards;
  for (uint32_t k = 0; k < shards; ++k) {
    uint32_t i = (first + k) % shards;
    if (arena_->shard(i)->keys_published.load(std::memory_order_relaxed) == 0 &&
        arena_->shard(i)->slots_in_use.load(std::memory_order_relaxed) == 0) {
      continue;
    }
    for (;;) {
      int sampled = 0, reaped = 0;
      {
        ShardLock lock(arena_.get(), i);
        ShardView view(arena_.get(), i);
        view.ExpireSample(kExpireSamples, MonotonicMs(), &sampled, &reaped);
      }
      reaped_total += reaped;
      if (sampled == 0 || reaped * 100 <= sampled * kExpireRepeatPercent) break;
      if (MonotonicUs() - start > kExpireBudgetUs) break;
    }
    ReclaimIdleWatchSlots(arena_.get(), i);
    if (MonotonicUs() - start > kExpireBudgetUs) break;
  }
  return reaped_total;
}

}  // namespace ephpm::kv
