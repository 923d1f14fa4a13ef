// The keyed operations. Each one hashes the key, locks the key's shard (ShardLock), works through a
// ShardView, and unlocks before returning. No operation ever holds two shard locks.
#include "runtime/kv/store.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "runtime/kv/arena.h"
#include "runtime/kv/shard.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ephpm::kv {
namespace {

// now + ttl seconds, saturating: a huge TTL never wraps into the past or into "persistent".
int64_t DeadlineFor(int64_t ttl_seconds, int64_t now) {
  if (ttl_seconds <= 0) return 0;
  if (ttl_seconds >= (kMaxDeadlineMs - now) / 1000) return kMaxDeadlineMs;
  return now + ttl_seconds * 1000;
}

// Parses the stored text of an integer: optional single sign, then one or more ASCII digits,
// within int64 (leading zeros allowed, so the text may be long).
bool ParseInteger(std::string_view text, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return false;
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    unsigned digit = static_cast<unsigned char>(text[i]) - '0';
    if (digit > 9) return false;
    if (magnitude > (uint64_t{INT64_MAX} + 1 - digit) / 10) return false;  // beyond int64 either way
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    *out = static_cast<int64_t>(0 - magnitude);
    return true;
  }
  if (magnitude > uint64_t{INT64_MAX}) return false;
  *out = static_cast<int64_t>(magnitude);
  return true;
}

// Runs `build` until the region has room, evicting one victim (never `exclude`) per failed try.
// Returns the built block, or 0 when the write must be refused.
template <typename BuildFn>
uint32_t BuildWithEviction(ShardView& view, uint32_t exclude, BuildFn build, bool* evicted) {
  for (int victims = 0;; ++victims) {
    if (uint32_t block = build()) return block;
    if (victims == kMaxVictimsPerWrite || !view.EvictOne(exclude)) return 0;
    *evicted = true;
  }
}

}  // namespace

Store::Store(std::unique_ptr<Arena> arena) : arena_(std::move(arena)) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::CreatePrivate(const Options& options, std::string* error) {
  auto arena = Arena::Create(Arena::Kind::kPrivate, "", options, error);
  return arena ? std::unique_ptr<Store>(new Store(std::move(arena))) : nullptr;
}

std::unique_ptr<Store> Store::CreateShared(const Options& options, std::string* error) {
  auto arena = Arena::Create(Arena::Kind::kShared, "", options, error);
  return arena ? std::unique_ptr<Store>(new Store(std::move(arena))) : nullptr;
}

std::unique_ptr<Store> Store::CreateNamed(const std::string& name, const Options& options,
                                          std::string* error) {
  auto arena = Arena::Create(Arena::Kind::kNamed, name, options, error);
  return arena ? std::unique_ptr<Store>(new Store(std::move(arena))) : nullptr;
}

std::unique_ptr<Store> Store::AttachNamed(const std::string& name, std::string* error) {
  auto arena = Arena::Attach(name, error);
  return arena ? std::unique_ptr<Store>(new Store(std::move(arena))) : nullptr;
}

std::string Store::NameFor(std::string_view text) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "/ephpm-%016llx",
                static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
  return buf;
}

bool Store::is_named() const { return arena_->kind() == Arena::Kind::kNamed; }
const std::string& Store::name() const { return arena_->name(); }
const Options& Store::options() const { return arena_->options(); }

bool Store::Get(std::string_view key, std::string* value) {
  if (key.size() > kMaxKeyLength) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) {
    ShardView::Count(view.shard()->misses);
    return false;
  }
  view.CopyValue(f.block, value);
  view.TouchLru(view.Entry(f.block), /*force=*/false);
  ShardView::Count(view.shard()->hits);
  return true;
}

Store::ReadResult Store::Read(std::string_view key, char* buffer, size_t capacity,
                              Peeked* peeked) {
  if (key.size() > kMaxKeyLength) return ReadResult::kMiss;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) {
    ShardView::Count(view.shard()->misses);
    return ReadResult::kMiss;
  }
  EntryHeader* e = view.Entry(f.block);
  view.TouchLru(e, /*force=*/false);
  ShardView::Count(view.shard()->hits);
  *peeked = Peeked{shard, f.block, view.shard()->change_seq, e->value_len};
  if (e->value_len > capacity) return ReadResult::kTooBig;
  view.ForEachValuePiece(f.block, [&buffer](const char* p, size_t n) {
    std::memcpy(buffer, p, n);
    buffer += n;
  });
  return ReadResult::kCopied;
}

bool Store::ReadPeeked(const Peeked& peeked, char* dest) {
  ShardLock lock(arena_.get(), peeked.shard);
  ShardView view(arena_.get(), peeked.shard);
  if (view.shard()->change_seq != peeked.change_seq) return false;
  view.ForEachValuePiece(peeked.block, [&dest](const char* p, size_t n) {
    std::memcpy(dest, p, n);
    dest += n;
  });
  return true;
}

bool Store::Set(std::string_view key, std::string_view value, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || value.size() > UINT32_MAX) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  int64_t deadline = DeadlineFor(ttl_seconds, ttl_seconds > 0 ? MonotonicMs() : 0);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found old = view.Find(key, hash);
  if (old.block != 0 && view.OverwriteInPlace(old.block, value, deadline, hash)) return true;
  bool evicted = false;
  uint32_t block = BuildWithEviction(
      view, old.block, [&] { return view.Build(key, hash, value, deadline); }, &evicted);
  if (block == 0) return false;
  if (evicted) old = view.Find(key, hash);  // eviction may have moved the link
  view.Publish(block, old, hash);
  return true;
}

bool Store::SetNx(std::string_view key, std::string_view value, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || value.size() > UINT32_MAX) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  int64_t now = ttl_seconds > 0 ? MonotonicMs() : 0;
  int64_t deadline = DeadlineFor(ttl_seconds, now);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found old = view.Find(key, hash);
  if (old.block != 0 && !view.ReapIfExpired(&old, hash, &now)) return false;
  bool evicted = false;
  uint32_t block = BuildWithEviction(
      view, 0, [&] { return view.Build(key, hash, value, deadline); }, &evicted);
  if (block == 0) return false;
  view.Publish(block, Found{}, hash);
  return true;
}

int Store::Del(std::string_view key) {
  if (key.size() > kMaxKeyLength) return 0;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) return 0;
  view.Remove(f, hash);
  return 1;
}

bool Store::Exists(std::string_view key) {
  if (key.size() > kMaxKeyLength) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  return f.block != 0 && !view.ReapIfExpired(&f, hash, &now);
}

IncrStatus Store::IncrBy(std::string_view key, int64_t delta, int64_t* result) {
  if (key.size() > kMaxKeyLength) return IncrStatus::kRefused;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found old = view.Find(key, hash);
  int64_t now = 0;
  int64_t sum = delta;
  int64_t deadline = 0;
  if (old.block != 0 && !view.ReapIfExpired(&old, hash, &now)) {
    // Integer text is short: anything long enough to be chunked is zero-padded at best, so it is
    // gathered into a buffer first (rare); otherwise it is parsed where it lies.
    std::string gathered;
    std::string_view text;
    const EntryHeader* e = view.Entry(old.block);
    if (e->chunk_next == 0) {
      text = {reinterpret_cast<const char*>(e + 1) + e->key_len, e->value_len};
    } else {
      view.CopyValue(old.block, &gathered);
      text = gathered;
    }
    int64_t current;
    if (!ParseInteger(text, &current)) return IncrStatus::kNotInteger;
    if (__builtin_add_overflow(current, delta, &sum)) return IncrStatus::kOverflow;
    deadline = view.Entry(old.block)->deadline_ms;  // an update keeps the TTL
  }
  char text[24];
  char* end = std::to_chars(text, text + sizeof(text), sum).ptr;
  std::string_view value(text, static_cast<size_t>(end - text));
  *result = sum;
  if (old.block != 0 && view.OverwriteInPlace(old.block, value, deadline, hash)) {
    return IncrStatus::kOk;
  }
  bool evicted = false;
  uint32_t block = BuildWithEviction(
      view, old.block, [&] { return view.Build(key, hash, value, deadline); }, &evicted);
  if (block == 0) return IncrStatus::kRefused;
  if (evicted) old = view.Find(key, hash);
  view.Publish(block, old, hash);
  return IncrStatus::kOk;
}

bool Store::Expire(std::string_view key, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || ttl_seconds <= 0) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) return false;
  view.SetDeadline(f.block, DeadlineFor(ttl_seconds, MonotonicMs()));
  return true;
}

int64_t Store::Pttl(std::string_view key) {
  if (key.size() > kMaxKeyLength) return -2;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) return -2;
  int64_t deadline = view.Entry(f.block)->deadline_ms;
  if (deadline == 0) return -1;
  return deadline - now;  // Expired() read the clock, and deadline > now
}

int64_t Store::Ttl(std::string_view key) {
  int64_t ms = Pttl(key);
  if (ms < 0) return ms;
  return ms / 1000 + (ms % 1000 != 0);
}

void Store::FlushAll() {
  for (uint32_t i = 0; i < arena_->header()->shard_count; ++i) {
    ShardLock lock(arena_.get(), i);
    arena_->ResetShard(i);
    ShardView(arena_.get(), i).BumpAllWatches();
  }
}

bool Store::DelIfEq(std::string_view key, std::string_view token) {
  if (key.size() > kMaxKeyLength) return false;
  uint64_t hash = HashKey(arena_.get(), key);
  uint32_t shard = ShardOf(arena_.get(), hash);
  ShardLock lock(arena_.get(), shard);
  ShardView view(arena_.get(), shard);
  Found f = view.Find(key, hash);
  int64_t now = 0;
  if (f.block == 0 || view.ReapIfExpired(&f, hash, &now)) return false;
  if (view.Entry(f.block)->value_len != token.size()) return false;
  bool equal = true;
  size_t offset = 0;
  view.ForEachValuePiece(f.block, [&](const char* p, size_t n) {
    equal = equal && std::memcmp(p, token.data() + offset, n) == 0;
    offset += n;
  });
  if (!equal) return false;
  view.Remove(f, hash);
  return true;
}

uint64_t Store::DiscardedShards() {
  uint64_t total = 0;
  for (uint32_t i = 0; i < arena_->header()->shard_count; ++i) {
    total += arena_->shard(i)->discards.load(std::memory_order_relaxed);
  }
  return total;
}

void Store::AbandonLockForTesting(std::string_view key) {
  uint32_t shard = ShardOf(arena_.get(), HashKey(arena_.get(), key));
  new ShardLock(arena_.get(), shard);  // never destroyed: the lock stays held
}

Stats Store::GetStats() {
  Stats st;
  const ArenaHeader* h = arena_->header();
  st.memory_limit = h->memory_limit;
  for (uint32_t i = 0; i < h->shard_count; ++i) {
    const Shard* s = arena_->shard(i);
    st.keys += s->keys_published.load(std::memory_order_relaxed);
    st.used_memory += s->used_published.load(std::memory_order_relaxed);
    st.hits += s->hits.load(std::memory_order_relaxed);
    st.misses += s->misses.load(std::memory_order_relaxed);
    st.evictions += s->evictions.load(std::memory_order_relaxed);
    st.expired += s->expired.load(std::memory_order_relaxed);
  }
  return st;
}

}  // namespace ephpm::kv
