#include "runtime/kv/allocator.h"

#include <algorithm>
#include <cstring>

namespace ephpm::kv {
namespace {

constexpr uint32_t kMinBlockUnits = 2;  // header + the two free-list links

uint32_t UnitsFor(size_t payload) {
  size_t units = (payload + kBlockHeaderSize + kUnit - 1) / kUnit;
  return static_cast<uint32_t>(std::max<size_t>(units, kMinBlockUnits));
}

int HighestBit(uint32_t x) { return 31 - __builtin_clz(x); }
int LowestBit(uint32_t x) { return __builtin_ctz(x); }

// Sizes below 16 units map linearly (fl 0); above, fl is the power of two (shifted so 16..31 is
// fl 1) and sl the next four bits.
void Mapping(uint32_t units, int* fl, int* sl) {
  if (units < 16) {
    *fl = 0;
    *sl = static_cast<int>(units);
    return;
  }
  int f = HighestBit(units);
  *fl = f - 3;
  *sl = static_cast<int>((units >> (f - 4)) & 15);
}

}  // namespace

void RegionAllocator::Reset(State* state, uint64_t region_bytes) {
  std::memset(state, 0, sizeof(*state));
  uint64_t units = region_bytes / kUnit;
  state->end = static_cast<uint32_t>(std::min<uint64_t>(units, UINT32_MAX));
  state->top = 1;
}

void RegionAllocator::InsertFree(uint32_t block) {
  int fl, sl;
  Mapping(BlockUnits(block), &fl, &sl);
  uint32_t head = s_->free_head[fl][sl];
  *NextFree(block) = head;
  *PrevFree(block) = 0;
  if (head != 0) *PrevFree(head) = block;
  s_->free_head[fl][sl] = block;
  s_->fl_bitmap |= 1u << fl;
  s_->sl_bitmap[fl] |= static_cast<uint16_t>(1u << sl);
}

void RegionAllocator::RemoveFree(uint32_t block) {
  int fl, sl;
  Mapping(BlockUnits(block), &fl, &sl);
  uint32_t next = *NextFree(block);
  uint32_t prev = *PrevFree(block);
  if (next != 0) *PrevFree(next) = prev;
  if (prev != 0) {
    *NextFree(prev) = next;
  } else {
    s_->free_head[fl][sl] = next;
    if (next == 0) {
      s_->sl_bitmap[fl] &= static_cast<uint16_t>(~(1u << sl));
      if (s_->sl_bitmap[fl] == 0) s_->fl_bitmap &= ~(1u << fl);
    }
  }
}

uint32_t RegionAllocator::FindFree(uint32_t units) const {
  // Round up to the next list boundary so every block of the list found is large enough.
  uint32_t rounded = units;
  if (units >= 16) rounded += (1u << (HighestBit(units) - 4)) - 1;
  int fl, sl;
  Mapping(rounded, &fl, &sl);
  if (fl >= kFirstLevels) return 0;
  uint32_t sl_map = s_->sl_bitmap[fl] & (~0u << sl);
  if (sl_map == 0) {
    uint32_t fl_map = fl + 1 < 32 ? s_->fl_bitmap & (~0u << (fl + 1)) : 0;
    if (fl_map == 0) return 0;
    fl = LowestBit(fl_map);
    sl_map = s_->sl_bitmap[fl];
  }
  return s_->free_head[fl][LowestBit(sl_map)];
}

uint32_t RegionAllocator::LargestFree() const {
  if (s_->fl_bitmap == 0) return 0;
  int fl = HighestBit(s_->fl_bitmap);
  return s_->free_head[fl][HighestBit(s_->sl_bitmap[fl])];
}

uint32_t RegionAllocator::CarveTop(uint32_t units) {
  if (s_->end - s_->top < units) return 0;
  uint32_t block = s_->top;
  BlockHeader* h = Header(block);
  h->prev_phys = s_->last;
  h->size_and_free = units << 1;
  s_->top += units;
  s_->last = block;
  return block;
}

uint32_t RegionAllocator::Take(uint32_t block, uint32_t units) {
  RemoveFree(block);
  BlockHeader* h = Header(block);
  uint32_t have = h->size_and_free >> 1;
  h->size_and_free = have << 1;  // allocated
  if (have - units >= kMinBlockUnits) {
    uint32_t rest = block + units;
    h->size_and_free = units << 1;
    BlockHeader* r = Header(rest);
    r->prev_phys = block;
    r->size_and_free = (have - units) << 1;
    uint32_t after = block + have;
    if (after < s_->top) {
      Header(after)->prev_phys = rest;
    } else {
      s_->last = rest;
    }
    // The rest cannot have a free neighbour: `block` is now allocated and the block after it was
    // not free (free blocks are always merged), so a plain Free() both lists and merges correctly.
    Free(rest);
  }
  return block;
}

uint32_t RegionAllocator::Allocate(size_t payload) {
  uint32_t units = UnitsFor(payload);
  uint32_t block = FindFree(units);
  if (block != 0) return Take(block, units);
  return CarveTop(units);
}

uint32_t RegionAllocator::AllocateUpTo(size_t min, size_t want) {
  if (uint32_t block = Allocate(want)) return block;
  uint32_t need = UnitsFor(min);
  uint32_t tail = s_->end - s_->top;
  uint32_t largest = LargestFree();
  uint32_t largest_units = largest ? BlockUnits(largest) : 0;
  if (largest_units >= tail && largest_units >= need) return Take(largest, largest_units);
  if (tail >= need) return CarveTop(tail);
  return 0;
}

void RegionAllocator::Free(uint32_t block) {
  BlockHeader* h = Header(block);
  uint32_t units = h->size_and_free >> 1;
  uint32_t prev = h->prev_phys;
  if (prev != 0 && IsFree(prev)) {
    RemoveFree(prev);
    units += BlockUnits(prev);
    block = prev;
    h = Header(block);
  }
  uint32_t after = block + units;
  if (after < s_->top && IsFree(after)) {
    RemoveFree(after);
    units += BlockUnits(after);
    after = block + units;
  }
  if (after >= s_->top) {  // touches the untouched tail: give it back
    s_->top = block;
    s_->last = h->prev_phys;
    return;
  }
  h->size_and_free = units << 1 | 1;
  Header(after)->prev_phys = block;
  InsertFree(block);
}

}  // namespace ephpm::kv
