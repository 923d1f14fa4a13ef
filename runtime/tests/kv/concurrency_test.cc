// Concurrency: threads and forked processes on one arena, and processes killed mid-write.
// Runs under ThreadSanitizer in `make test` (label "concurrency"). TSan does not follow fork(), so
// the multi-process tests only check results there.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"

namespace ephpm::kv {
namespace {

std::unique_ptr<Store> MakeShared(uint64_t limit = 64ull << 20, uint32_t shards = 64) {
  Options o;
  o.memory_limit = limit;
  o.shards = shards;
  std::string error;
  auto s = Store::CreateShared(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

// A value whose every byte is derived from its first 8, so a torn read is detectable.
std::string PatternValue(uint64_t seed, size_t size) {
  std::string v(size, '\0');
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<char>((seed * 2654435761u + i * 7) >> 3);
  std::memcpy(v.data(), &seed, sizeof(seed));
  return v;
}

bool IsWholeValue(const std::string& v) {
  if (v.size() < sizeof(uint64_t)) return false;
  uint64_t seed;
  std::memcpy(&seed, v.data(), sizeof(seed));
  return v == PatternValue(seed, v.size());
}

// Runs fn(process_index) in `n` forked children; returns how many exited with status 0.
template <typename Fn>
int RunInChildren(int n, Fn fn) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) _exit(fn(i) ? 0 : 1);
    pids.push_back(pid);
  }
  int ok = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

TEST(ConcurrencyTest, ThirtyTwoThreadsRaceSetNxOneWinner) {
  auto s = MakeShared();
  for (int round = 0; round < 20; ++round) {
    std::string key = "race" + std::to_string(round);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
      threads.emplace_back([&, t] {
        if (s->SetNx(key, "t" + std::to_string(t), 0)) ++winners;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << key;
  }
}

TEST(ConcurrencyTest, ThirtyTwoThreadsIncrNoLostUpdate) {
  auto s = MakeShared();
  for (int rep = 0; rep < 50; ++rep) {
    std::string key = "ctr" + std::to_string(rep);
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
      threads.emplace_back([&] {
        int64_t r;
        EXPECT_EQ(s->IncrBy(key, 1, &r), IncrStatus::kOk);
      });
    }
    for (auto& t : threads) t.join();
    std::string v;
    ASSERT_TRUE(s->Get(key, &v));
    EXPECT_EQ(v, "32");
  }
}

TEST(ConcurrencyTest, ReadersNeverSeeTornValuesUnderThreads) {
  auto s = MakeShared(8ull << 20);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (uint64_t i = 0; !stop; ++i) {
        s->Set("k" + std::to_string(i % 64), PatternValue(i * 2 + w, 16 + (i * 37) % 5000), i % 3);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::string v;
      for (uint64_t i = 0; !stop; ++i) {
        if (s->Get("k" + std::to_string(i % 64), &v) && !IsWholeValue(v)) ++torn;
      }
    });
  }
  Sweeper sweeper(s.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST(ConcurrencyTest, TwoProcessesTimesTwoThreadsShareOneArena) {
  auto s = MakeShared();
  constexpr int kIncrements = 2000;
  int ok = RunInChildren(2, [&](int proc) {
    bool good = true;
    std::vector<std::thread> threads;
    std::atomic<int> setnx_wins{0};
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kIncrements; ++i) {
          int64_t r;
          if (s->IncrBy("shared-counter", 1, &r) != IncrStatus::kOk) good = false;
          if (s->SetNx("once" + std::to_string(i), std::to_string(proc * 10 + t), 0)) ++setnx_wins;
          s->Set("v" + std::to_string(i % 32), PatternValue(uint64_t(proc) << 32 | i, 100 + i % 900), 0);
          std::string v;
          if (s->Get("v" + std::to_string((i * 7) % 32), &v) && !IsWholeValue(v)) good = false;
        }
      });
    }
    for (auto& t : threads) t.join();
    // Each child reports its setnx wins through the store itself.
    int64_t r;
    s->IncrBy("setnx-wins", setnx_wins.load(), &r);
    return good;
  });
  EXPECT_EQ(ok, 2);
  std::string v;
  ASSERT_TRUE(s->Get("shared-counter", &v));
  EXPECT_EQ(v, std::to_string(2 * 2 * kIncrements));
  ASSERT_TRUE(s->Get("setnx-wins", &v));
  EXPECT_EQ(v, std::to_string(kIncrements));  // exactly one winner per key
}

TEST(ConcurrencyTest, WaiterInOneProcessWokenByWriteInAnother) {
  auto s = MakeShared();
  std::string v;
  uint64_t version = s->Wait("wake", 0, 0, nullptr, &v).version;
  pid_t child = fork();
  if (child == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    _exit(s->Set("wake", "from child", 0) ? 0 : 1);
  }
  auto start = std::chrono::steady_clock::now();
  WaitResult r = s->Wait("wake", version, 5000, nullptr, &v);
  int status;
  waitpid(child, &status, 0);
  EXPECT_EQ(r.status, WaitResult::Status::kChanged);
  EXPECT_EQ(v, "from child");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ConcurrencyTest, ProcessDyingWithLockHeldCostsOnlyItsShard) {
  auto s = MakeShared(16ull << 20, 4);
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(s->Set("k" + std::to_string(i), "v", 0));
  pid_t child = fork();
  if (child == 0) {
    s->AbandonLockForTesting("k0");
    _exit(0);  // dies holding k0's shard lock
  }
  int status;
  waitpid(child, &status, 0);
  auto start = std::chrono::steady_clock::now();
  std::string v;
  EXPECT_FALSE(s->Get("k0", &v));  // its shard was discarded, not wedged
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(s->DiscardedShards(), 1u);
  int survivors = 0;
  for (int i = 0; i < 400; ++i) survivors += s->Exists("k" + std::to_string(i));
  EXPECT_GT(survivors, 200);  // the other three shards kept their entries
  EXPECT_LT(survivors, 400);
  EXPECT_TRUE(s->Set("k0", "again", 0));
  ASSERT_TRUE(s->Get("k0", &v));
  EXPECT_EQ(v, "again");
}

// A writer process is SIGKILLed at random moments, 200+ times. The parent keeps using the store
// with a deadline: it must never hang, never read a torn value, and keep working.
TEST(ConcurrencyTest, WriterKilledInLoopNeverWedgesTheStore) {
  auto s = MakeShared(16ull << 20, 8);
  constexpr int kKills = 220;
  int torn = 0;
  uint64_t reads = 0;
  for (int kill_round = 0; kill_round < kKills; ++kill_round) {
    pid_t child = fork();
    if (child == 0) {
      for (uint64_t i = 0;; ++i) {
        s->Set("k" + std::to_string(i % 200), PatternValue(i, 50 + (i * 13) % 3000), i % 2);
        int64_t r;
        s->IncrBy("n" + std::to_string(i % 10), 1, &r);
        s->Del("k" + std::to_string((i + 100) % 200));
      }
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(300 + (kill_round * 97) % 2000);
    std::string v;
    while (std::chrono::steady_clock::now() < until) {
      for (int j = 0; j < 20; ++j) {
        if (s->Get("k" + std::to_string((reads + j) % 200), &v)) {
          if (!IsWholeValue(v)) ++torn;
        }
      }
      reads += 20;
    }
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
  }
  EXPECT_EQ(torn, 0);
  std::printf("shards discarded after a holder was killed: %llu\n",
              static_cast<unsigned long long>(s->DiscardedShards()));
  // Still fully usable: every shard's lock is acquirable and writes land.
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(s->Set("after" + std::to_string(i), "ok", 0));
  std::string v;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(s->Get("after" + std::to_string(i), &v));
    EXPECT_EQ(v, "ok");
  }
  s->FlushAll();
  EXPECT_EQ(s->GetStats().keys, 0u);
}

// Mixed sizes with churn near full: writes keep succeeding under allkeys-lru; reports how much of
// memory_limit the store actually held.
TEST(ConcurrencyTest, FragmentationUnderMixedSizeChurn) {
  Options o;
  o.memory_limit = 8ull << 20;
  o.shards = 8;
  std::string error;
  auto s = Store::CreatePrivate(o, &error);
  ASSERT_TRUE(s) << error;
  const size_t sizes[] = {40, 100, 300, 1000, 3000, 9000, 30000};
  uint64_t seed = 1;
  auto next = [&] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
  // Fill to about 90 %.
  int i = 0;
  while (s->GetStats().used_memory < o.memory_limit * 9 / 10) {
    ASSERT_TRUE(s->Set("k" + std::to_string(i++), std::string(sizes[next() % 7], 'x'), 0));
  }
  int failures = 0;
  uint64_t min_used = UINT64_MAX;
  for (int n = 0; n < 50000; ++n) {
    std::string key = "k" + std::to_string(next() % (i * 2));
    if (!s->Set(key, std::string(sizes[next() % 7], 'y'), 0)) ++failures;
    if (n > 10000) min_used = std::min(min_used, s->GetStats().used_memory);
  }
  EXPECT_EQ(failures, 0);
  double usable = double(min_used) / double(o.memory_limit);
  std::printf("fragmentation: lowest used_memory under churn = %.1f%% of memory_limit\n", usable * 100);
  RecordProperty("usable_fraction_percent", static_cast<int>(usable * 100));
  EXPECT_GT(usable, 0.5);
}

}  // namespace
}  // namespace ephpm::kv
