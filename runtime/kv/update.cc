// The store operations the RESP listener needs beyond the PHP API (runtime/resp): a generic
// read-modify-write under the key's shard lock, the key's type, millisecond expiry and PERSIST.
// Kept apart from store.cc so the PHP paths there stay as they are; the same locking rules hold
// (one shard lock at a time, released before returning).
#include <algorithm>
#include <string>

#include "runtime/kv/arena.h"
#include "runtime/kv/shard.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

int64_t DeadlineAfterMs(int64_t ms, int64_t now) {
  if (ms >= kMaxDeadlineMs - now) return kMaxDeadlineMs;  // saturates, like DeadlineFor
  return now + ms;
}

// The key's shard locked and its entry looked up, an expired entry reaped (expired = absent).
struct LockedKey {
  LockedKey(Arena* arena, std::string_view k)
      : hash(HashKey(arena, k)), lock(arena, ShardOf(arena, hash)),
        view(arena, ShardOf(arena, hash)), entry(view.Find(k, hash)) {
    view.ReapIfExpired(&entry, hash, &now);
  }
  bool live() const { return entry.block != 0; }
  EntryHeader* header() const { return view.Entry(entry.block); }

  const uint64_t hash;
  ShardLock lock;
  ShardView view;
  Found entry;
  int64_t now = 0;
};

// Writes `value` as the key's entry with the given type and deadline: in place when it fits,
// otherwise a new entry (evicting other keys for room, as Set does). false: refused.
bool Write(LockedKey& k, std::string_view key, std::string_view value, ValueType type,
           int64_t deadline) {
  uint32_t block = 0;
  if (k.live() && k.view.OverwriteInPlace(k.entry.block, value, deadline, k.hash)) {
    block = k.entry.block;
  } else {
    for (int victims = 0; (block = k.view.Build(key, k.hash, value, deadline)) == 0; ++victims) {
      if (victims == kMaxVictimsPerWrite || !k.view.EvictOne(k.entry.block)) return false;
      k.entry = k.view.Find(key, k.hash);  // eviction may have moved the link
    }
    k.view.Publish(block, k.entry, k.hash);
  }
  EntryHeader* e = k.view.Entry(block);
  e->value_type = static_cast<uint8_t>(type);
  e->encoding = static_cast<uint8_t>(ValueEncoding::kRaw);
  return true;
}

}  // namespace

bool Store::Update(std::string_view key,
                   const std::function<void(const KeyState&, KeyChange*)>& decide) {
  if (key.size() > kMaxKeyLength) return false;
  // A compressed value is decoded by Get, outside the lock; it is used only if the shard did not
  // change in between (else the whole thing is tried again).
  std::string decoded;
  uint64_t decoded_at = UINT64_MAX;
  for (;;) {
    KeyState state;
    KeyChange change;
    {
      LockedKey k(arena_.get(), key);
      if (k.live()) {
        const EntryHeader* e = k.header();
        uint64_t seq = k.view.shard()->change_seq;
        if (e->encoding != static_cast<uint8_t>(ValueEncoding::kRaw)) {
          if (decoded_at != seq) {
            decoded_at = seq;
            goto decode;  // leaves the scope: the lock is released first
          }
          state.value = std::move(decoded);
        } else {
          k.view.CopyValue(k.entry.block, &state.value);
        }
        state.live = true;
        state.type = static_cast<ValueType>(e->value_type);
        if (e->deadline_ms != 0) {
          if (k.now == 0) k.now = MonotonicMs();
          state.pttl_ms = std::max<int64_t>(1, e->deadline_ms - k.now);
        }
      }
      decide(state, &change);
      switch (change.action) {
        case KeyChange::Action::kKeep:
          return true;
        case KeyChange::Action::kDelete:
          if (k.live()) k.view.Remove(k.entry, k.hash);
          return true;
        case KeyChange::Action::kWrite: {
          if (change.value.size() > UINT32_MAX) return false;
          int64_t deadline = 0;
          if (change.pttl_ms < 0) {
            deadline = k.live() ? k.header()->deadline_ms : 0;
          } else if (change.pttl_ms > 0) {
            deadline = DeadlineAfterMs(change.pttl_ms, k.now != 0 ? k.now : MonotonicMs());
          }
          return Write(k, key, change.value, change.type, deadline);
        }
      }
      return true;
    }
  decode:
    if (!Get(key, &decoded)) decoded_at = UINT64_MAX;
  }
}

bool Store::TypeOf(std::string_view key, ValueType* type) {
  if (key.size() > kMaxKeyLength) return false;
  LockedKey k(arena_.get(), key);
  if (!k.live()) return false;
  *type = static_cast<ValueType>(k.header()->value_type);
  return true;
}

bool Store::PExpire(std::string_view key, int64_t ms) {
  if (key.size() > kMaxKeyLength || ms <= 0) return false;
  LockedKey k(arena_.get(), key);
  if (!k.live()) return false;
  k.view.SetDeadline(k.entry.block, DeadlineAfterMs(ms, MonotonicMs()));
  return true;
}

bool Store::Persist(std::string_view key) {
  if (key.size() > kMaxKeyLength) return false;
  LockedKey k(arena_.get(), key);
  if (!k.live() || k.header()->deadline_ms == 0) return false;
  k.view.ClearDeadline(k.entry.block);
  return true;
}

}  // namespace ephpm::kv
