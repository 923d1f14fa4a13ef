// The keyed operations. Each one hashes the key, locks the key's shard (ShardLock), works through a
// ShardView, and unlocks before returning. No operation ever holds two shard locks. Reads try
// read.cc's lock-free path first and come here only when it cannot answer.
#include "runtime/kv/store.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "runtime/kv/arena.h"
#include "runtime/kv/compression.h"
#include "runtime/kv/read.h"
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

// What every keyed operation starts with: the key's hash, its shard locked, and its entry looked up,
// an expired entry already reaped (expired means absent, docs/kv-contract.md section 1).
struct KeyOp {
  KeyOp(Arena* arena, std::string_view k)
      : hash(HashKey(arena, k)),
        shard(ShardOf(arena, hash)),
        lock(arena, shard),
        view(arena, shard),
        entry(view.Find(k, hash)) {
    view.ReapIfExpired(&entry, hash, &now);
  }
  bool live() const { return entry.block != 0; }
  bool is_string() const { return header()->value_type == uint8_t(ValueType::kString); }
  EntryHeader* header() const { return view.Entry(entry.block); }

  const uint64_t hash;
  const uint32_t shard;
  ShardLock lock;
  ShardView view;
  Found entry;
  int64_t now = 0;  // read from the clock only when the entry has a deadline
};

// Builds the key's new entry (evicting for room, never the key's current entry) and swaps it in
// for the current one. false: refused, nothing changed.
bool Replace(KeyOp& op, std::string_view key, std::string_view value, int64_t deadline,
             uint8_t encoding = 0) {
  bool evicted = false;
  uint32_t block = BuildWithEviction(
      op.view, op.entry.block,
      [&] { return op.view.Build(key, op.hash, value, deadline, encoding); }, &evicted);
  if (block == 0) return false;
  if (evicted) op.entry = op.view.Find(key, op.hash);  // eviction may have moved the link
  op.view.Publish(block, op.entry, op.hash);
  return true;
}

// Whether the live entry of op holds exactly `bytes` as stored.
bool StoredEquals(const KeyOp& op, std::string_view bytes) {
  if (op.header()->value_len != bytes.size()) return false;
  bool equal = true;
  size_t offset = 0;
  op.view.ForEachValuePiece(op.entry.block, [&](const char* p, size_t n) {
    equal = equal && std::memcmp(p, bytes.data() + offset, n) == 0;
    offset += n;
  });
  return equal;
}

// A compressed value copied out under its shard lock, to be decoded once the lock is released.
// Back under the lock, Holds() tells whether the entry still stores exactly those bytes, and so
// whether `decoded` is still its value (IncrBy and DelIfEq retry otherwise).
struct EncodedCopy {
  void Take(const KeyOp& op) {
    encoding = op.header()->encoding;
    op.view.CopyValue(op.entry.block, &stored);
    taken = true;
  }
  bool Holds(const KeyOp& op) const {
    return taken && op.header()->encoding == encoding && StoredEquals(op, stored);
  }
  // Decodes `stored` into `decoded`; a corrupt value is counted (Stats::decode_errors).
  bool Decode(Arena* arena) {
    if (DecodeTo(encoding, stored, &decoded)) return true;
    arena->header()->decode_errors.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  bool taken = false;
  uint8_t encoding = 0;
  std::string stored, decoded;
};

// One locked attempt of IncrBy. false: the entry is compressed and *copy must be decoded (with
// no lock held) before the next attempt.
bool IncrByOnce(Arena* arena, std::string_view key, int64_t delta, int64_t* result,
                EncodedCopy* copy, IncrStatus* status) {
  KeyOp op(arena, key);
  int64_t sum = delta;
  int64_t deadline = 0;
  if (op.live()) {
    // Integer text is short: anything long enough to be chunked is zero-padded at best, so it is
    // gathered into a buffer first (rare); otherwise it is parsed where it lies.
    std::string gathered;
    std::string_view text;
    const EntryHeader* e = op.header();
    if (e->encoding != 0) {
      if (!copy->Holds(op)) {
        copy->Take(op);
        return false;
      }
      text = copy->decoded;
    } else if (e->chunk_next == 0) {
      text = {reinterpret_cast<const char*>(e + 1) + e->key_len, e->value_len};
    } else {
      op.view.CopyValue(op.entry.block, &gathered);
      text = gathered;
    }
    int64_t current;
    *status = IncrStatus::kNotInteger;
    if (!ParseInteger(text, &current)) return true;
    *status = IncrStatus::kOverflow;
    if (__builtin_add_overflow(current, delta, &sum)) return true;
    deadline = e->deadline_ms;  // an update keeps the TTL
  }
  // The result is stored raw: at most 20 digits, which no codec shortens once the 8-byte header of
  // a compressed value is counted.
  char text[24];
  char* end = std::to_chars(text, text + sizeof(text), sum).ptr;
  std::string_view value(text, static_cast<size_t>(end - text));
  *result = sum;
  *status = IncrStatus::kOk;
  if (op.live() && op.view.OverwriteInPlace(op.entry.block, value, deadline, op.hash)) return true;
  if (!Replace(op, key, value, deadline)) *status = IncrStatus::kRefused;
  return true;
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

std::unique_ptr<Store> Store::AttachNamed(const std::string& name, AttachError* why,
                                          std::string* error) {
  auto arena = Arena::Attach(name, why, error);
  return arena ? std::unique_ptr<Store>(new Store(std::move(arena))) : nullptr;
}

std::string Store::NameFor(std::string_view config_path, std::string_view listen) {
  std::string text = config_path.empty() ? "listen:" + std::string(listen)
                                         : std::string(config_path);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/ephpm-%u-%016llx", static_cast<unsigned>(geteuid()),
                static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
  return buf;
}

bool Store::is_named() const { return arena_->kind() == Arena::Kind::kNamed; }
const std::string& Store::name() const { return arena_->name(); }
const Options& Store::options() const { return arena_->options(); }

bool Store::GetStored(std::string_view key, std::string* value, uint8_t* encoding) {
  if (key.size() > kMaxKeyLength) return false;
  switch (GetWithoutLock(arena_.get(), key, HashKey(arena_.get(), key), value)) {
    case LockFree::kHit:
      *encoding = static_cast<uint8_t>(ValueEncoding::kRaw);  // the lock-free path reads raw values only
      return true;
    case LockFree::kMiss: return false;
    case LockFree::kTooBig:
    case LockFree::kLocked: break;
  }
  KeyOp op(arena_.get(), key);
  if (!op.live() || !op.is_string()) {  // a RESP hash is not a value (docs/kv-contract.md 4.8)
    CountRead(arena_.get(), false);
    return false;
  }
  *encoding = op.header()->encoding;
  op.view.CopyValue(op.entry.block, value);
  op.view.TouchLru(op.header(), /*force=*/false);
  CountRead(arena_.get(), true);
  return true;
}

Store::ReadResult Store::Read(std::string_view key, char* buffer, size_t capacity,
                              Peeked* peeked) {
  if (key.size() > kMaxKeyLength) return ReadResult::kMiss;
  uint64_t hash = HashKey(arena_.get(), key);
  switch (ReadWithoutLock(arena_.get(), key, hash, buffer, capacity, peeked)) {
    case LockFree::kHit: return ReadResult::kCopied;
    case LockFree::kTooBig: return ReadResult::kTooBig;
    case LockFree::kMiss: return ReadResult::kMiss;
    case LockFree::kLocked: break;
  }
  return ReadLocked(key, buffer, capacity, peeked);
}

Store::ReadResult Store::ReadLocked(std::string_view key, char* buffer, size_t capacity,
                                    Peeked* peeked) {
  KeyOp op(arena_.get(), key);
  if (!op.live() || !op.is_string()) {
    CountRead(arena_.get(), false);
    return ReadResult::kMiss;
  }
  EntryHeader* e = op.header();
  op.view.TouchLru(e, /*force=*/false);
  CountRead(arena_.get(), true);
  // The sequence is odd when this lock hold changed the shard (reaped a key, or discarded the
  // shard): ReadPeeked then refuses, and the caller reads again.
  *peeked = Peeked{op.shard, op.entry.block, op.view.shard()->seq.load(std::memory_order_relaxed),
                   e->value_len, e->encoding};
  if (e->value_len > capacity) return ReadResult::kTooBig;
  op.view.CopyValueTo(op.entry.block, buffer);
  return ReadResult::kCopied;
}

bool Store::ReadPeeked(const Peeked& peeked, char* dest) {
  return ReadPeekedWithoutLock(arena_.get(), peeked, dest);
}

bool Store::Set(std::string_view key, std::string_view value, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || value.size() > UINT32_MAX) return false;
  int64_t deadline = DeadlineFor(ttl_seconds, ttl_seconds > 0 ? MonotonicMs() : 0);
  std::string encoded;  // compressed before the lock is taken
  uint8_t encoding = Encode(arena_->options(), value, &encoded);
  if (encoding != 0) value = encoded;
  KeyOp op(arena_.get(), key);
  if (op.live() && op.view.OverwriteInPlace(op.entry.block, value, deadline, op.hash, encoding)) {
    return true;
  }
  return Replace(op, key, value, deadline, encoding);
}

bool Store::SetNx(std::string_view key, std::string_view value, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || value.size() > UINT32_MAX) return false;
  int64_t deadline = DeadlineFor(ttl_seconds, ttl_seconds > 0 ? MonotonicMs() : 0);
  std::string encoded;
  uint8_t encoding = Encode(arena_->options(), value, &encoded);
  if (encoding != 0) value = encoded;
  KeyOp op(arena_.get(), key);
  if (op.live()) return false;
  return Replace(op, key, value, deadline, encoding);
}

int Store::Del(std::string_view key) {
  if (key.size() > kMaxKeyLength) return 0;
  KeyOp op(arena_.get(), key);
  if (!op.live()) return 0;
  op.view.Remove(op.entry, op.hash);
  return 1;
}

bool Store::Exists(std::string_view key) {
  if (key.size() > kMaxKeyLength) return false;
  KeyOp op(arena_.get(), key);
  return op.live();
}

IncrStatus Store::IncrBy(std::string_view key, int64_t delta, int64_t* result) {
  if (key.size() > kMaxKeyLength) return IncrStatus::kRefused;
  EncodedCopy copy;
  IncrStatus status = IncrStatus::kRefused;
  while (!IncrByOnce(arena_.get(), key, delta, result, &copy, &status)) {
    if (!copy.Decode(arena_.get())) return IncrStatus::kNotInteger;  // never overwrite it
  }
  return status;
}

bool Store::Expire(std::string_view key, int64_t ttl_seconds) {
  if (key.size() > kMaxKeyLength || ttl_seconds <= 0) return false;
  KeyOp op(arena_.get(), key);
  if (!op.live()) return false;
  op.view.SetDeadline(op.entry.block, DeadlineFor(ttl_seconds, MonotonicMs()));
  return true;
}

int64_t Store::Pttl(std::string_view key) {
  if (key.size() > kMaxKeyLength) return -2;
  KeyOp op(arena_.get(), key);
  if (!op.live()) return -2;
  int64_t deadline = op.header()->deadline_ms;
  if (deadline == 0) return -1;
  return deadline - op.now;  // the expiry check read the clock, and deadline > now
}

int64_t Store::Ttl(std::string_view key) {
  int64_t ms = Pttl(key);
  if (ms < 0) return ms;
  return ms / 1000 + (ms % 1000 != 0);
}

void Store::FlushAll() {
  for (uint32_t i = 0; i < arena_->shard_count(); ++i) {
    ShardLock lock(arena_.get(), i);
    arena_->ResetShard(i);
    ShardView(arena_.get(), i).BumpAllWatches();
  }
}

bool Store::DelIfEq(std::string_view key, std::string_view token) {
  if (key.size() > kMaxKeyLength) return false;
  EncodedCopy copy;
  for (;;) {
    {
      KeyOp op(arena_.get(), key);
      if (!op.live()) return false;
      if (op.header()->encoding == 0 || copy.Holds(op)) {  // raw, or decoded equal to the token
        if (op.header()->encoding == 0 && !StoredEquals(op, token)) return false;
        op.view.Remove(op.entry, op.hash);
        return true;
      }
      copy.Take(op);
    }
    size_t length = 0;  // a length that differs from the token's settles it without decoding
    if (DecodedLength(copy.encoding, copy.stored, &length) && length != token.size()) return false;
    if (!copy.Decode(arena_.get()) || copy.decoded != token) return false;
  }
}

uint64_t Store::DiscardedShards() {
  uint64_t total = 0;
  for (uint32_t i = 0; i < arena_->shard_count(); ++i) {
    total += arena_->shard(i)->discards.load(std::memory_order_relaxed);
  }
  return total;
}

void Store::AbandonLockForTesting(std::string_view key) {
  uint32_t shard = ShardOf(arena_.get(), HashKey(arena_.get(), key));
  new ShardLock(arena_.get(), shard);  // never destroyed: the lock stays held
  OpenShardWrite(arena_->shard(shard));  // ... in the middle of a write
}

Stats Store::GetStats() {
  Stats st;
  const ArenaHeader* h = arena_->header();
  st.memory_limit = h->memory_limit;
  for (uint32_t i = 0; i < arena_->shard_count(); ++i) {
    const Shard* s = arena_->shard(i);
    st.keys += s->keys_published.load(std::memory_order_relaxed);
    st.expires += s->expires_published.load(std::memory_order_relaxed);
    st.used_memory += s->used_published.load(std::memory_order_relaxed);
    st.evictions += s->evictions.load(std::memory_order_relaxed);
    st.expired += s->expired.load(std::memory_order_relaxed);
    st.discarded_shards += s->discards.load(std::memory_order_relaxed);
    st.bytes_saved += s->saved_published.load(std::memory_order_relaxed);
  }
  st.decode_errors = h->decode_errors.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < kReadCounterSlots; ++i) {
    st.hits += arena_->read_counters(i)->hits.load(std::memory_order_relaxed);
    st.misses += arena_->read_counters(i)->misses.load(std::memory_order_relaxed);
  }
  return st;
}

}  // namespace ephpm::kv
