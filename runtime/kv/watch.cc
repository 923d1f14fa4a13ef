// Versioned waits (ephpm_kv_wait, docs/kv-contract.md 4.6).
//
// A watch slot exists only for a key somebody waits on; writers skip the slot table entirely while
// their shard has no slot (one relaxed load). Slots live in the arena next to their shard, so a
// write in one process wakes a waiter in another: the waiter sleeps on a futex on the slot's `seq`
// word (shared, not FUTEX_PRIVATE_FLAG) and every bump increments `seq` and wakes it. Sleeps are
// capped at kWaitSliceMs so that a cancel flag (request deadline, shutdown) is noticed promptly.
// A slot without waiters is kept for a grace period (so a client looping on wait() keeps its slot)
// and then freed by the sweeper; versions come from one store-wide counter, so a re-created slot
// always starts above any version handed out before.
// If a shard's kSlotsPerShard slots are all held by waiters, further waits on new keys fall back
// to polling the key's value every kWaitSliceMs (degraded but correct).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/kv/shard.h"
#include "runtime/kv/store.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ephpm::kv {
namespace {

constexpr int64_t kWaitSliceMs = 50;

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

WatchSlot* FindSlot(Arena* arena, uint32_t shard, uint64_t hash) {
  WatchSlot* slots = arena->slots(shard);
  for (uint32_t i = 0; i < kSlotsPerShard; ++i) {
    if (slots[i].in_use && slots[i].hash == hash) return &slots[i];
  }
  return nullptr;
}

// A free slot, or an idle one reclaimed early; nullptr when every slot has waiters.
WatchSlot* NewSlot(Arena* arena, uint32_t shard, uint64_t hash) {
  WatchSlot* slots = arena->slots(shard);
  WatchSlot* idle = nullptr;
  WatchSlot* free_slot = nullptr;
  for (uint32_t i = 0; i < kSlotsPerShard && !free_slot; ++i) {
    if (!slots[i].in_use) free_slot = &slots[i];
    else if (slots[i].waiters == 0 && (!idle || slots[i].idle_since_ms < idle->idle_since_ms))
      idle = &slots[i];
  }
  WatchSlot* slot = free_slot ? free_slot : idle;
  if (!slot) return nullptr;
  if (!slot->in_use) {
    arena->shard(shard)->slots_in_use.fetch_add(1, std::memory_order_relaxed);
    arena->header()->slots_total.fetch_add(1, std::memory_order_relaxed);
  }
  slot->in_use = 1;
  slot->hash = hash;
  slot->waiters = 0;
  slot->idle_since_ms = MonotonicMs();
  slot->version = arena->header()->version_counter.fetch_add(1) + 1;
  return slot;
}

void ReleaseWaiter(WatchSlot* slot) {
  if (slot->waiters > 0) --slot->waiters;  // a shard discard may have lost track of waiters
  if (slot->waiters == 0) slot->idle_since_ms = MonotonicMs();
}

// Reads the key (reaping it if expired), as stored, for a wake-up result. Caller holds the shard
// lock.
bool Snapshot(ShardView& view, std::string_view key, uint64_t hash, std::string* value,
              uint8_t* encoding) {
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) return false;
  *encoding = view.Entry(f.block)->encoding;
  view.CopyValue(f.block, value);
  return true;
}

uint64_t Fingerprint(bool present, const std::string& value) {
  return present ? XXH3_64bits(value.data(), value.size()) | 1 : 0;
}

}  // namespace

WaitResult Store::WaitStored(std::string_view key, uint64_t last_version, int64_t timeout_ms,
                             const std::atomic<bool>* cancel, std::string* value,
                             uint8_t* encoding) {
  WaitResult result;
  if (key.size() > kMaxKeyLength) return result;
  timeout_ms = std::clamp<int64_t>(timeout_ms, 0, kMaxDeadlineMs / 2);  // no overflow below
  // +1: MonotonicMs() truncates, and a wait must never end before timeout_ms has fully passed.
  int64_t deadline = MonotonicMs() + timeout_ms + 1;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  auto cancelled = [cancel] { return cancel && cancel->load(std::memory_order_relaxed); };

  WatchSlot* slot;
  uint32_t seq;
  uint64_t fingerprint = 0;
  {
    ShardLock lock(arena_.get(), shard);
    ShardView view(arena_.get(), shard);
    slot = FindSlot(arena_.get(), shard, hash);
    if (!slot) slot = NewSlot(arena_.get(), shard, hash);
    if (!slot || slot->version > last_version) {
      result.status = WaitResult::Status::kChanged;
      result.has_value = Snapshot(view, key, hash, value, encoding);
      if (slot) {
        result.version = slot->version;
        return result;
      }
      if (last_version == 0 || timeout_ms == 0) {
        result.version = arena_->header()->version_counter.fetch_add(1) + 1;
        if (last_version != 0) result.status = WaitResult::Status::kTimeout;
        return result;
      }
      fingerprint = Fingerprint(result.has_value, *value);
    } else {
      if (timeout_ms == 0) return result;
      ++slot->waiters;
      seq = slot->seq.load(std::memory_order_acquire);
    }
  }

  if (!slot) {  // degraded: poll the value
    for (;;) {
      int64_t now = MonotonicMs();
      if (cancelled() || now >= deadline) {
        result.status = cancelled() ? WaitResult::Status::kCancelled : WaitResult::Status::kTimeout;
        return result;
      }
      timespec ts{0, static_cast<long>(std::min(kWaitSliceMs, deadline - now) * 1'000'000)};
      nanosleep(&ts, nullptr);
      ShardLock lock(arena_.get(), shard);
      ShardView view(arena_.get(), shard);
      bool present = Snapshot(view, key, hash, value, encoding);
      if (Fingerprint(present, *value) != fingerprint) {
        result.status = WaitResult::Status::kChanged;
        result.has_value = present;
        result.version = arena_->header()->version_counter.fetch_add(1) + 1;
        return result;
      }
    }
  }

  for (;;) {
    int64_t now = MonotonicMs();
    if (now < deadline && !cancelled()) {
      FutexWait(&slot->seq, seq, std::min(kWaitSliceMs, deadline - now));
    }
    ShardLock lock(arena_.get(), shard);
    ShardView view(arena_.get(), shard);
    if (slot->version > last_version) {
      ReleaseWaiter(slot);
      result.status = WaitResult::Status::kChanged;
      result.version = slot->version;
      result.has_value = Snapshot(view, key, hash, value, encoding);
      return result;
    }
    if (cancelled() || MonotonicMs() >= deadline) {
      ReleaseWaiter(slot);
      result.status = cancelled() ? WaitResult::Status::kCancelled : WaitResult::Status::kTimeout;
      return result;
    }
    seq = slot->seq.load(std::memory_order_acquire);
  }
}

void ReclaimIdleWatchSlots(Arena* arena, uint32_t shard) {
  if (arena->shard(shard)->slots_in_use.load(std::memory_order_relaxed) == 0) return;
  ShardLock lock(arena, shard);
  int64_t now = MonotonicMs();
  int64_t grace = arena->header()->slot_grace_ms.load(std::memory_order_relaxed);
  WatchSlot* slots = arena->slots(shard);
  for (uint32_t i = 0; i < kSlotsPerShard; ++i) {
    WatchSlot& w = slots[i];
    if (w.in_use && w.waiters == 0 && now - w.idle_since_ms >= grace) {
      w.in_use = 0;
      arena->shard(shard)->slots_in_use.fetch_sub(1, std::memory_order_relaxed);
      arena->header()->slots_total.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

void Store::SetWatchSlotGraceMsForTesting(int64_t grace_ms) {
  arena_->header()->slot_grace_ms.store(grace_ms, std::memory_order_relaxed);
}

uint64_t Store::WatchSlotCount() {
  return arena_->header()->slots_total.load(std::memory_order_relaxed);
}

}  // namespace ephpm::kv
