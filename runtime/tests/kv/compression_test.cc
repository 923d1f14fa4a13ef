// Value compression (runtime/kv/compression.h): every codec round-trips binary values of every
// size around the threshold through every read path, stores only what it shrinks, reads a
// corrupt value as a miss, and keeps memory_limit.
#include "runtime/kv/compression.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kBrotli, Compression::kZstd};

Options With(Compression c, uint64_t min_size = 1024, uint64_t limit = 64ull << 20,
             uint32_t shards = 4) {
  Options o;
  o.memory_limit = limit;
  o.shards = shards;
  o.compression = c;
  o.compression_min_size = min_size;
  return o;
}

std::unique_ptr<Store> Make(const Options& o) {
  std::string error;
  auto store = Store::CreatePrivate(o, &error);
  EXPECT_TRUE(store) << error;
  return store;
}

// Compressible binary: a repeating record with NUL and high bytes and a counter, cut to `n`.
std::string Compressible(size_t n, uint32_t seed = 1) {
  std::string s;
  for (uint32_t i = 0; s.size() < n; ++i) {
    s += std::string("<li class=\"item\">\0\xff\x80 row ", 24);
    s += std::to_string(seed * 7919 + i);
    s += "</li>\n";
  }
  s.resize(n);
  return s;
}

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// What ephpm_kv_get does: Read (stored bytes), ReadPeeked when they did not fit, then decode.
bool ReadLikeTheBinding(Store& s, const std::string& key, std::string* value, uint8_t* encoding) {
  char small[512];
  Store::Peeked p;
  Store::ReadResult r = s.Read(key, small, sizeof(small), &p);
  if (r == Store::ReadResult::kMiss) return false;
  std::string stored(p.size, '\0');
  if (r == Store::ReadResult::kCopied) {
    std::memcpy(stored.data(), small, p.size);
  } else if (!s.ReadPeeked(p, stored.data())) {
    return false;
  }
  *encoding = p.encoding;
  if (p.encoding == 0) {
    *value = stored;
    return true;
  }
  size_t n = 0;
  if (!s.DecodedSize(p.encoding, stored, &n)) return false;
  value->assign(n, '\0');
  return s.DecodeInto(p.encoding, stored, value->data(), n);
}

TEST(CompressionTest, EveryCodecRoundTripsEverySizeAroundTheThreshold) {
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    auto s = Make(With(c, 1024));
    for (size_t n : {size_t{0}, size_t{1}, size_t{1023}, size_t{1024}, size_t{1025}, size_t{4096},
                     size_t{65536}, size_t{3} << 20}) {
      SCOPED_TRACE(n);
      std::string key = "k" + std::to_string(n);
      std::string value = Compressible(n, static_cast<uint32_t>(n));
      ASSERT_TRUE(s->Set(key, value, 0));
      std::string got;
      ASSERT_TRUE(s->Get(key, &got));
      EXPECT_EQ(got, value);
      uint8_t encoding = 255;
      ASSERT_TRUE(ReadLikeTheBinding(*s, key, &got, &encoding));
      EXPECT_EQ(got, value);
      // Below the threshold: raw. At or above it: compressed with the configured codec.
      EXPECT_EQ(encoding, n < 1024 ? 0 : static_cast<uint8_t>(c));
      WaitResult w = s->Wait(key, 0, 0, nullptr, &got);
      ASSERT_EQ(w.status, WaitResult::Status::kChanged);
      ASSERT_TRUE(w.has_value);
      EXPECT_EQ(got, value);
      ASSERT_TRUE(s->SetNx(key + "nx", value, 0));
      ASSERT_TRUE(s->Get(key + "nx", &got));
      EXPECT_EQ(got, value);
    }
    EXPECT_GT(s->GetStats().bytes_saved, 0u);
    EXPECT_EQ(s->GetStats().decode_errors, 0u);
  }
}

TEST(CompressionTest, IncompressibleValuesAreStoredRaw) {
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    auto s = Make(With(c, 16));
    for (size_t n : {size_t{16}, size_t{100}, size_t{4096}, size_t{200000}}) {
      std::string value = Random(n, static_cast<uint32_t>(n));
      ASSERT_TRUE(s->Set("r", value, 0));
      std::string got;
      uint8_t encoding = 255;
      ASSERT_TRUE(ReadLikeTheBinding(*s, "r", &got, &encoding));
      EXPECT_EQ(got, value);
      EXPECT_EQ(encoding, 0);
    }
    EXPECT_EQ(s->GetStats().bytes_saved, 0u);
  }
}

// Readers believe a recorded length only up to kMaxRatio times the stream (zstd: the frame's own
// size), so a brotli value that shrinks further is stored raw; zstd and gzip store it compressed.
TEST(CompressionTest, RatioBeyondWhatReadersBelieveIsStoredRaw) {
  std::string zeros(3 << 20, '\0');
  for (Compression c : kCodecs) {
    auto s = Make(With(c));
    ASSERT_TRUE(s->Set("z", zeros, 0));
    std::string got;
    uint8_t encoding = 255;
    ASSERT_TRUE(ReadLikeTheBinding(*s, "z", &got, &encoding));
    EXPECT_EQ(got, zeros);
    EXPECT_EQ(encoding, c == Compression::kBrotli ? 0 : static_cast<uint8_t>(c)) << CompressionName(c);
  }
}

TEST(CompressionTest, NoneAndTheThresholdLeaveValuesRaw) {
  auto s = Make(With(Compression::kNone, 0));
  ASSERT_TRUE(s->Set("a", Compressible(100000), 0));
  uint8_t encoding = 255;
  std::string got;
  ASSERT_TRUE(ReadLikeTheBinding(*s, "a", &got, &encoding));
  EXPECT_EQ(encoding, 0);
  EXPECT_EQ(s->GetStats().bytes_saved, 0u);
}

// bytes_saved is what the present values save: it follows overwrites, deletes, flushes.
TEST(CompressionTest, BytesSavedFollowsThePresentValues) {
  auto s = Make(With(Compression::kZstd, 64));
  std::string big = Compressible(50000);
  ASSERT_TRUE(s->Set("a", big, 0));
  char small[16];
  Store::Peeked p;
  s->Read("a", small, sizeof(small), &p);
  EXPECT_EQ(s->GetStats().bytes_saved, big.size() - p.size);
  ASSERT_TRUE(s->Set("b", big, 0));
  EXPECT_EQ(s->GetStats().bytes_saved, 2 * (big.size() - p.size));
  ASSERT_TRUE(s->Set("a", "short", 0));  // overwritten raw (in place or rebuilt)
  EXPECT_EQ(s->GetStats().bytes_saved, big.size() - p.size);
  ASSERT_TRUE(s->Set("b", Compressible(200), 0));  // small compressed value, possibly in place
  s->Read("b", small, sizeof(small), &p);
  EXPECT_EQ(s->GetStats().bytes_saved, 200 - p.size);
  EXPECT_EQ(s->Del("b"), 1);
  EXPECT_EQ(s->GetStats().bytes_saved, 0u);
  ASSERT_TRUE(s->Set("c", big, 0));
  s->FlushAll();
  EXPECT_EQ(s->GetStats().bytes_saved, 0u);
  EXPECT_EQ(s->GetStats().used_memory, 0u);
}

// IncrBy and DelIfEq see the original bytes of a compressed value (decoded outside the lock).
TEST(CompressionTest, IncrByAndDelIfEqSeeTheOriginalValue) {
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    auto s = Make(With(c, 32));
    std::string padded = std::string(5000, '0') + "41";  // an integer, zero-padded
    ASSERT_TRUE(s->Set("n", padded, 0));
    uint8_t encoding = 0;
    std::string got;
    ASSERT_TRUE(ReadLikeTheBinding(*s, "n", &got, &encoding));
    ASSERT_NE(encoding, 0);
    int64_t result = 0;
    ASSERT_EQ(s->IncrBy("n", 1, &result), IncrStatus::kOk);
    EXPECT_EQ(result, 42);
    EXPECT_EQ(s->Get("n", &got) ? got : "", "42");
    ASSERT_TRUE(s->Set("t", Compressible(3000), 0));
    EXPECT_EQ(s->IncrBy("t", 1, &result), IncrStatus::kNotInteger);
    std::string other = Compressible(3000, 9);
    ASSERT_NE(other, Compressible(3000));
    EXPECT_FALSE(s->DelIfEq("t", other));                 // same length, other bytes
    EXPECT_FALSE(s->DelIfEq("t", Compressible(2999)));    // other length
    EXPECT_TRUE(s->Exists("t"));
    EXPECT_TRUE(s->DelIfEq("t", Compressible(3000)));
    EXPECT_FALSE(s->Exists("t"));
  }
}

// A codec-level fuzz: truncations and mutations of a stored value either fail to decode or
// decode to the original (the check makes anything else impossible); never a crash.
TEST(CompressionTest, MutatedEncodingsNeverDecodeToOtherBytes) {
  std::mt19937 rng(42);
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    std::string value = Compressible(6000, 3);
    std::string stored;
    uint8_t encoding = Encode(With(c), value, &stored);
    ASSERT_EQ(encoding, static_cast<uint8_t>(c));
    std::string out;
    ASSERT_TRUE(DecodeTo(encoding, stored, &out));
    EXPECT_EQ(out, value);
    for (size_t cut = 0; cut < stored.size(); ++cut) {
      EXPECT_FALSE(DecodeTo(encoding, stored.substr(0, cut), &out)) << cut;
    }
    EXPECT_FALSE(DecodeTo(encoding, stored + "x", &out));  // trailing bytes
    int decoded_equal = 0;
    for (int i = 0; i < 3000; ++i) {
      std::string m = stored;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        m[rng() % m.size()] = static_cast<char>(rng());
      }
      if (DecodeTo(encoding, m, &out)) {
        EXPECT_EQ(out, value);
        ++decoded_equal;
      }
    }
    EXPECT_LT(decoded_equal, 3000);  // the mutations were real
    // Another codec's byte, or no codec's, on the same bytes.
    EXPECT_FALSE(DecodeTo(encoding % 3 + 1, stored, &out));
    EXPECT_FALSE(DecodeTo(7, stored, &out));
  }
}

// Corrupt stored bytes (a process scribbling on the shared arena) read as a miss on every path
// and are counted; a recorded length beyond kMaxDecodedBytes is refused before any allocation.
TEST(CompressionTest, CorruptStoredValueReadsAsMiss) {
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    Options o = With(c, 64, 4 << 20, 1);
    std::string name = Store::NameFor("/test/compression/" + std::to_string(getpid()) + "/" +
                                          CompressionName(c), "");
    std::string error;
    auto s = Store::CreateNamed(name, o, &error);
    ASSERT_TRUE(s) << error;
    int fd = open(("/dev/shm" + name).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    char* base = static_cast<char*>(
        mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    ASSERT_NE(base, MAP_FAILED);
    // Finds the stored bytes of `value` (Encode is deterministic) in the arena.
    auto locate = [&](const std::string& value) -> char* {
      std::string stored;
      EXPECT_NE(Encode(o, value, &stored), 0);
      void* at = memmem(base, st.st_size, stored.data(), stored.size());
      return static_cast<char*>(at);
    };
    std::string v1 = Compressible(2000, 11), v2 = Compressible(2000, 12),
                v3 = std::string(3000, '7');
    ASSERT_TRUE(s->Set("body", v1, 0));
    ASSERT_TRUE(s->Set("huge", v2, 0));
    ASSERT_TRUE(s->Set("num", v3, 0));
    char* body = locate(v1);
    char* huge = locate(v2);
    char* num = locate(v3);
    ASSERT_TRUE(body && huge && num);
    body[kEncodedHeaderBytes + 3] ^= 0x5a;  // the stream
    std::memset(huge, 0xff, 4);             // recorded length 4 GiB - 1
    num[4] ^= 1;                            // the check
    // A length below kMaxDecodedBytes that the stream cannot produce: refused before allocating.
    std::string stored;
    Encode(o, v1, &stored);
    size_t length = 0;
    EXPECT_TRUE(DecodedLength(static_cast<uint8_t>(c), stored, &length));
    EXPECT_EQ(length, v1.size());
    stored[2] = 0x40;  // about 4 MiB
    EXPECT_FALSE(DecodedLength(static_cast<uint8_t>(c), stored, &length));
    std::string got;
    uint8_t encoding;
    for (const char* key : {"body", "huge", "num"}) {
      SCOPED_TRACE(key);
      EXPECT_FALSE(s->Get(key, &got));
      EXPECT_FALSE(ReadLikeTheBinding(*s, key, &got, &encoding));
      WaitResult w = s->Wait(key, 0, 0, nullptr, &got);
      EXPECT_EQ(w.status, WaitResult::Status::kChanged);
      EXPECT_FALSE(w.has_value);
      EXPECT_TRUE(s->Exists(key));  // the entry is there; its value cannot be read
    }
    EXPECT_GE(s->GetStats().decode_errors, 9u);
    int64_t result;
    EXPECT_EQ(s->IncrBy("num", 1, &result), IncrStatus::kNotInteger);  // not overwritten
    EXPECT_FALSE(s->DelIfEq("body", v1));
    EXPECT_TRUE(s->Exists("body"));
    ASSERT_TRUE(s->Set("body", v1, 0));  // a rewrite heals it
    EXPECT_TRUE(s->Get("body", &got));
    EXPECT_EQ(got, v1);
    munmap(base, st.st_size);
  }
}

// With compression on, used_memory (what is stored) stays within memory_limit, and more
// compressible values fit than without compression. Level 1: the limit, not the ratio, is tested
// (and the sanitizer builds stay fast).
TEST(CompressionTest, MemoryLimitHoldsAndMoreKeysFit) {
  auto fill = [](Compression c, Stats* stats) {
    Options o = With(c, 1024, 1 << 20, 1);
    o.compression_level = 1;
    o.eviction_policy = EvictionPolicy::kNoEviction;
    auto s = Make(o);
    int n = 0;
    while (n < 1000000 && s->Set("key" + std::to_string(n), Compressible(4096, n), 0)) ++n;
    *stats = s->GetStats();
    return n;
  };
  Stats none_stats, stats;
  int without = fill(Compression::kNone, &none_stats);
  EXPECT_LE(none_stats.used_memory, none_stats.memory_limit);
  for (Compression c : kCodecs) {
    SCOPED_TRACE(CompressionName(c));
    int with = fill(c, &stats);
    EXPECT_LE(stats.used_memory, stats.memory_limit);
    EXPECT_EQ(stats.keys, static_cast<uint64_t>(with));
    EXPECT_GT(with, 2 * without);
    EXPECT_GT(stats.bytes_saved, stats.used_memory);
  }
  // Eviction under the limit with compressed values (half random, so about 2 KiB stored each).
  Options o = With(Compression::kZstd, 1024, 1 << 20, 1);
  o.compression_level = 1;
  auto s = Make(o);
  auto value = [](int i) { return Random(2048, i) + Compressible(6144, i); };
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s->Set("e" + std::to_string(i), value(i), 0));
  Stats st = s->GetStats();
  EXPECT_LE(st.used_memory, st.memory_limit);
  EXPECT_GT(st.evictions, 0u);
  std::string got;
  ASSERT_TRUE(s->Get("e999", &got));
  EXPECT_EQ(got, value(999));
}

// An attached process writes with the creator's settings (kept in the arena header).
TEST(CompressionTest, AttachedStoreUsesTheCreatorsSettings) {
  Options o = With(Compression::kBrotli, 100, 4 << 20, 2);
  o.compression_level = 4;
  std::string name = Store::NameFor("/test/compression-attach/" + std::to_string(getpid()), "");
  std::string error;
  auto owner = Store::CreateNamed(name, o, &error);
  ASSERT_TRUE(owner) << error;
  AttachError why;
  auto other = Store::AttachNamed(name, &why, &error);
  ASSERT_TRUE(other) << error;
  EXPECT_EQ(other->options().compression, Compression::kBrotli);
  EXPECT_EQ(other->options().compression_level, 4);
  EXPECT_EQ(other->options().compression_min_size, 100u);
  ASSERT_TRUE(other->Set("x", Compressible(5000), 0));
  std::string got;
  ASSERT_TRUE(owner->Get("x", &got));
  EXPECT_EQ(got, Compressible(5000));
  EXPECT_GT(owner->GetStats().bytes_saved, 0u);
}

TEST(CompressionTest, SettingsAreCheckedAtCreation) {
  Options o = With(Compression::kGzip);
  o.compression_level = 12;
  std::string error;
  EXPECT_FALSE(Store::CreatePrivate(o, &error));
  EXPECT_EQ(error, "compression_level: level 12 out of range for gzip (1..9)");
  EXPECT_EQ(ParseCompression("ZSTD"), Compression::kZstd);
  EXPECT_EQ(ParseCompression("br"), Compression::kBrotli);
  EXPECT_EQ(ParseCompression("lz4"), std::nullopt);
  EXPECT_EQ(ParseCompression(std::string_view("gzip\0", 5)), std::nullopt);
}

}  // namespace
}  // namespace ephpm::kv
