// ShardView: the operations on one locked shard that store.cc, evict.cc, expire.cc and watch.cc
// share. Internal to runtime/kv.
//
// Invariants of a shard (hold whenever its lock is free):
//  * Every entry is reachable from exactly one bucket chain, sits at dense[entry.dense_index], and,
//    iff it has a deadline, at ttl[entry.ttl_index]. dense[0, count) and ttl[0, ttl_count) hold
//    no other blocks.
//  * used_memory is the sum of the block sizes (head and chunks) of all entries.
//  * A write builds its new entry completely before linking it and unlinking the old one, so a
//    holder that dies mid-write leaves only unreachable blocks, and the next locker resets the whole
//    shard anyway (ShardLock).
//  * Every change a lock-free reader could observe happens while Shard::seq is odd: the mutating
//    calls below open the write (OpenShardWrite), releasing the lock closes it (read.cc).
#ifndef EPHPM_RUNTIME_KV_SHARD_H_
#define EPHPM_RUNTIME_KV_SHARD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/kv/arena.h"

namespace ephpm::kv {

inline constexpr uint32_t kLruGranularityMs = 100;
inline constexpr int kEvictionSamples = 16;
inline constexpr int kMaxVictimsPerWrite = 100;
inline constexpr int64_t kMaxDeadlineMs = INT64_MAX / 4;  // saturation point of now + ttl

// Locks a shard. If the previous holder died with the lock held, the shard's contents may be
// half-written: it is discarded (entries lost, watchers woken) before the caller sees it.
// Unlocking closes a write the holder opened (Shard::seq back to even).
class ShardLock {
 public:
  ShardLock(Arena* arena, uint32_t index);
  ~ShardLock();
  ShardLock(const ShardLock&) = delete;
  ShardLock& operator=(const ShardLock&) = delete;

 private:
  Shard* shard_;
};

struct Found {
  uint32_t block = 0;     // 0 = not found
  uint32_t* link = nullptr;  // the bucket slot or bucket_next that points at block
};

class ShardView {
 public:
  ShardView(Arena* arena, uint32_t index);

  Shard* shard() const { return s_; }
  RegionAllocator& alloc() { return alloc_; }
  EntryHeader* Entry(uint32_t block) const {
    return reinterpret_cast<EntryHeader*>(alloc_.Payload(block));
  }
  // Whether `block` (read from the shared arena) names an entry header and key that lie inside
  // the shard's region. Checked where an offset is followed on a read path, so that a corrupt
  // arena makes a key unreachable rather than making us read outside the mapping.
  bool Plausible(uint32_t block) const {
    return block != 0 && EntryEnd(block, 0) <= region_bytes_ &&
           EntryEnd(block, Entry(block)->key_len) <= region_bytes_;
  }

  Found Find(std::string_view key, uint64_t hash);
  // Unlinks and frees an entry; bumps its watch slot.
  void Remove(const Found& f, uint64_t hash);
  void RemoveBlock(uint32_t block);  // when only the block is known (eviction, expiry)
  // Builds an entry (not linked) holding `value` stored as `encoding` (a ValueEncoding:
  // compression.h). 0 when the region cannot hold it right now.
  uint32_t Build(std::string_view key, uint64_t hash, std::string_view value, int64_t deadline_ms,
                 uint8_t encoding = 0);
  // Links a built entry, replacing `old` (which may be empty). Bumps the watch slot.
  void Publish(uint32_t block, const Found& old, uint64_t hash);

  bool Expired(const EntryHeader* e, int64_t* now) const;
  // Lazy expiry: true (and the entry reaped) when f names an expired entry.
  bool ReapIfExpired(Found* f, uint64_t hash, int64_t* now);

  void CopyValue(uint32_t block, std::string* out) const;
  void CopyValueTo(uint32_t block, char* dest) const;  // exactly value_len bytes
  // Calls fn(data, len) for each stored piece of the value.
  template <typename Fn>
  void ForEachValuePiece(uint32_t block, Fn fn) const;
  void TouchLru(EntryHeader* e, bool force);

  void SetDeadline(uint32_t block, int64_t deadline_ms);
  void ClearDeadline(uint32_t block);  // the entry becomes persistent
  // Replaces the value of a single-block entry in place when the new value fits its block without
  // wasting more than half of it (no allocation, no eviction, so it cannot be refused). Sets the
  // deadline (0 = persistent) and bumps the watch slot. false: the caller must rebuild the entry.
  bool OverwriteInPlace(uint32_t block, std::string_view value, int64_t deadline_ms, uint64_t hash,
                        uint8_t encoding = 0);
  // What compression saves on this entry (Shard::bytes_saved): 0 for a raw value.
  uint64_t SavedBy(uint32_t block) const;

  // Makes room for a write by evicting up to one victim per call under the store's policy, never
  // `exclude`. false when nothing is eligible.
  bool EvictOne(uint32_t exclude);
  // One sampling round of active expiry: returns (sampled, reaped).
  void ExpireSample(int samples, int64_t now, int* sampled, int* reaped);

  void BumpWatch(uint64_t hash);
  void BumpAllWatches();

  uint64_t NextRandom();
  uint32_t ArenaClock() const;
  void PublishCounts();  // refreshes the lock-free copies of count and used_memory

  Arena* arena() const { return arena_; }

  // Counters are written only under the shard lock, so a plain load+store (no locked
  // read-modify-write) is enough; readers load them without the lock.
  static void Count(std::atomic<uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

 private:
  uint64_t EntryEnd(uint32_t block, uint64_t key_len) const {
    return uint64_t{block} * kUnit + kBlockHeaderSize + sizeof(EntryHeader) + key_len;
  }
  uint32_t HashTag(uint64_t hash) const { return static_cast<uint32_t>(hash >> 32); }
  uint32_t Bucket(uint64_t hash) const {
    return static_cast<uint32_t>((hash >> 12) & s_->bucket_mask);
  }
  void FreeBlocks(uint32_t head);
  uint64_t HashOf(uint32_t block) const;
  void Unlink(uint32_t block);
  void RemoveFromTtl(EntryHeader* e);

  Arena* arena_;
  uint32_t index_;
  Shard* s_;
  uint32_t* buckets_;
  uint32_t* dense_;
  uint32_t* ttl_;
  uint64_t region_bytes_;
  RegionAllocator alloc_;
};

// Every piece is clamped to the value's length and to the region, so a corrupt block size or
// chunk link can shorten what is copied but never overrun the caller's value_len-byte buffer or
// read outside the arena.
template <typename Fn>
void ShardView::ForEachValuePiece(uint32_t block, Fn fn) const {
  const EntryHeader* e = Entry(block);
  uint64_t left = e->value_len;
  uint64_t start = EntryEnd(block, e->key_len);
  uint64_t payload_end = uint64_t{block} * kUnit + alloc_.BlockBytes(block);
  uint64_t end = payload_end < region_bytes_ ? payload_end : region_bytes_;
  uint64_t in_head = start < end ? end - start : 0;
  if (in_head > left) in_head = left;
  if (in_head) fn(reinterpret_cast<const char*>(e + 1) + e->key_len, size_t(in_head));
  left -= in_head;
  for (uint32_t c = e->chunk_next; c != 0 && left > 0;) {
    uint64_t data = uint64_t{c} * kUnit + kBlockHeaderSize + sizeof(ChunkHeader);
    if (data >= region_bytes_) break;
    const ChunkHeader* ch = reinterpret_cast<const ChunkHeader*>(alloc_.Payload(c));
    uint64_t n = ch->len < left ? ch->len : left;
    if (n > region_bytes_ - data) n = region_bytes_ - data;
    fn(reinterpret_cast<const char*>(ch + 1), size_t(n));
    left -= n;
    c = ch->next;
  }
}

uint64_t HashKey(const Arena* arena, std::string_view key);
// Frees shard i's watch slots that have had no waiter for the grace period (watch.cc).
void ReclaimIdleWatchSlots(Arena* arena, uint32_t i);
inline uint32_t ShardOf(const Arena* arena, uint64_t hash) {
  return static_cast<uint32_t>(hash & (arena->shard_count() - 1));
}

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_SHARD_H_
