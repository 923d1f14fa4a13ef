// The read side of value compression (compression.h): the Store reads that hand out a value's
// original bytes. The locked parts (GetStored, WaitStored, Read, ReadPeeked) copy a value as
// stored, with its encoding; decoding happens here, after the shard lock was released, so a
// slow decode never holds up other processes. A value that fails to decode reads as missing and
// is counted in Stats::decode_errors, never trusted.
#include "runtime/kv/arena.h"
#include "runtime/kv/compression.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {

bool Store::Get(std::string_view key, std::string* value) {
  uint8_t encoding = 0;
  return GetStored(key, value, &encoding) && (encoding == 0 || DecodeCopied(encoding, value));
}

WaitResult Store::Wait(std::string_view key, uint64_t last_version, int64_t timeout_ms,
                       const std::atomic<bool>* cancel, std::string* value) {
  uint8_t encoding = 0;
  WaitResult result = WaitStored(key, last_version, timeout_ms, cancel, value, &encoding);
  if (result.has_value && encoding != 0 && !DecodeCopied(encoding, value)) {
    result.has_value = false;
  }
  return result;
}

bool Store::DecodedSize(uint8_t encoding, std::string_view stored, size_t* size) {
  if (DecodedLength(encoding, stored, size)) return true;
  arena_->header()->decode_errors.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool Store::DecodeInto(uint8_t encoding, std::string_view stored, char* dest, size_t size) {
  if (Decode(encoding, stored, dest, size)) return true;
  arena_->header()->decode_errors.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool Store::DecodeCopied(uint8_t encoding, std::string* value) {
  std::string decoded;
  if (!DecodeTo(encoding, *value, &decoded)) {
    arena_->header()->decode_errors.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  value->swap(decoded);
  return true;
}

}  // namespace ephpm::kv
