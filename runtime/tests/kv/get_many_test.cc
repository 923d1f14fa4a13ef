// Store::GetMany (runtime/kv/get_many.cc): the batch read answers exactly what one Get per key
// would, in request order, looks a repeated key up once, and counts one hit or miss per distinct
// key, whatever path each key takes (lock-free, expired and reaped, compressed, a RESP hash).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

using Result = Store::BatchResult;

std::unique_ptr<Store> MakeStore(Compression compression = Compression::kNone,
                                 uint32_t shards = 64) {
  Options o;
  o.memory_limit = 64ull << 20;
  o.shards = shards;
  o.compression = compression;
  o.compression_min_size = 64;
  std::string error;
  auto s = Store::CreatePrivate(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

struct Batch {
  std::vector<std::string_view> keys;
  std::vector<std::string> values;
  std::vector<Result> results;
};

Batch GetMany(Store& s, const std::vector<std::string_view>& keys) {
  Batch b{keys, std::vector<std::string>(keys.size(), "<untouched>"),
          std::vector<Result>(keys.size(), Result::kHit)};
  s.GetMany(b.keys.data(), b.keys.size(), b.values.data(), b.results.data());
  return b;
}

TEST(GetManyTest, RequestOrderMissesAndRepeats) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Set("a", "1", 0));
  ASSERT_TRUE(s->Set("b", "2", 0));
  ASSERT_TRUE(s->Set(std::string_view("z\0z", 3), "nul", 0));
  Stats before = s->GetStats();
  Batch b = GetMany(*s, {"b", "missing", "a", "b", std::string_view("z\0z", 3), "missing", "a"});
  std::vector<Result> want = {Result::kHit, Result::kMiss,   Result::kHit, Result::kRepeat,
                              Result::kHit, Result::kRepeat, Result::kRepeat};
  EXPECT_EQ(b.results, want);
  EXPECT_EQ(b.values[0], "2");
  EXPECT_EQ(b.values[2], "1");
  EXPECT_EQ(b.values[4], "nul");
  EXPECT_EQ(b.values[1], "<untouched>");  // a miss leaves its slot alone
  EXPECT_EQ(b.values[3], "<untouched>");  // so does a repeat
  Stats after = s->GetStats();
  EXPECT_EQ(after.hits - before.hits, 3u);      // a, b, z\0z once each
  EXPECT_EQ(after.misses - before.misses, 1u);  // "missing" once
}

TEST(GetManyTest, EmptyBatchAndOverlongKey) {
  auto s = MakeStore();
  s->GetMany(nullptr, 0, nullptr, nullptr);
  std::string long_key(kMaxKeyLength + 1, 'k');
  ASSERT_TRUE(s->Set("k", "v", 0));
  Batch b = GetMany(*s, {long_key, "k"});
  EXPECT_EQ(b.results, (std::vector<Result>{Result::kMiss, Result::kHit}));
  EXPECT_EQ(b.values[1], "v");
  EXPECT_EQ(s->GetStats().misses, 0u);  // an overlong key is not looked up, as with Get
}

TEST(GetManyTest, ExpiredKeysMissAndAreReaped) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Set("gone", "x", 0));
  ASSERT_TRUE(s->Set("later", "y", 100));
  ASSERT_TRUE(s->PExpire("gone", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Stats before = s->GetStats();
  Batch b = GetMany(*s, {"gone", "later"});
  EXPECT_EQ(b.results, (std::vector<Result>{Result::kMiss, Result::kHit}));
  EXPECT_EQ(b.values[1], "y");
  Stats after = s->GetStats();
  EXPECT_EQ(after.misses - before.misses, 1u);
  EXPECT_EQ(after.hits - before.hits, 1u);
  EXPECT_EQ(after.expired - before.expired, 1u);  // the locked path reaped it
  EXPECT_EQ(after.keys, 1u);
}

TEST(GetManyTest, CompressedValuesAreDecoded) {
  auto s = MakeStore(Compression::kZstd);
  std::string big(5000, 'c');  // compresses well: stored compressed
  std::string small = "tiny";  // under compression_min_size: stored raw
  ASSERT_TRUE(s->Set("big", big, 0));
  ASSERT_TRUE(s->Set("small", small, 0));
  ASSERT_GT(s->GetStats().bytes_saved, 0u);
  Batch b = GetMany(*s, {"big", "small", "big"});
  EXPECT_EQ(b.results, (std::vector<Result>{Result::kHit, Result::kHit, Result::kRepeat}));
  EXPECT_EQ(b.values[0], big);
  EXPECT_EQ(b.values[1], small);
  EXPECT_EQ(s->GetStats().hits, 2u);
}

TEST(GetManyTest, RespHashReadsAsMissing) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Update("h", [](const KeyState&, KeyChange* c) {
    c->action = KeyChange::Action::kWrite;
    c->type = ValueType::kHash;
    c->value = "encoded-fields";
  }));
  ASSERT_TRUE(s->Set("s", "v", 0));
  Batch b = GetMany(*s, {"h", "s"});
  EXPECT_EQ(b.results, (std::vector<Result>{Result::kMiss, Result::kHit}));
  EXPECT_EQ(b.values[1], "v");
  EXPECT_EQ(s->GetStats().misses, 1u);
  EXPECT_EQ(s->GetStats().hits, 1u);
}

// More keys than one shard batch holds, over every shard, each compared with Get.
TEST(GetManyTest, BatchSpanningEveryShardMatchesGet) {
  auto s = MakeStore(Compression::kNone, 8);
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) {
    names.push_back("key:" + std::to_string(i));
    if (i % 3 != 0) {
      ASSERT_TRUE(s->Set(names.back(), "value " + std::to_string(i), 0));
    }
  }
  for (int i = 0; i < 50; ++i) names.push_back("key:" + std::to_string(i * 5));  // repeats
  std::vector<std::string_view> keys(names.begin(), names.end());
  Stats before = s->GetStats();
  Batch b = GetMany(*s, keys);
  Stats after = s->GetStats();
  EXPECT_EQ(after.hits - before.hits, 200u);  // each distinct key counted once
  EXPECT_EQ(after.misses - before.misses, 100u);
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string want;
    bool live = s->Get(keys[i], &want);
    if (i >= 300) {
      EXPECT_EQ(b.results[i], Result::kRepeat) << keys[i];
    } else if (live) {
      EXPECT_EQ(b.results[i], Result::kHit) << keys[i];
      EXPECT_EQ(b.values[i], want) << keys[i];
    } else {
      EXPECT_EQ(b.results[i], Result::kMiss) << keys[i];
    }
  }
}

}  // namespace
}  // namespace ephpm::kv
