// Store unit tests: the contract of runtime/kv/store.h, single-threaded.
#include "runtime/kv/store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kv/sweeper.h"

namespace ephpm::kv {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Store> MakeStore(uint64_t limit = 256ull << 20,
                                 EvictionPolicy policy = EvictionPolicy::kAllKeysLru,
                                 uint32_t shards = 64) {
  Options o;
  o.memory_limit = limit;
  o.eviction_policy = policy;
  o.shards = shards;
  std::string error;
  auto store = Store::CreatePrivate(o, &error);
  EXPECT_TRUE(store) << error;
  return store;
}

std::string GetOr(Store& s, std::string_view key, std::string missing = "<missing>") {
  std::string v;
  return s.Get(key, &v) ? v : missing;
}

void SleepMs(int ms) { std::this_thread::sleep_for(milliseconds(ms)); }

TEST(StoreTest, SetGetOverwriteDelete) {
  auto s = MakeStore();
  std::string v;
  EXPECT_FALSE(s->Get("k", &v));
  EXPECT_TRUE(s->Set("k", "v1", 0));
  EXPECT_EQ(GetOr(*s, "k"), "v1");
  EXPECT_TRUE(s->Set("k", "v2", 0));
  EXPECT_EQ(GetOr(*s, "k"), "v2");
  EXPECT_TRUE(s->Exists("k"));
  EXPECT_EQ(s->Del("k"), 1);
  EXPECT_EQ(s->Del("k"), 0);
  EXPECT_FALSE(s->Exists("k"));
  EXPECT_EQ(s->GetStats().keys, 0u);
}

TEST(StoreTest, EmptyValueIsAValue) {
  auto s = MakeStore();
  EXPECT_TRUE(s->Set("e", "", 0));
  std::string v = "junk";
  EXPECT_TRUE(s->Get("e", &v));
  EXPECT_EQ(v, "");
  EXPECT_TRUE(s->Exists("e"));
}

TEST(StoreTest, BinaryKeysAreIndependent) {
  auto s = MakeStore();
  const std::string keys[] = {"a", std::string("a\0b", 3), std::string("a\0c", 3), "\xff\xfe", ""};
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(s->Set(keys[i], "v" + std::to_string(i), 0));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(GetOr(*s, keys[i]), "v" + std::to_string(i));
  EXPECT_EQ(s->GetStats().keys, 5u);
}

TEST(StoreTest, BinaryAndLargeValuesRoundTrip) {
  auto s = MakeStore();
  std::string bin("\x00\x01\xff\xfe", 4);
  ASSERT_TRUE(s->Set("bin", bin, 0));
  EXPECT_EQ(GetOr(*s, "bin"), bin);
  for (size_t size : {size_t{10000}, size_t{64 << 10}, size_t{1 << 20}}) {
    std::string big(size, '\0');
    for (size_t i = 0; i < size; ++i) big[i] = static_cast<char>(i * 131 + size);
    ASSERT_TRUE(s->Set("big", big, 0)) << size;
    EXPECT_EQ(GetOr(*s, "big"), big) << size;
  }
}

TEST(StoreTest, KeyLengthLimit) {
  auto s = MakeStore();
  std::string max_key(kMaxKeyLength, 'k');
  std::string too_long(kMaxKeyLength + 1, 'k');
  EXPECT_TRUE(s->Set(max_key, "v", 0));
  EXPECT_EQ(GetOr(*s, max_key), "v");
  EXPECT_FALSE(s->Set(too_long, "v", 0));
  EXPECT_FALSE(s->Exists(too_long));
  EXPECT_EQ(s->GetStats().keys, 1u);
}

TEST(StoreTest, TtlAndPttl) {
  auto s = MakeStore();
  EXPECT_EQ(s->Ttl("missing"), -2);
  EXPECT_EQ(s->Pttl("missing"), -2);
  s->Set("p", "v", 0);
  EXPECT_EQ(s->Ttl("p"), -1);
  EXPECT_EQ(s->Pttl("p"), -1);
  s->Set("t", "v", 60);
  int64_t pttl = s->Pttl("t");
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 60000);
  EXPECT_EQ(s->Ttl("t"), 60);  // 59.99x s rounds up
  s->Set("neg", "v", -5);
  EXPECT_EQ(s->Pttl("neg"), -1);
  s->Set("t", "v", 0);  // a plain set clears the TTL
  EXPECT_EQ(s->Pttl("t"), -1);
}

TEST(StoreTest, TtlRoundsUp) {
  auto s = MakeStore();
  s->Set("k", "v", 2);
  SleepMs(600);  // about 1,400 ms left
  EXPECT_EQ(s->Ttl("k"), 2);
  int64_t p = s->Pttl("k");
  EXPECT_GT(p, 1000);
  EXPECT_LT(p, 1500);
}

TEST(StoreTest, KeyExpires) {
  auto s = MakeStore();
  s->Set("k", "v", 1);
  EXPECT_TRUE(s->Exists("k"));
  SleepMs(1200);
  EXPECT_FALSE(s->Exists("k"));
  EXPECT_EQ(GetOr(*s, "k"), "<missing>");
  EXPECT_EQ(s->Ttl("k"), -2);
  EXPECT_GE(s->GetStats().expired, 1u);
}

TEST(StoreTest, DelOfExpiredKeyReturnsZeroAndReaps) {
  auto s = MakeStore();  // no sweeper running: the entry stays until touched
  s->Set("k", "v", 1);
  SleepMs(1100);
  EXPECT_EQ(s->GetStats().keys, 1u);
  EXPECT_EQ(s->Del("k"), 0);
  EXPECT_EQ(s->GetStats().keys, 0u);
  EXPECT_EQ(s->GetStats().expired, 1u);
  EXPECT_FALSE(s->Exists("k"));
}

TEST(StoreTest, HugeTtlSaturates) {
  auto s = MakeStore();
  s->Set("k", "v", INT64_MAX);
  EXPECT_GT(s->Ttl("k"), 0);
  EXPECT_GT(s->Pttl("k"), 0);
  EXPECT_TRUE(s->Exists("k"));
  s->Set("e", "v", 0);
  EXPECT_TRUE(s->Expire("e", INT64_MAX));
  EXPECT_GT(s->Ttl("e"), 0);
  EXPECT_TRUE(s->Exists("e"));
}

TEST(StoreTest, Expire) {
  auto s = MakeStore();
  EXPECT_FALSE(s->Expire("missing", 10));
  s->Set("k", "v", 0);
  EXPECT_FALSE(s->Expire("k", 0));
  EXPECT_FALSE(s->Expire("k", -1));
  EXPECT_EQ(s->Pttl("k"), -1);
  EXPECT_TRUE(s->Expire("k", 100));
  EXPECT_EQ(s->Ttl("k"), 100);
  EXPECT_TRUE(s->Expire("k", 5));  // shortening works too
  EXPECT_EQ(s->Ttl("k"), 5);
  EXPECT_TRUE(s->Expire("k", 1000));
  EXPECT_EQ(s->Ttl("k"), 1000);
}

TEST(StoreTest, SetNx) {
  auto s = MakeStore();
  EXPECT_TRUE(s->SetNx("k", "first", 0));
  EXPECT_FALSE(s->SetNx("k", "second", 0));
  EXPECT_EQ(GetOr(*s, "k"), "first");
  EXPECT_TRUE(s->SetNx("t", "v", 30));
  EXPECT_EQ(s->Ttl("t"), 30);
  s->Set("x", "old", 1);
  SleepMs(1100);
  EXPECT_TRUE(s->SetNx("x", "new", 0));  // an expired key counts as absent
  EXPECT_EQ(GetOr(*s, "x"), "new");
  EXPECT_EQ(s->Pttl("x"), -1);
}

TEST(StoreTest, IncrBy) {
  auto s = MakeStore();
  int64_t r = 0;
  EXPECT_EQ(s->IncrBy("c", 1, &r), IncrStatus::kOk);
  EXPECT_EQ(r, 1);
  EXPECT_EQ(GetOr(*s, "c"), "1");
  EXPECT_EQ(s->Pttl("c"), -1);  // created without TTL
  EXPECT_EQ(s->IncrBy("c", 5, &r), IncrStatus::kOk);
  EXPECT_EQ(r, 6);
  EXPECT_EQ(s->IncrBy("c", -2, &r), IncrStatus::kOk);
  EXPECT_EQ(r, 4);
  EXPECT_TRUE(s->Expire("c", 100));
  EXPECT_EQ(s->IncrBy("c", 1, &r), IncrStatus::kOk);
  EXPECT_EQ(s->Ttl("c"), 100);  // TTL kept on update
  EXPECT_EQ(s->IncrBy("new", -7, &r), IncrStatus::kOk);
  EXPECT_EQ(r, -7);
}

TEST(StoreTest, IncrParsingGrid) {
  auto s = MakeStore();
  struct Case {
    std::string text;
    bool ok;
    int64_t after;  // value after +1
  };
  const Case cases[] = {
      {"007", true, 8},
      {"+5", true, 6},
      {"-0", true, 1},
      {"-5", true, -4},
      {"9223372036854775806", true, INT64_MAX},
      {"-9223372036854775808", true, INT64_MIN + 1},
      {"00000000000000000000000000000000042", true, 43},
      {"", false, 0},
      {" 5", false, 0},
      {"5 ", false, 0},
      {"1e3", false, 0},
      {"1.5", false, 0},
      {"0x10", false, 0},
      {"9223372036854775808", false, 0},
      {"+", false, 0},
      {"-", false, 0},
      {"+-5", false, 0},
      {"--5", false, 0},
      {"5-", false, 0},
      {"abc", false, 0},
      {std::string("5\0", 2), false, 0},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(s->Set("n", c.text, 0));
    int64_t r = 0;
    IncrStatus st = s->IncrBy("n", 1, &r);
    if (c.ok) {
      EXPECT_EQ(st, IncrStatus::kOk) << c.text;
      EXPECT_EQ(r, c.after) << c.text;
      EXPECT_EQ(GetOr(*s, "n"), std::to_string(c.after)) << "canonical text for " << c.text;
    } else {
      EXPECT_EQ(st, IncrStatus::kNotInteger) << c.text;
      EXPECT_EQ(GetOr(*s, "n"), c.text) << "unchanged";
    }
  }
}

TEST(StoreTest, IncrOverflowLeavesValue) {
  auto s = MakeStore();
  int64_t r;
  s->Set("n", std::to_string(INT64_MAX), 0);
  EXPECT_EQ(s->IncrBy("n", 1, &r), IncrStatus::kOverflow);
  EXPECT_EQ(GetOr(*s, "n"), std::to_string(INT64_MAX));
  s->Set("m", std::to_string(INT64_MIN), 0);
  EXPECT_EQ(s->IncrBy("m", -1, &r), IncrStatus::kOverflow);
  EXPECT_EQ(GetOr(*s, "m"), std::to_string(INT64_MIN));
}

TEST(StoreTest, DelIfEq) {
  auto s = MakeStore();
  EXPECT_FALSE(s->DelIfEq("missing", "t"));
  s->Set("lock", "token", 0);
  EXPECT_FALSE(s->DelIfEq("lock", "other"));
  EXPECT_FALSE(s->DelIfEq("lock", "toke"));
  EXPECT_FALSE(s->DelIfEq("lock", "tokens"));
  EXPECT_EQ(GetOr(*s, "lock"), "token");
  EXPECT_TRUE(s->DelIfEq("lock", "token"));
  EXPECT_FALSE(s->Exists("lock"));
  std::string big(100000, 'x');
  s->Set("big", big, 0);
  std::string almost = big;
  almost[99999] = 'y';
  EXPECT_FALSE(s->DelIfEq("big", almost));
  EXPECT_TRUE(s->DelIfEq("big", big));
  s->Set("exp", "t", 1);
  SleepMs(1100);
  EXPECT_FALSE(s->DelIfEq("exp", "t"));
}

TEST(StoreTest, FlushAll) {
  auto s = MakeStore();
  for (int i = 0; i < 100; ++i) s->Set("k" + std::to_string(i), "v", i % 2 ? 100 : 0);
  EXPECT_EQ(s->GetStats().keys, 100u);
  EXPECT_GT(s->GetStats().used_memory, 0u);
  s->FlushAll();
  Stats st = s->GetStats();
  EXPECT_EQ(st.keys, 0u);
  EXPECT_EQ(st.used_memory, 0u);
  EXPECT_FALSE(s->Exists("k1"));
  EXPECT_TRUE(s->Set("again", "v", 0));
  EXPECT_EQ(GetOr(*s, "again"), "v");
}

TEST(StoreTest, StatsCountHitsMisses) {
  auto s = MakeStore();
  std::string v;
  s->Set("k", "v", 0);
  s->Get("k", &v);
  s->Get("k", &v);
  s->Get("nope", &v);
  s->Exists("k");  // exists counts neither
  Stats st = s->GetStats();
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.memory_limit, 256ull << 20);
}

TEST(StoreTest, UsedMemoryTracksWrites) {
  auto s = MakeStore();
  s->Set("k", std::string(100, 'a'), 0);
  uint64_t small = s->GetStats().used_memory;
  EXPECT_GE(small, 100u);
  s->Set("k", std::string(5000, 'a'), 0);
  uint64_t big = s->GetStats().used_memory;
  EXPECT_GT(big, 5000u);
  s->Set("k", std::string(100, 'a'), 0);
  EXPECT_EQ(s->GetStats().used_memory, small);
  s->Del("k");
  EXPECT_EQ(s->GetStats().used_memory, 0u);
}

TEST(StoreTest, ReadCopiesSmallValuesAndLocatesLargeOnes) {
  auto s = MakeStore();
  std::string big(100000, 'b');
  big[777] = 'X';
  ASSERT_TRUE(s->Set("big", big, 0));
  ASSERT_TRUE(s->Set("small", "tiny", 0));
  char buffer[16];
  Store::Peeked p;
  EXPECT_EQ(s->Read("missing", buffer, sizeof(buffer), &p), Store::ReadResult::kMiss);
  ASSERT_EQ(s->Read("small", buffer, sizeof(buffer), &p), Store::ReadResult::kCopied);
  EXPECT_EQ(std::string(buffer, p.size), "tiny");
  ASSERT_EQ(s->Read("big", buffer, sizeof(buffer), &p), Store::ReadResult::kTooBig);
  ASSERT_EQ(p.size, big.size());
  std::string dest(p.size, '\0');
  ASSERT_TRUE(s->ReadPeeked(p, dest.data()));
  EXPECT_EQ(dest, big);
  ASSERT_EQ(s->Read("big", buffer, sizeof(buffer), &p), Store::ReadResult::kTooBig);
  ASSERT_TRUE(s->Set("big", "changed", 0));
  EXPECT_FALSE(s->ReadPeeked(p, dest.data()));  // stale: the caller falls back to Get
  Stats st = s->GetStats();
  EXPECT_EQ(st.hits, 3u);
  EXPECT_EQ(st.misses, 1u);
}

TEST(StoreTest, OverwritesInPlaceKeepContract) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Set("k", "aaaa", 100));
  uint64_t used = s->GetStats().used_memory;
  ASSERT_TRUE(s->Set("k", "bbbb", 0));  // same size: in place, TTL cleared
  EXPECT_EQ(s->Pttl("k"), -1);
  EXPECT_EQ(s->GetStats().used_memory, used);
  ASSERT_TRUE(s->Set("k", "cccc", 50));
  EXPECT_EQ(s->Ttl("k"), 50);
  ASSERT_TRUE(s->Set("k", std::string(5000, 'd'), 0));  // does not fit: rebuilt
  EXPECT_EQ(GetOr(*s, "k"), std::string(5000, 'd'));
  ASSERT_TRUE(s->Set("k", "e", 0));  // would waste most of the block: rebuilt smaller
  EXPECT_LT(s->GetStats().used_memory, 1000u);
  EXPECT_EQ(GetOr(*s, "k"), "e");
  EXPECT_EQ(s->GetStats().keys, 1u);
}

TEST(ParseTest, MemorySize) {
  uint64_t b;
  std::string e;
  EXPECT_TRUE(ParseMemorySize("256MB", &b, &e));
  EXPECT_EQ(b, 256ull << 20);
  EXPECT_TRUE(ParseMemorySize("1kb", &b, &e));
  EXPECT_EQ(b, 1024u);
  EXPECT_TRUE(ParseMemorySize("2GB", &b, &e));
  EXPECT_EQ(b, 2ull << 30);
  EXPECT_TRUE(ParseMemorySize("12345", &b, &e));
  EXPECT_EQ(b, 12345u);
  EXPECT_TRUE(ParseMemorySize("0", &b, &e));
  EXPECT_EQ(b, 0u);
  for (const char* bad : {"256M", "1.5GB", "-1", "", "MB", " 1MB", "1MB ", "99999999999999999999",
                          "99999999999GB"}) {
    EXPECT_FALSE(ParseMemorySize(bad, &b, &e)) << bad;
    EXPECT_FALSE(e.empty());
  }
}

TEST(ParseTest, EvictionPolicy) {
  EXPECT_EQ(ParseEvictionPolicy("noeviction"), EvictionPolicy::kNoEviction);
  EXPECT_EQ(ParseEvictionPolicy("allkeys-lru"), EvictionPolicy::kAllKeysLru);
  EXPECT_EQ(ParseEvictionPolicy("volatile-lru"), EvictionPolicy::kVolatileLru);
  EXPECT_EQ(ParseEvictionPolicy("allkeys-random"), EvictionPolicy::kAllKeysRandom);
  EXPECT_FALSE(ParseEvictionPolicy("AllKeys-LRU"));
  EXPECT_FALSE(ParseEvictionPolicy("lru"));
  for (auto p : {EvictionPolicy::kNoEviction, EvictionPolicy::kAllKeysLru,
                 EvictionPolicy::kVolatileLru, EvictionPolicy::kAllKeysRandom}) {
    EXPECT_EQ(ParseEvictionPolicy(EvictionPolicyName(p)), p);
  }
}

TEST(StoreTest, BadOptionsAreRejected) {
  std::string error;
  Options o;
  o.shards = 3;
  EXPECT_FALSE(Store::CreatePrivate(o, &error));
  EXPECT_NE(error.find("power of two"), std::string::npos);
  o.shards = 8192;
  EXPECT_FALSE(Store::CreatePrivate(o, &error));
  o.shards = 64;
  o.memory_limit = 1000;
  EXPECT_FALSE(Store::CreatePrivate(o, &error));
  EXPECT_NE(error.find("too small"), std::string::npos);
}

TEST(StoreTest, UnlimitedAcceptsLargeValues) {
  auto s = MakeStore(0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Set("big", std::string(1 << 20, 'x'), 0));
  EXPECT_EQ(s->GetStats().memory_limit, 0u);
}

// ---- memory limit and eviction. One shard makes the arithmetic exact. ----

TEST(EvictionTest, NoEvictionRefusesAndKeepsOldValue) {
  auto s = MakeStore(4096, EvictionPolicy::kNoEviction, 1);
  EXPECT_FALSE(s->Set("big", std::string(5000, 'x'), 0));  // larger than the whole limit
  ASSERT_TRUE(s->Set("k", "original", 30));
  int filled = 0;
  while (s->Set("fill" + std::to_string(filled), std::string(200, 'f'), 0)) ++filled;
  EXPECT_GT(filled, 5);
  EXPECT_FALSE(s->Set("k", std::string(1000, 'n'), 0));  // refused overwrite
  EXPECT_EQ(GetOr(*s, "k"), "original");
  EXPECT_GT(s->Ttl("k"), 0);
  EXPECT_EQ(s->GetStats().evictions, 0u);
  for (int i = 0; i < filled; ++i) EXPECT_TRUE(s->Exists("fill" + std::to_string(i)));
  // Reads, del, expire and shrinking overwrites still work.
  EXPECT_TRUE(s->Expire("k", 100));
  EXPECT_TRUE(s->Set("fill0", "s", 0));
  EXPECT_EQ(s->Del("fill1"), 1);
  EXPECT_LE(s->GetStats().used_memory, 4096u);
}

TEST(EvictionTest, AllKeysLruMakesRoom) {
  auto s = MakeStore(2048, EvictionPolicy::kAllKeysLru, 1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Set("k" + std::to_string(i), std::string(50, 'v'), 0));
  EXPECT_TRUE(s->Set("large", std::string(1500, 'L'), 0));
  EXPECT_EQ(GetOr(*s, "large"), std::string(1500, 'L'));
  EXPECT_GT(s->GetStats().evictions, 0u);
  EXPECT_LE(s->GetStats().used_memory, 2048u);
}

TEST(EvictionTest, AllKeysLruEvictsLeastRecentlyUsed) {
  // Room for three 250-byte entries, not four.
  auto s = MakeStore(1000, EvictionPolicy::kAllKeysLru, 1);
  std::string v(200, 'v');
  ASSERT_TRUE(s->Set("oldest", v, 0));
  SleepMs(150);
  ASSERT_TRUE(s->Set("middle", v, 0));
  SleepMs(150);
  ASSERT_TRUE(s->Set("newest", v, 0));
  SleepMs(150);
  std::string out;
  ASSERT_TRUE(s->Get("oldest", &out));  // touched: now the most recent
  ASSERT_TRUE(s->Set("fourth", v, 0));
  EXPECT_TRUE(s->Exists("oldest"));
  EXPECT_FALSE(s->Exists("middle"));
  EXPECT_TRUE(s->Exists("newest"));
  EXPECT_TRUE(s->Exists("fourth"));
}

TEST(EvictionTest, CoarseLruStampWithin100Ms) {
  auto s = MakeStore(1000, EvictionPolicy::kAllKeysLru, 1);
  std::string v(200, 'v');
  ASSERT_TRUE(s->Set("a", v, 0));
  SleepMs(20);
  ASSERT_TRUE(s->Set("b", v, 0));
  std::string out;
  ASSERT_TRUE(s->Get("a", &out));  // within 100 ms of its write: no restamp
  SleepMs(20);
  ASSERT_TRUE(s->Set("c", v, 0));
  ASSERT_TRUE(s->Set("d", v, 0));  // must evict: "a" still carries the oldest stamp
  EXPECT_FALSE(s->Exists("a"));
  EXPECT_TRUE(s->Exists("b"));
}

TEST(EvictionTest, ManyVictimsForOneLargeWrite) {
  auto s = MakeStore(16384, EvictionPolicy::kAllKeysLru, 1);
  int n = 0;
  while (s->Set("small" + std::to_string(n), std::string(40, 's'), 0) && n < 1000) ++n;
  uint64_t before = s->GetStats().keys;
  EXPECT_TRUE(s->Set("big", std::string(8000, 'B'), 0));
  EXPECT_EQ(GetOr(*s, "big"), std::string(8000, 'B'));
  EXPECT_LT(s->GetStats().keys, before);
  EXPECT_GT(s->GetStats().evictions, 10u);
}

TEST(EvictionTest, VolatileLruOnlyEvictsTtlKeys) {
  auto s = MakeStore(4096, EvictionPolicy::kVolatileLru, 1);
  std::vector<std::string> persistent;
  for (int i = 0; i < 4; ++i) {
    persistent.push_back("p" + std::to_string(i));
    ASSERT_TRUE(s->Set(persistent.back(), std::string(300, 'p'), 0));
  }
  for (int i = 0; i < 20; ++i) s->Set("t" + std::to_string(i), std::string(300, 't'), 1000);
  for (int i = 0; i < 20; ++i) s->Set("u" + std::to_string(i), std::string(300, 'u'), 1000);
  for (const auto& k : persistent) EXPECT_TRUE(s->Exists(k)) << k;
  EXPECT_GT(s->GetStats().evictions, 0u);
}

TEST(EvictionTest, VolatileLruRefusesWhenOnlyPersistentKeys) {
  auto s = MakeStore(4096, EvictionPolicy::kVolatileLru, 1);
  int n = 0;
  while (s->Set("p" + std::to_string(n), std::string(300, 'p'), 0)) ++n;
  EXPECT_GT(n, 3);
  EXPECT_FALSE(s->Set("t", std::string(300, 't'), 100));
  for (int i = 0; i < n; ++i) EXPECT_TRUE(s->Exists("p" + std::to_string(i)));
  EXPECT_EQ(s->GetStats().evictions, 0u);
}

TEST(EvictionTest, AllKeysRandomMakesRoom) {
  auto s = MakeStore(4096, EvictionPolicy::kAllKeysRandom, 1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(s->Set("k" + std::to_string(i), std::string(300, 'r'), 0)) << i;
  }
  EXPECT_GT(s->GetStats().evictions, 0u);
  EXPECT_TRUE(s->Exists("k99"));
}

TEST(EvictionTest, ExpiredCandidateIsTakenFirst) {
  auto s = MakeStore(1000, EvictionPolicy::kAllKeysLru, 1);
  ASSERT_TRUE(s->Set("keep", std::string(200, 'k'), 0));
  ASSERT_TRUE(s->Set("dies", std::string(200, 'd'), 1));
  SleepMs(1100);
  std::string out;
  ASSERT_TRUE(s->Set("x", std::string(200, 'x'), 0));
  ASSERT_TRUE(s->Set("y", std::string(200, 'y'), 0));
  EXPECT_TRUE(s->Exists("keep"));
  EXPECT_GE(s->GetStats().expired, 1u);
}

TEST(EvictionTest, IncrGrowthCanBeRefused) {
  auto s = MakeStore(1024, EvictionPolicy::kNoEviction, 1);
  ASSERT_TRUE(s->Set("n", "9", 0));
  int filled = 0;
  while (s->Set("f" + std::to_string(filled), std::string(16, 'f'), 0)) ++filled;
  int64_t r;
  // "9" -> "10" needs the same 8-byte unit; fill leftovers until even that fails.
  IncrStatus st = s->IncrBy("n", 1, &r);
  if (st == IncrStatus::kOk) EXPECT_EQ(GetOr(*s, "n"), "10");
  else EXPECT_EQ(GetOr(*s, "n"), "9");
  EXPECT_NE(st, IncrStatus::kNotInteger);
}

// ---- expiry by the sweeper ----

TEST(SweeperTest, ActiveExpiryReapsUntouchedKeys) {
  auto s = MakeStore();
  for (int i = 0; i < 200; ++i) s->Set("k" + std::to_string(i), "v", 1);
  for (int i = 0; i < 50; ++i) s->Set("p" + std::to_string(i), "v", 0);
  Sweeper sweeper(s.get());
  auto start = std::chrono::steady_clock::now();
  while (s->GetStats().keys > 50 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    SleepMs(50);
  }
  Stats st = s->GetStats();
  EXPECT_EQ(st.keys, 50u);
  EXPECT_EQ(st.expired, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(SweeperTest, CycleOnlySamplesTtlKeys) {
  auto s = MakeStore(64ull << 20, EvictionPolicy::kAllKeysLru, 1);
  for (int i = 0; i < 1000; ++i) s->Set("p" + std::to_string(i), "v", 0);
  s->Set("t", "v", 1);
  SleepMs(1100);
  EXPECT_EQ(s->ActiveExpireCycle(), 1u);
  EXPECT_EQ(s->GetStats().keys, 1000u);
}

TEST(SweeperTest, AllGoneWithUsedMemoryZero) {
  auto s = MakeStore();
  Sweeper sweeper(s.get());
  for (int i = 0; i < 200; ++i) {
    // TTLs are whole seconds; 1 s is the shortest, so spread over 1..2 s.
    s->Set("k" + std::to_string(i), std::string(i, 'v'), 1 + i % 2);
  }
  auto start = std::chrono::steady_clock::now();
  while (s->GetStats().keys > 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    SleepMs(50);
  }
  EXPECT_EQ(s->GetStats().keys, 0u);
  EXPECT_EQ(s->GetStats().used_memory, 0u);
}

// ---- watches ----

TEST(WatchTest, VersionZeroSnapshotsAtOnce) {
  auto s = MakeStore();
  std::string v;
  s->Set("k", "hello", 0);
  WaitResult r = s->Wait("k", 0, 1000, nullptr, &v);
  EXPECT_EQ(r.status, WaitResult::Status::kChanged);
  EXPECT_GE(r.version, 1u);
  EXPECT_TRUE(r.has_value);
  EXPECT_EQ(v, "hello");
  WaitResult m = s->Wait("missing", 0, 1000, nullptr, &v);
  EXPECT_EQ(m.status, WaitResult::Status::kChanged);
  EXPECT_FALSE(m.has_value);
}

TEST(WatchTest, WritesNeverCreateSlots) {
  auto s = MakeStore();
  for (int i = 0; i < 100; ++i) s->Set("k" + std::to_string(i), "v", 0);
  EXPECT_EQ(s->WatchSlotCount(), 0u);
}

TEST(WatchTest, TimesOutAndPolls) {
  auto s = MakeStore();
  std::string v;
  WaitResult first = s->Wait("k", 0, 0, nullptr, &v);
  auto start = std::chrono::steady_clock::now();
  WaitResult r = s->Wait("k", first.version, 300, nullptr, &v);
  EXPECT_EQ(r.status, WaitResult::Status::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  WaitResult poll = s->Wait("k", first.version, 0, nullptr, &v);
  EXPECT_EQ(poll.status, WaitResult::Status::kTimeout);
}

TEST(WatchTest, WakesOnSetDelIncrAndNotOnExpire) {
  auto s = MakeStore();
  std::string v;
  uint64_t version = s->Wait("k", 0, 0, nullptr, &v).version;
  auto expect_wake = [&](auto write, bool present, const std::string& value) {
    std::thread writer([&] {
      SleepMs(50);
      write();
    });
    WaitResult r = s->Wait("k", version, 5000, nullptr, &v);
    writer.join();
    ASSERT_EQ(r.status, WaitResult::Status::kChanged);
    EXPECT_GT(r.version, version);
    EXPECT_EQ(r.has_value, present);
    if (present) EXPECT_EQ(v, value);
    version = r.version;
  };
  expect_wake([&] { s->Set("k", "one", 0); }, true, "one");
  expect_wake([&] { s->Set("k", "7", 0); }, true, "7");
  expect_wake([&] { int64_t r; s->IncrBy("k", 1, &r); }, true, "8");
  expect_wake([&] { s->Del("k"); }, false, "");
  s->Set("k", "x", 0);
  version = s->Wait("k", version, 0, nullptr, &v).version;
  EXPECT_TRUE(s->Expire("k", 100));
  s->Set("other", "x", 0);
  EXPECT_EQ(s->Wait("k", version, 200, nullptr, &v).status, WaitResult::Status::kTimeout);
}

TEST(WatchTest, FlushWakesEveryWaiter) {
  auto s = MakeStore();
  std::string v;
  std::vector<std::thread> waiters;
  std::atomic<int> woke{0};
  for (int i = 0; i < 4; ++i) {
    std::string key = "w" + std::to_string(i);
    s->Set(key, "x", 0);
    uint64_t version = s->Wait(key, 0, 0, nullptr, &v).version;
    waiters.emplace_back([&, key, version] {
      std::string out;
      WaitResult r = s->Wait(key, version, 5000, nullptr, &out);
      if (r.status == WaitResult::Status::kChanged && !r.has_value) ++woke;
    });
  }
  SleepMs(100);
  s->FlushAll();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woke.load(), 4);
}

TEST(WatchTest, SeveralWaitersWakeOnOneWrite) {
  auto s = MakeStore();
  std::string v;
  uint64_t version = s->Wait("k", 0, 0, nullptr, &v).version;
  std::atomic<int> woke{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      std::string out;
      if (s->Wait("k", version, 5000, nullptr, &out).status == WaitResult::Status::kChanged &&
          out == "new") {
        ++woke;
      }
    });
  }
  SleepMs(100);
  s->Set("k", "new", 0);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woke.load(), 3);
}

TEST(WatchTest, CancelEndsTheWait) {
  auto s = MakeStore();
  std::string v;
  uint64_t version = s->Wait("k", 0, 0, nullptr, &v).version;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    SleepMs(100);
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  WaitResult r = s->Wait("k", version, 10000, &cancel, &v);
  canceller.join();
  EXPECT_EQ(r.status, WaitResult::Status::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(WatchTest, IdleSlotsAreFreedAndVersionsNeverGoBack) {
  auto s = MakeStore();
  s->SetWatchSlotGraceMsForTesting(0);
  std::string v;
  uint64_t first = s->Wait("k", 0, 0, nullptr, &v).version;
  EXPECT_EQ(s->WatchSlotCount(), 1u);
  s->ActiveExpireCycle();
  EXPECT_EQ(s->WatchSlotCount(), 0u);
  // Coming back with the old version returns once, immediately, with a larger version.
  WaitResult r = s->Wait("k", first, 5000, nullptr, &v);
  EXPECT_EQ(r.status, WaitResult::Status::kChanged);
  EXPECT_GT(r.version, first);
}

TEST(WatchTest, ExpiryReapWakesWaiter) {
  auto s = MakeStore();
  Sweeper sweeper(s.get());
  std::string v;
  s->Set("k", "x", 1);
  uint64_t version = s->Wait("k", 0, 0, nullptr, &v).version;
  WaitResult r = s->Wait("k", version, 5000, nullptr, &v);
  EXPECT_EQ(r.status, WaitResult::Status::kChanged);
  EXPECT_FALSE(r.has_value);
}

}  // namespace
}  // namespace ephpm::kv

namespace ephpm::kv {
namespace {

// Stats::expires (RESP INFO's "expires") counts the live entries that have a TTL, through every
// way a TTL is set, cleared or its entry removed.
TEST(StoreTest, ExpiresCountsKeysWithATtl) {
  auto s = MakeStore();
  auto expires = [&] { return s->GetStats().expires; };
  ASSERT_TRUE(s->Set("p", "persistent", 0));
  ASSERT_TRUE(s->Set("t1", "v", 100));
  ASSERT_TRUE(s->Set("t2", "v", 100));
  EXPECT_EQ(expires(), 2u);
  ASSERT_TRUE(s->Set("t1", "again", 100));  // overwrite keeping a TTL (in place)
  EXPECT_EQ(expires(), 2u);
  ASSERT_TRUE(s->Set("t1", std::string(5000, 'x'), 100));  // overwrite by a rebuilt entry
  EXPECT_EQ(expires(), 2u);
  ASSERT_TRUE(s->Set("t2", "now persistent", 0));  // a plain SET clears the TTL
  EXPECT_EQ(expires(), 1u);
  ASSERT_TRUE(s->Expire("p", 100));
  EXPECT_EQ(expires(), 2u);
  ASSERT_TRUE(s->PExpire("t2", 100000));
  EXPECT_EQ(expires(), 3u);
  ASSERT_TRUE(s->PExpire("t2", 50000));  // a new deadline for a key that has one
  EXPECT_EQ(expires(), 3u);
  ASSERT_TRUE(s->Persist("p"));
  EXPECT_FALSE(s->Persist("p"));
  EXPECT_EQ(expires(), 2u);
  int64_t n = 0;
  ASSERT_EQ(s->IncrBy("t2", 1, &n), IncrStatus::kNotInteger);
  ASSERT_TRUE(s->Set("c", "1", 100));
  ASSERT_EQ(s->IncrBy("c", 1, &n), IncrStatus::kOk);  // keeps the TTL
  EXPECT_EQ(expires(), 3u);
  ASSERT_TRUE(s->Update("c", [](const KeyState&, KeyChange* c) {  // KEEPTTL-style rewrite
    c->action = KeyChange::Action::kWrite;
    c->value = "kept";
  }));
  EXPECT_EQ(expires(), 3u);
  EXPECT_EQ(s->Del("t1"), 1);
  EXPECT_EQ(expires(), 2u);
  ASSERT_TRUE(s->PExpire("c", 1));  // reaped by the active cycle
  SleepMs(5);
  s->ActiveExpireCycle();
  EXPECT_EQ(expires(), 1u);
  ASSERT_TRUE(s->PExpire("t2", 1));  // reaped lazily by a read
  SleepMs(5);
  EXPECT_EQ(GetOr(*s, "t2"), "<missing>");
  EXPECT_EQ(expires(), 0u);
  ASSERT_TRUE(s->Set("t3", "v", 100));
  s->FlushAll();
  EXPECT_EQ(expires(), 0u);
  EXPECT_EQ(s->GetStats().keys, 0u);
}

TEST(StoreTest, ExpiresStaysRightUnderEviction) {
  auto s = MakeStore(2ull << 20, EvictionPolicy::kVolatileLru, 1);
  std::string value(1000, 'v');
  for (int i = 0; i < 5000; ++i) {  // far more than fits: volatile keys are evicted
    s->Set("k" + std::to_string(i), value, i % 2 == 0 ? 100 : 0);
  }
  Stats st = s->GetStats();
  ASSERT_GT(st.evictions, 0u);
  uint64_t with_ttl = 0;
  std::vector<std::string> keys;
  for (uint64_t cursor = s->Scan(0, 1000, "", &keys); cursor != 0;) {
    cursor = s->Scan(cursor, 1000, "", &keys);
  }
  for (const std::string& k : keys) with_ttl += s->Pttl(k) > 0;
  EXPECT_EQ(st.expires, with_ttl);
  EXPECT_EQ(st.keys, keys.size());
}

}  // namespace
}  // namespace ephpm::kv
