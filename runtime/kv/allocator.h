// RegionAllocator: an O(1) two-level segregated-fit allocator (TLSF) over one shard's region.
//
// Why TLSF instead of memcached-style slabs: every shard owns a fixed slice of the arena, and a cache
// sees values of every size. Slab classes strand free memory in the wrong class and need page
// rebalancing; TLSF coalesces neighbours on free, so memory freed by evicting any entry is usable by
// a write of any size. Entries too big for the largest free block are chained across several
// blocks by the store (see store.cc), so fragmentation can delay a write but never strand memory.
//
// Invariants (all state lives in the arena, addressed by 8-byte unit offsets from the region base):
//  * Unit 0 is reserved, so offset 0 means "none".
//  * Blocks tile [1, top): each starts with an 8-byte BlockHeader; `prev_phys` names the block
//    physically before it (0 for the first block).
//  * A free block is in exactly one free list, chosen by its size; two free blocks are never
//    physical neighbours (they are merged), and a free block never touches `top` (it is given back
//    to the untouched tail instead).
//  * [top, end) has never been handed out since the last Reset(), so its pages stay untouched.
//  * Not thread-safe: the owning shard's lock guards every call.
#ifndef EPHPM_RUNTIME_KV_ALLOCATOR_H_
#define EPHPM_RUNTIME_KV_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>

namespace ephpm::kv {

inline constexpr size_t kUnit = 8;
inline constexpr size_t kBlockHeaderSize = 8;

struct BlockHeader {
  uint32_t prev_phys;
  uint32_t size_and_free;  // size in units << 1 | free bit
};

class RegionAllocator {
 public:
  static constexpr int kFirstLevels = 28;
  static constexpr int kSecondLevels = 16;

  // State kept in the arena (trivially copyable, no pointers).
  struct State {
    uint32_t end;        // units in the region
    uint32_t top;        // first untouched unit
    uint32_t last;       // block that ends at top, 0 if none
    uint32_t fl_bitmap;
    uint16_t sl_bitmap[kFirstLevels];
    uint32_t free_head[kFirstLevels][kSecondLevels];
  };

  RegionAllocator(State* state, char* base) : s_(state), base_(base) {}

  // Forgets every block: the whole region becomes the untouched tail.
  static void Reset(State* state, uint64_t region_bytes);

  // A block whose payload holds at least `payload` bytes, or 0.
  uint32_t Allocate(size_t payload);
  // A block whose payload holds `want` bytes if one exists, otherwise the largest available block
  // whose payload holds at least `min`; 0 if none.
  uint32_t AllocateUpTo(size_t min, size_t want);
  void Free(uint32_t block);

  size_t PayloadSize(uint32_t block) const { return BlockUnits(block) * kUnit - kBlockHeaderSize; }
  size_t BlockBytes(uint32_t block) const { return BlockUnits(block) * kUnit; }
  char* Payload(uint32_t block) const { return base_ + size_t{block} * kUnit + kBlockHeaderSize; }

 private:
  BlockHeader* Header(uint32_t block) const {
    return reinterpret_cast<BlockHeader*>(base_ + size_t{block} * kUnit);
  }
  uint32_t BlockUnits(uint32_t block) const { return Header(block)->size_and_free >> 1; }
  bool IsFree(uint32_t block) const { return Header(block)->size_and_free & 1; }
  uint32_t* NextFree(uint32_t block) const { return reinterpret_cast<uint32_t*>(Payload(block)); }
  uint32_t* PrevFree(uint32_t block) const { return NextFree(block) + 1; }

  void InsertFree(uint32_t block);
  void RemoveFree(uint32_t block);
  uint32_t FindFree(uint32_t units) const;  // a free block of >= units, or 0
  uint32_t LargestFree() const;             // roughly the largest free block, or 0
  uint32_t CarveTop(uint32_t units);        // from the untouched tail, or 0
  uint32_t Take(uint32_t block, uint32_t units);  // removes from its list, splits the excess off

  State* s_;
  char* base_;
};

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_ALLOCATOR_H_
