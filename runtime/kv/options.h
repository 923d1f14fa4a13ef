// The plain types of the store's interface that the arena needs as well: settings (Options),
// counters (Stats), why an attach failed (AttachError), and the event-log hook. Kept apart from
// store.h so that the arena (arena.h) does not depend on the Store class built on top of it.
#ifndef EPHPM_RUNTIME_KV_OPTIONS_H_
#define EPHPM_RUNTIME_KV_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ephpm::kv {

enum class EvictionPolicy { kNoEviction, kAllKeysLru, kVolatileLru, kAllKeysRandom };

// Value compression ([kv] compression; runtime/kv/compression.h). The numbers are the entries'
// ValueEncoding bytes (arena.h), so the algorithm a value was written with is read back from it.
enum class Compression : uint8_t { kNone = 0, kGzip = 1, kBrotli = 2, kZstd = 3 };

// Case-sensitive: "noeviction", "allkeys-lru", "volatile-lru", "allkeys-random".
std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name);
const char* EvictionPolicyName(EvictionPolicy policy);

// "<digits>" (bytes) or "<digits>KB|MB|GB" (case-insensitive suffix, 1 KB = 1024). "0" means
// unlimited. Returns an explanation in *error for anything else (decimals, signs, "256M",
// overflow).
bool ParseMemorySize(std::string_view text, uint64_t* bytes, std::string* error);

struct Options {
  // Bytes of entry storage (keys, values, entry headers). A named arena reserves this (plus its
  // index) in /dev/shm at creation. 0 = unlimited: a large address range (kUnlimitedReserve,
  // capped at half the machine's RAM) is mapped and committed lazily, never reserved.
  uint64_t memory_limit = 256ull << 20;
  EvictionPolicy eviction_policy = EvictionPolicy::kAllKeysLru;
  // Power of two, 1..4096. Each shard owns memory_limit / shards bytes, so that is also the largest
  // single entry the store can hold.
  uint32_t shards = 64;
  // Values of at least compression_min_size bytes are stored compressed with `compression` at
  // `compression_level` when that makes them smaller (ePHPm's keys and defaults). An attached
  // store uses its creator's settings (kept in the arena header).
  Compression compression = Compression::kNone;
  int compression_level = 6;
  uint64_t compression_min_size = 1024;
};

inline constexpr uint64_t kMinMemoryLimit = 1ull << 20;  // smallest limit the config accepts
inline constexpr uint64_t kUnlimitedReserve = 64ull << 30;
inline constexpr uint32_t kMaxShards = 4096;
inline constexpr int64_t kWatchSlotGraceMs = 30'000;

struct Stats {
  uint64_t keys = 0;
  uint64_t expires = 0;  // keys with a TTL (Redis INFO's "expires")
  uint64_t used_memory = 0;
  uint64_t memory_limit = 0;  // 0 = unlimited
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expired = 0;
  uint64_t discarded_shards = 0;  // shards emptied because a process died holding their lock
  uint64_t bytes_saved = 0;    // original minus stored bytes of the compressed values present
  uint64_t decode_errors = 0;  // compressed values that failed to decode (each read as a miss)
};

// Why Store::AttachNamed (or the attach check inside CreateNamed) refused a named arena.
enum class AttachError {
  kNone,
  kNotFound,      // no object of that name: no server has created it
  kOwnerGone,     // a well-formed arena whose creating server is no longer running
  kNotOurs,       // owned by another user, or not mode 0600: never mapped
  kIncompatible,  // another ephpm version's layout
  kCorrupt,       // not an ephpm arena, half-created, or a header that does not add up
  kSystem,        // a system call failed (message has errno's text)
};

// What the store reports about itself, in one line, without doing I/O of its own (the library has
// none): today, a shard discarded because its lock holder died. The process installs a function
// that writes it to its log. It is called with a shard lock held: it must not call into the store
// (or into PHP). nullptr (the default) drops the events.
using EventLogFn = void (*)(const std::string& message);
void SetEventLog(EventLogFn fn);

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_OPTIONS_H_
