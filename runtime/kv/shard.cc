#include "runtime/kv/shard.h"

#include "runtime/kv/compression.h"
#include "runtime/kv/owner_lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ephpm::kv {
namespace {

constexpr size_t kMinChunkData = 56;  // continuation chunks smaller than this are not worth a link

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace

uint64_t HashKey(const Arena* arena, std::string_view key) {
  return XXH3_64bits_withSeed(key.data(), key.size(), arena->header()->seed);
}

ShardLock::ShardLock(Arena* arena, uint32_t index) : shard_(arena->shard(index)) {
  if (uint32_t dead_owner = OwnerLock::Lock(&shard_->lock_word, arena->lock_domain())) {
    uint64_t lost = std::min<uint64_t>(shard_->count, arena->capacity());
    arena->ResetShard(index);
    ShardView(arena, index).BumpAllWatches();
    shard_->discards.fetch_add(1, std::memory_order_relaxed);
    arena->ReportDiscard(index, dead_owner, lost);
  }
}

ShardLock::~ShardLock() {
  CloseShardWrite(shard_);
  OwnerLock::Unlock(&shard_->lock_word);
}

ShardView::ShardView(Arena* arena, uint32_t index)
    : arena_(arena),
      index_(index),
      s_(arena->shard(index)),
      buckets_(arena->buckets(index)),
      dense_(arena->dense(index)),
      ttl_(arena->ttl(index)),
      region_bytes_(arena->region_bytes()),
      alloc_(&s_->alloc, arena->region(index)) {}

Found ShardView::Find(std::string_view key, uint64_t hash) {
  uint32_t tag = HashTag(hash);
  uint32_t* link = &buckets_[Bucket(hash)];
  while (uint32_t block = *link) {
    if (!Plausible(block)) return {};  // a corrupt link ends the chain
    EntryHeader* e = Entry(block);
    if (e->hash_tag == tag && e->key_len == key.size() &&
        std::memcmp(e + 1, key.data(), key.size()) == 0) {
      return {block, link};
    }
    link = &e->bucket_next;
  }
  return {};
}

uint64_t ShardView::HashOf(uint32_t block) const {
  const EntryHeader* e = Entry(block);
  return HashKey(arena_, {reinterpret_cast<const char*>(e + 1), e->key_len});
}

void ShardView::FreeBlocks(uint32_t head) {
  s_->bytes_saved -= std::min(SavedBy(head), s_->bytes_saved);
  uint64_t bytes = alloc_.BlockBytes(head);
  uint32_t c = Entry(head)->chunk_next;
  alloc_.Free(head);
  while (c != 0) {
    uint32_t next = reinterpret_cast<ChunkHeader*>(alloc_.Payload(c))->next;
    bytes += alloc_.BlockBytes(c);
    alloc_.Free(c);
    c = next;
  }
  s_->used_memory -= std::min(bytes, s_->used_memory);
}

void ShardView::Unlink(uint32_t block) {
  EntryHeader* e = Entry(block);
  if (s_->count == 0 || e->dense_index >= s_->count) return;  // only a corrupt arena
  uint32_t last = dense_[s_->count - 1];
  dense_[e->dense_index] = last;
  Entry(last)->dense_index = e->dense_index;
  --s_->count;
  RemoveFromTtl(e);
}

void ShardView::RemoveFromTtl(EntryHeader* e) {
  if (e->ttl_index == kNoIndex || e->ttl_index >= s_->ttl_count) return;
  uint32_t last_ttl = ttl_[s_->ttl_count - 1];
  ttl_[e->ttl_index] = last_ttl;
  Entry(last_ttl)->ttl_index = e->ttl_index;
  --s_->ttl_count;
  e->ttl_index = kNoIndex;
}

bool ShardView::OverwriteInPlace(uint32_t block, std::string_view value, int64_t deadline_ms,
                                 uint64_t hash, uint8_t encoding) {
  EntryHeader* e = Entry(block);
  size_t needed = sizeof(EntryHeader) + e->key_len + value.size();
  size_t room = alloc_.PayloadSize(block);
  if (e->chunk_next != 0 || needed > room || room > 2 * needed + 64) return false;
  OpenShardWrite(s_);
  s_->bytes_saved -= std::min(SavedBy(block), s_->bytes_saved);
  std::memcpy(reinterpret_cast<char*>(e + 1) + e->key_len, value.data(), value.size());
  e->value_len = static_cast<uint32_t>(value.size());
  e->value_type = static_cast<uint8_t>(ValueType::kString);  // a SET over a hash makes a string
  e->encoding = encoding;
  s_->bytes_saved += SavedBy(block);
  e->lru_ms = ArenaClock();
  if (deadline_ms == 0) {
    ClearDeadline(block);
  } else {
    SetDeadline(block, deadline_ms);
  }
  BumpWatch(hash);
  PublishCounts();
  return true;
}

void ShardView::Remove(const Found& f, uint64_t hash) {
  OpenShardWrite(s_);
  *f.link = Entry(f.block)->bucket_next;
  Unlink(f.block);
  FreeBlocks(f.block);
  BumpWatch(hash);
  PublishCounts();
}

void ShardView::RemoveBlock(uint32_t block) {
  const EntryHeader* e = Entry(block);
  uint64_t hash = HashOf(block);
  Found f = Find({reinterpret_cast<const char*>(e + 1), e->key_len}, hash);
  if (f.block == block) Remove(f, hash);  // else unreachable: only a corrupt arena
}

uint32_t ShardView::Build(std::string_view key, uint64_t hash, std::string_view value,
                          int64_t deadline_ms, uint8_t encoding) {
  size_t head_min = sizeof(EntryHeader) + key.size();
  uint32_t head = alloc_.AllocateUpTo(head_min, head_min + value.size());
  if (head == 0) return 0;
  EntryHeader* e = Entry(head);
  *e = EntryHeader{};
  e->hash_tag = HashTag(hash);
  e->key_len = static_cast<uint16_t>(key.size());
  e->value_len = static_cast<uint32_t>(value.size());
  e->lru_ms = ArenaClock();
  e->ttl_index = kNoIndex;
  e->deadline_ms = deadline_ms;
  char* data = reinterpret_cast<char*>(e + 1);
  std::memcpy(data, key.data(), key.size());
  size_t in_head = std::min(value.size(), alloc_.PayloadSize(head) - head_min);
  std::memcpy(data + key.size(), value.data(), in_head);
  uint64_t charge = alloc_.BlockBytes(head);
  uint32_t* link = &e->chunk_next;
  for (size_t done = in_head; done < value.size();) {
    size_t rest = value.size() - done;
    uint32_t c = alloc_.AllocateUpTo(sizeof(ChunkHeader) + std::min(rest, kMinChunkData),
                                     sizeof(ChunkHeader) + rest);
    if (c == 0) {
      s_->used_memory += charge;  // credited so that FreeBlocks can debit it
      FreeBlocks(head);           // also frees the chunks linked so far
      return 0;
    }
    auto* ch = reinterpret_cast<ChunkHeader*>(alloc_.Payload(c));
    ch->next = 0;
    ch->len = static_cast<uint32_t>(std::min(rest, alloc_.PayloadSize(c) - sizeof(ChunkHeader)));
    std::memcpy(ch + 1, value.data() + done, ch->len);
    done += ch->len;
    charge += alloc_.BlockBytes(c);
    *link = c;
    link = &ch->next;
  }
  s_->used_memory += charge;
  e->encoding = encoding;  // only now: a failed build above frees a raw entry, saving nothing
  s_->bytes_saved += SavedBy(head);
  return head;
}

void ShardView::Publish(uint32_t block, const Found& old, uint64_t hash) {
  OpenShardWrite(s_);
  EntryHeader* e = Entry(block);
  if (old.block != 0) {
    e->bucket_next = Entry(old.block)->bucket_next;
    *old.link = block;
    Unlink(old.block);
    FreeBlocks(old.block);
  } else {
    uint32_t* bucket = &buckets_[Bucket(hash)];
    e->bucket_next = *bucket;
    *bucket = block;
  }
  e->dense_index = s_->count;
  dense_[s_->count++] = block;
  if (e->deadline_ms != 0) {
    e->ttl_index = s_->ttl_count;
    ttl_[s_->ttl_count++] = block;
  }
  BumpWatch(hash);
  PublishCounts();
}

void ShardView::SetDeadline(uint32_t block, int64_t deadline_ms) {
  OpenShardWrite(s_);
  EntryHeader* e = Entry(block);
  e->deadline_ms = deadline_ms;
  if (e->ttl_index == kNoIndex) {
    e->ttl_index = s_->ttl_count;
    ttl_[s_->ttl_count++] = block;
    PublishCounts();
  }
}

void ShardView::ClearDeadline(uint32_t block) {
  EntryHeader* e = Entry(block);
  RemoveFromTtl(e);
  e->deadline_ms = 0;
  PublishCounts();
}

bool ShardView::Expired(const EntryHeader* e, int64_t* now) const {
  if (e->deadline_ms == 0) return false;
  if (*now == 0) *now = MonotonicMs();
  return *now >= e->deadline_ms;
}

bool ShardView::ReapIfExpired(Found* f, uint64_t hash, int64_t* now) {
  if (f->block == 0 || !Expired(Entry(f->block), now)) return false;
  Remove(*f, hash);
  Count(s_->expired);
  *f = Found{};
  return true;
}

void ShardView::CopyValue(uint32_t block, std::string* out) const {
  out->resize(Entry(block)->value_len);
  CopyValueTo(block, out->data());
}

uint64_t ShardView::SavedBy(uint32_t block) const {
  const EntryHeader* e = Entry(block);
  if (e->encoding == 0) return 0;
  char header[kEncodedHeaderBytes];
  size_t got = 0;
  ForEachValuePiece(block, [&](const char* p, size_t n) {
    size_t take = std::min(n, sizeof(header) - got);
    std::memcpy(header + got, p, take);
    got += take;
  });
  size_t original = 0;
  if (!RecordedLength({header, got}, &original) || original <= e->value_len) return 0;
  return original - e->value_len;
}

void ShardView::CopyValueTo(uint32_t block, char* dest) const {
  ForEachValuePiece(block, [&dest](const char* p, size_t n) {
    std::memcpy(dest, p, n);
    dest += n;
  });
}

uint32_t ShardView::ArenaClock() const {
  return static_cast<uint32_t>(CoarseMonotonicMs() - arena_->header()->anchor_ms);
}

void ShardView::TouchLru(EntryHeader* e, bool force) {
  uint32_t now = ArenaClock();
  if (force || now - e->lru_ms >= kLruGranularityMs) e->lru_ms = now;
}

uint64_t ShardView::NextRandom() {
  uint64_t x = s_->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  s_->rng = x;
  return x;
}

void ShardView::PublishCounts() {
  s_->keys_published.store(s_->count, std::memory_order_relaxed);
  s_->used_published.store(s_->used_memory, std::memory_order_relaxed);
  s_->saved_published.store(s_->bytes_saved, std::memory_order_relaxed);
  s_->expires_published.store(s_->ttl_count, std::memory_order_relaxed);
}

void ShardView::BumpWatch(uint64_t hash) {
  if (s_->slots_in_use.load(std::memory_order_relaxed) == 0) return;
  WatchSlot* slots = arena_->slots(index_);
  for (uint32_t i = 0; i < kSlotsPerShard; ++i) {
    WatchSlot& w = slots[i];
    if (w.in_use && w.hash == hash) {
      w.version = arena_->header()->version_counter.fetch_add(1) + 1;
      w.seq.fetch_add(1, std::memory_order_release);
      if (w.waiters) FutexWakeAll(&w.seq);
    }
  }
}

void ShardView::BumpAllWatches() {
  if (s_->slots_in_use.load(std::memory_order_relaxed) == 0) return;
  WatchSlot* slots = arena_->slots(index_);
  for (uint32_t i = 0; i < kSlotsPerShard; ++i) {
    WatchSlot& w = slots[i];
    if (!w.in_use) continue;
    w.version = arena_->header()->version_counter.fetch_add(1) + 1;
    w.seq.fetch_add(1, std::memory_order_release);
    FutexWakeAll(&w.seq);
  }
}

}  // namespace ephpm::kv
