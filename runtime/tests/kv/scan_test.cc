// Store::Scan and the glob dialect behind its MATCH: the listing guarantee (store.h, docs/kv-contract.md
// 4.7) on a static store and under concurrent writers, cursor termination, bounded work, expiry.
// Labelled "concurrency" so that suite 12-cpp-tsan runs it under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kv/glob.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

std::unique_ptr<Store> MakeStore(uint32_t shards = 64) {
  Options o;
  o.memory_limit = 64ull << 20;
  o.shards = shards;
  std::string error;
  auto store = Store::CreatePrivate(o, &error);
  EXPECT_TRUE(store) << error;
  return store;
}

// A whole scan: every key returned, in order, and the number of calls it took.
std::vector<std::string> ScanAll(Store& s, size_t count, std::string_view match = "",
                                 int* calls = nullptr) {
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  int n = 0;
  do {
    cursor = s.Scan(cursor, count, match, &keys);
    ++n;
  } while (cursor != 0);
  if (calls) *calls = n;
  return keys;
}

std::map<std::string, int> Tally(const std::vector<std::string>& keys) {
  std::map<std::string, int> tally;
  for (const auto& k : keys) ++tally[k];
  return tally;
}

TEST(GlobTest, RedisDialect) {
  struct Case {
    std::string_view pattern, text;
    bool match;
  };
  const Case cases[] = {
      {"*", "", true},           {"*", "anything", true},     {"", "", true},
      {"", "a", false},          {"a*", "abc", true},         {"a*", "bac", false},
      {"*c", "abc", true},       {"a*c", "ac", true},         {"a*c", "abcd", false},
      {"h?llo", "hello", true},  {"h?llo", "hllo", false},    {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false}, {"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hbllo", true}, {"h[a-b]llo", "hcllo", false}, {"h[b-a]llo", "hallo", true},
      {"\\*", "*", true},        {"\\*", "a", false},         {"a\\?", "a?", true},
      {"a\\?", "ab", false},     {"[\\]]", "]", true},        {"[]", "a", false},
      {"ab\\", "ab\\", true},    {"a[bc", "ab", true},        {"a[bc", "ad", false},
      {"*a*b*c*", "xxaxxbxxcxx", true}, {"*a*b*c*", "xxaxxcxxbxx", false},
      {"user:*:name", "user:42:name", true}, {"user:*:name", "user:42:mail", false},
      {"**?", "", false},        {"**?", "x", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << "pattern '" << c.pattern << "' text '"
                                                     << c.text << "'";
  }
  // Byte strings: NUL and high bytes are ordinary bytes; ranges compare them unsigned.
  EXPECT_TRUE(GlobMatch(std::string_view("a\0*", 3), std::string_view("a\0bc", 4)));
  EXPECT_FALSE(GlobMatch(std::string_view("a\0*", 3), "abc"));
  EXPECT_TRUE(GlobMatch("[\x80-\xff]", "\xe9"));
  EXPECT_FALSE(GlobMatch("[\x80-\xff]", "e"));
}

TEST(GlobTest, ManyStarsStayCheap) {
  // Exponential for a naive backtracking matcher; quadratic here, so this returns at once.
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "*a";
  pattern += "b";
  EXPECT_FALSE(GlobMatch(pattern, std::string(200, 'a')));
  EXPECT_TRUE(GlobMatch(pattern, std::string(200, 'a') + "b"));
}

TEST(ScanTest, StaticStoreReturnsEveryKeyExactlyOnce) {
  auto s = MakeStore();
  std::set<std::string> expected;
  for (int i = 0; i < 5000; ++i) expected.insert("key:" + std::to_string(i));
  expected.insert("");
  expected.insert(std::string("bin\0key", 7));
  expected.insert(std::string(1000, 'L'));
  for (const auto& k : expected) ASSERT_TRUE(s->Set(k, "v", 0));
  for (size_t count : {1, 7, 100, 100000}) {
    auto tally = Tally(ScanAll(*s, count));
    EXPECT_EQ(tally.size(), expected.size()) << "count " << count;
    for (const auto& k : expected) EXPECT_EQ(tally[k], 1) << "count " << count << " key " << k;
  }
}

TEST(ScanTest, MatchFiltersWithGlob) {
  auto s = MakeStore();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(s->Set("user:" + std::to_string(i) + ":name", "n", 0));
    ASSERT_TRUE(s->Set("user:" + std::to_string(i) + ":mail", "m", 0));
    ASSERT_TRUE(s->Set("session:" + std::to_string(i), "s", 0));
  }
  EXPECT_EQ(ScanAll(*s, 10, "user:*:name").size(), 300u);
  EXPECT_EQ(ScanAll(*s, 10, "session:*").size(), 300u);
  EXPECT_EQ(ScanAll(*s, 10, "*").size(), 900u);
  EXPECT_EQ(ScanAll(*s, 10, "").size(), 900u);
  auto ones = ScanAll(*s, 10, "session:1?");
  EXPECT_EQ(std::set<std::string>(ones.begin(), ones.end()),
            (std::set<std::string>{"session:10", "session:11", "session:12", "session:13",
                                   "session:14", "session:15", "session:16", "session:17",
                                   "session:18", "session:19"}));
  EXPECT_EQ(ScanAll(*s, 10, "session:[12]").size(), 2u);
  EXPECT_TRUE(ScanAll(*s, 10, "nothing:*").empty());
}

TEST(ScanTest, CursorZeroEndsEvenOnAnEmptyStore) {
  auto s = MakeStore();
  int calls = 0;
  EXPECT_TRUE(ScanAll(*s, 1, "", &calls).empty());
  // count bounds the buckets one call reads, so an empty store takes several calls at count 1
  // and fewer at a larger count; each call moves the cursor forward.
  int calls_big = 0;
  ScanAll(*s, 100000, "", &calls_big);
  EXPECT_GT(calls, 1);
  EXPECT_LT(calls_big, calls);
  std::vector<std::string> keys;
  uint64_t cursor = 0, previous = 0;
  do {
    previous = cursor;
    cursor = s->Scan(cursor, 1, "", &keys);
    EXPECT_TRUE(cursor == 0 || cursor > previous);
  } while (cursor != 0);
  // A cursor past the end (from another arena, or made up) ends the scan at once.
  EXPECT_EQ(s->Scan(UINT64_MAX, 10, "", &keys), 0u);
  EXPECT_TRUE(keys.empty());
}

TEST(ScanTest, CountBoundsTheKeysOfOneCall) {
  auto s = MakeStore();
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(s->Set("k" + std::to_string(i), "v", 0));
  for (size_t count : {1, 5, 50}) {
    std::vector<std::string> all;
    uint64_t cursor = 0;
    int calls = 0;
    do {
      std::vector<std::string> step;
      cursor = s->Scan(cursor, count, "", &step);
      ++calls;
      // A call stops once it has seen `count` keys, finishing the bucket it is in (buckets hold a
      // handful of keys at this load).
      EXPECT_LE(step.size(), count + 8) << "count " << count;
      all.insert(all.end(), step.begin(), step.end());
    } while (cursor != 0);
    EXPECT_EQ(all.size(), 3000u);
    EXPECT_GE(static_cast<size_t>(calls), 3000 / (count + 8));
  }
}

TEST(ScanTest, ExpiredKeysAreSkippedNotReaped) {
  auto s = MakeStore();
  ASSERT_TRUE(s->Set("short", "v", 1));
  ASSERT_TRUE(s->Set("long", "v", 1000));
  ASSERT_TRUE(s->Set("forever", "v", 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto keys = ScanAll(*s, 10);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
            (std::set<std::string>{"long", "forever"}));
  EXPECT_EQ(s->GetStats().keys, 3u);  // no sweeper here, and the scan wrote nothing
  EXPECT_EQ(s->GetStats().expired, 0u);
}

TEST(ScanTest, KeysPresentThroughoutAreReturnedWhileWritersChurn) {
  auto s = MakeStore(8);
  constexpr int kStable = 2000;
  for (int i = 0; i < kStable; ++i) ASSERT_TRUE(s->Set("stable:" + std::to_string(i), "v", 0));
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&s, &stop, w] {
      // Inserts and deletes churn keys, and rewrites (with a growing value) the stable ones.
      for (int n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        std::string churn = "churn:" + std::to_string(w) + ":" + std::to_string(n % 500);
        if (n % 2 == 0) {
          s->Set(churn, std::string(n % 300, 'x'), 0);
        } else {
          s->Del(churn);
        }
        s->Set("stable:" + std::to_string(n % kStable), std::string(n % 200, 'y'), 0);
      }
    });
  }
  // Failures are collected and checked after the writers are joined (an ASSERT returning early
  // would destroy joinable threads).
  std::vector<std::string> missing, duplicated;
  for (int round = 0; round < 20 && missing.empty() && duplicated.empty(); ++round) {
    auto tally = Tally(ScanAll(*s, 1 + round * 3));
    for (int i = 0; i < kStable; ++i) {
      std::string key = "stable:" + std::to_string(i);
      if (tally[key] == 0) missing.push_back(key);
    }
    for (const auto& [key, n] : tally) {
      if (n > 1) duplicated.push_back(key);
    }
  }
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_TRUE(missing.empty()) << missing.size() << " stable keys missing, first " << missing[0];
  EXPECT_TRUE(duplicated.empty()) << duplicated.size() << " duplicates, first " << duplicated[0];
}

}  // namespace
}  // namespace ephpm::kv
