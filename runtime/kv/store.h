// ephpm's key-value store: one memory arena shared by every process that serves PHP.
//
// Contract (the PHP-facing rules live in docs/kv-contract.md; this header is their C++ form):
//  * Keys and values are byte strings; NUL and non-UTF-8 bytes are allowed. A key longer than
//    kMaxKeyLength is a caller error: every keyed method returns the "missing"/"refused" result
//    without touching the store (the PHP layer throws ValueError before calling in).
//  * TTLs are given in whole seconds and kept as millisecond deadlines on CLOCK_MONOTONIC.
//    ttl <= 0 means "no expiry" for Set/SetNx; Expire refuses ttl <= 0. Huge TTLs saturate.
//  * An expired key behaves exactly like a missing one; touching it reaps it (counted in
//    Stats::expired). A background Sweeper reaps expired keys nobody touches.
//  * A write that cannot be placed, even after the eviction policy made room, returns false and
//    leaves the store unchanged (old value and TTL kept, no watch bump).
//  * Every method is thread-safe and process-safe: all processes that map the same arena see one
//    store. Each call is atomic with respect to its key.
//  * Scan lists keys while the store serves (Redis's SCAN guarantee, docs/kv-contract.md 4.7):
//    a key live for the whole scan is returned exactly once; a key added or removed meanwhile
//    may or may not be; no key is ever returned twice in one scan. Each call does bounded work.
//  * Nothing here calls into PHP, throws across the API (except std::bad_alloc from the caller's
//    own std::string buffers), or holds a lock when it returns.
//
// Arena kinds:
//  * Private: an anonymous private mapping, for one process (`ephpm php`, tests).
//  * Shared: an anonymous MAP_SHARED mapping; create it before fork() and every child uses it.
//  * Named: a POSIX shared-memory object (mode 0600) that other processes of the same user can
//    attach to by name (`ephpm php` reaching a running `ephpm serve`).
//
// Trust model: every process of the user who created a named arena is trusted with it (it can
// read, write and corrupt it at will). Other users can neither open it (0600) nor make us use
// theirs: attach and create check the owner and mode before mapping, and validate the header
// before following any offset in it.
#ifndef EPHPM_RUNTIME_KV_STORE_H_
#define EPHPM_RUNTIME_KV_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/kv/options.h"

namespace ephpm::kv {

inline constexpr size_t kMaxKeyLength = 65535;

enum class IncrStatus { kOk, kNotInteger, kOverflow, kRefused };

struct WaitResult {
  enum class Status { kChanged, kTimeout, kCancelled };
  Status status = Status::kTimeout;
  uint64_t version = 0;    // valid when kChanged
  bool has_value = false;  // valid when kChanged: the key was live at wake-up
};

class Arena;  // the mapping; defined in arena.h
enum class ValueType : uint8_t;  // what an entry's bytes are; defined in arena.h

// A key as an Update callback sees it (update.cc).
struct KeyState {
  bool live = false;
  ValueType type{};    // kString unless a RESP hash wrote it
  std::string value;   // the original bytes (decoded if the entry is stored compressed)
  int64_t pttl_ms = -1;  // -1 persistent, else milliseconds left (>= 1)
};

// What an Update callback decides.
struct KeyChange {
  enum class Action { kKeep, kWrite, kDelete };
  Action action = Action::kKeep;
  ValueType type{};
  std::string value;
  int64_t pttl_ms = -1;  // kWrite: -1 keeps the key's current expiry, 0 persistent, else ms
};

class Store {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Factories return nullptr and set *error on failure (bad options, mmap/shm failure).
  static std::unique_ptr<Store> CreatePrivate(const Options& options, std::string* error);
  static std::unique_ptr<Store> CreateShared(const Options& options, std::string* error);
  // Creates the named object (mode 0600, its pages reserved up front so that a full /dev/shm is
  // an error here rather than a SIGBUS later). An object of that name left by a dead owner, or
  // unusable, is replaced if it belongs to us; one owned by another user, or whose owner still
  // runs, makes this fail.
  static std::unique_ptr<Store> CreateNamed(const std::string& name, const Options& options,
                                            std::string* error);
  // Attaches to a live owner's object after checking that it is ours (uid, mode 0600) and that
  // its whole header describes an arena of our layout that fits the object. nullptr with *why and
  // *error (a sentence naming the object) otherwise; nothing of a refused object is followed.
  static std::unique_ptr<Store> AttachNamed(const std::string& name, AttachError* why,
                                            std::string* error);
  // The one rule that names the store of `ephpm serve` (and so the one `ephpm php` attaches to):
  // "/ephpm-<euid>-<hash>", the hash of the config file's absolute path, or of "listen:<listen>"
  // when the server runs without a config file. The uid keeps users' stores apart even for the
  // same config path.
  static std::string NameFor(std::string_view config_path, std::string_view listen);

  // Live key: copies the value into *value and returns true. Counts a hit or a miss. A value
  // stored compressed is decoded (after the shard lock is released); one that fails to decode
  // reads as missing and counts in Stats::decode_errors.
  bool Get(std::string_view key, std::string* value);
  bool Set(std::string_view key, std::string_view value, int64_t ttl_seconds);
  // Get for several keys, cheaper per key than as many Gets (get_many.cc): results[i] is kHit
  // (values[i] then holds the value, decoded), kMiss, or kRepeat when keys[i] equals an earlier
  // key of the batch, which is looked up and counted (one hit or miss) once; values[i] is left
  // alone unless kHit. Each key is as atomic as one Get; the batch is not one snapshot.
  enum class BatchResult : uint8_t { kMiss, kHit, kRepeat };
  void GetMany(const std::string_view* keys, size_t count, std::string* values,
               BatchResult* results);

  // A read that lets the caller copy a value exactly once into memory it allocates with no store
  // lock held (a PHP allocation may longjmp). A value of at most `capacity` bytes is copied into
  // `buffer` at once (kCopied). A larger one is only located (kTooBig): allocate `peeked->size`
  // bytes, then ReadPeeked copies the value there if the key's shard has not changed meanwhile
  // (false otherwise: fall back to Get). Counts one hit or miss, like Get.
  // Both copy the value as stored: when `encoding` is not 0 (raw) it is compressed, and the caller
  // decodes it with DecodedSize and DecodeInto, outside any lock.
  struct Peeked {
    uint32_t shard = 0;
    uint32_t block = 0;
    uint64_t change_seq = 0;
    size_t size = 0;       // stored bytes
    uint8_t encoding = 0;  // ValueEncoding of the stored bytes
  };
  enum class ReadResult { kMiss, kCopied, kTooBig };
  ReadResult Read(std::string_view key, char* buffer, size_t capacity, Peeked* peeked);
  bool ReadPeeked(const Peeked& peeked, char* dest);
  // The original size of a compressed value copied by Read/ReadPeeked, then its bytes, written to
  // exactly `size` bytes at dest. false: corrupt (counted in Stats::decode_errors; treat the key
  // as missing).
  bool DecodedSize(uint8_t encoding, std::string_view stored, size_t* size);
  bool DecodeInto(uint8_t encoding, std::string_view stored, char* dest, size_t size);
  // Inserts when missing or expired. false when a live key exists or the write is refused.
  bool SetNx(std::string_view key, std::string_view value, int64_t ttl_seconds);
  // 1 when a live key was removed, else 0.
  int Del(std::string_view key);
  bool Exists(std::string_view key);
  IncrStatus IncrBy(std::string_view key, int64_t delta, int64_t* result);
  bool Expire(std::string_view key, int64_t ttl_seconds);
  int64_t Ttl(std::string_view key);   // -2 missing, -1 persistent, else seconds rounded up
  int64_t Pttl(std::string_view key);  // -2 missing, -1 persistent, else milliseconds (>= 1)
  void FlushAll();
  // One step of a key listing. Start with cursor 0 and pass each returned cursor back in until
  // it is 0 again. Appends to *keys the live keys of the part of the store this step covered that
  // match `match` (a Redis glob, runtime/kv/glob.h; empty = every key). `count` bounds the work:
  // the step stops once it has seen about `count` keys (it never splits a hash bucket, so a few
  // more) or read count * 10 buckets; 0 counts as 1. A step may return no keys and a nonzero
  // cursor. A cursor is only meaningful for the arena that issued it; one past the end returns 0.
  // Expired entries are skipped, not reaped. Never holds a lock over more than 64 buckets.
  uint64_t Scan(uint64_t cursor, size_t count, std::string_view match,
                std::vector<std::string>* keys);
  bool DelIfEq(std::string_view key, std::string_view token);
  Stats GetStats();

  // Read-modify-write of one key, atomic with respect to it: `decide` sees the key's state and
  // fills in the change, all under the key's shard lock, so it must be quick and must not call the
  // store (or PHP). A written value is stored as given (never compressed). false when the change
  // was refused (key or value too long, no room even after eviction): nothing changed then. Used by
  // the RESP commands made of several steps (APPEND, GETSET, SET with GET/XX/KEEPTTL, hashes).
  bool Update(std::string_view key, const std::function<void(const KeyState&, KeyChange*)>& decide);
  // The key's type, false when it is missing.
  bool TypeOf(std::string_view key, ValueType* type);
  // Like Expire, in milliseconds (ms > 0).
  bool PExpire(std::string_view key, int64_t ms);
  // Makes a live key persistent; true when it had an expiry.
  bool Persist(std::string_view key);

  // Blocks until the key's version exceeds last_version, timeout_ms passes (0 = poll), or
  // *cancel becomes true (checked at least every 50 ms). On kChanged, *value holds the current
  // value when has_value.
  WaitResult Wait(std::string_view key, uint64_t last_version, int64_t timeout_ms,
                  const std::atomic<bool>* cancel, std::string* value);

  // One active-expiry cycle over every shard (what the Sweeper runs each tick). Returns the number
  // of entries reaped. Also frees watch slots idle longer than the grace period.
  size_t ActiveExpireCycle();
  // Test hook: shortens the watch-slot grace period (default kWatchSlotGraceMs).
  void SetWatchSlotGraceMsForTesting(int64_t grace_ms);
  // Number of watch slots currently allocated (test hook and diagnostics).
  uint64_t WatchSlotCount();

  // Times a shard was discarded because a process died holding its lock.
  uint64_t DiscardedShards();
  // Test hook: takes the lock of `key`'s shard and never releases it, as a process killed inside
  // a write would.
  void AbandonLockForTesting(std::string_view key);

  bool is_named() const;
  const std::string& name() const;  // empty unless named
  const Options& options() const;

 private:
  explicit Store(std::unique_ptr<Arena> arena);
  // Get and Wait as the shard has the value: copied as stored, with its encoding.
  bool GetStored(std::string_view key, std::string* value, uint8_t* encoding);
  WaitResult WaitStored(std::string_view key, uint64_t last_version, int64_t timeout_ms,
                        const std::atomic<bool>* cancel, std::string* value, uint8_t* encoding);
  // Read when the lock-free path gave up: under the shard lock (kept out of line, so Read's
  // lock-free path does not pay for KeyOp's frame).
  __attribute__((noinline)) ReadResult ReadLocked(std::string_view key, char* buffer,
                                                  size_t capacity, Peeked* peeked);
  // Decodes a value copied as stored in place; false (counted) when it is corrupt.
  bool DecodeCopied(uint8_t encoding, std::string* value);
  std::unique_ptr<Arena> arena_;
};

}  // namespace ephpm::kv

#endif  // EPHPM_RUNTIME_KV_STORE_H_
