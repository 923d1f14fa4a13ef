// Lock-free reads under fire (runtime/kv/read.cc): readers check a checksum embedded in every value
// while writers rewrite, grow and shrink values (so entries and their chunks move), delete, let
// keys expire and evict at full speed in a store far too small for the working set. In threads
// (ThreadSanitizer checks the protocol there; label "concurrency") and in forked processes. Every
// read path is used: Get, Read with a small buffer (what ephpm_kv_get does), Read + ReadPeeked
// for large values, and GetMany batches (ephpm_kv_mget, RESP MGET). Asserts zero checksum failures and that reads did return values.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kv/store.h"
#include "runtime/kv/sweeper.h"

namespace ephpm::kv {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr int kWritesPerWriter = 6000;
#else
constexpr int kWritesPerWriter = 40000;
#endif
constexpr int kKeys = 97;
constexpr size_t kSmallBuffer = 512;  // ephpm_kv_get's stack buffer

// A word-at-a-time multiplicative hash: cheap enough for the readers to check every byte.
uint64_t Checksum(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
  return h;
}

// size >= 16 bytes of noise derived from seed, the last 8 of which are the checksum of the rest.
std::string ChecksummedValue(uint64_t seed, size_t size) {
  std::string v(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 8 <= size - 8; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(&v[i], &x, 8);
  }
  uint64_t sum = Checksum(v.data(), size - 8);
  std::memcpy(&v[size - 8], &sum, 8);
  return v;
}

bool Intact(const char* p, size_t n) {
  if (n < 16) return false;
  uint64_t sum;
  std::memcpy(&sum, p + n - 8, 8);
  return sum == Checksum(p, n - 8);
}

// 16 B .. ~48 KiB, skewed small, so that most writes are small and some span many chunks.
size_t SizeFor(uint64_t i) {
  static const size_t sizes[] = {16, 40, 100, 300, 700, 2000, 6000, 20000, 48000};
  return sizes[(i * 2654435761u >> 7) % 9] + i % 13;
}

struct Tally {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> peeked{0};  // values that took the Read + ReadPeeked path
  std::atomic<uint64_t> batched{0};  // values read by GetMany
  std::atomic<bool> writers_done{false};
};

void Write(Store* s, int writer) {
  for (uint64_t i = 0; i < kWritesPerWriter; ++i) {
    uint64_t n = i * 7 + writer;
    std::string key = "k" + std::to_string(n % kKeys);
    if (n % 17 == 0) {
      s->Del(key);
    } else {
      s->Set(key, ChecksummedValue(n, SizeFor(n)), n % 5 == 0 ? 1 : 0);
    }
    if (n % 31 == 0) {
      int64_t r;
      s->IncrBy("counter" + std::to_string(n % 3), 1, &r);  // in-place rewrites in other shards
    }
  }
}

// Store::GetMany over kBatch keys spread over every shard (repeats included), as ephpm_kv_mget
// and RESP MGET read them.
void ReadBatch(Store* s, uint64_t i, Tally* t) {
  constexpr size_t kBatch = 24;
  std::string names[kBatch];
  std::string_view keys[kBatch];
  std::string values[kBatch];
  Store::BatchResult results[kBatch];
  for (size_t k = 0; k < kBatch; ++k) {
    names[k] = "k" + std::to_string((i + k * 5) % kKeys);
    keys[k] = names[k];
  }
  s->GetMany(keys, kBatch, values, results);
  for (size_t k = 0; k < kBatch; ++k) {
    if (results[k] != Store::BatchResult::kHit) continue;
    t->hits.fetch_add(1, std::memory_order_relaxed);
    t->batched.fetch_add(1, std::memory_order_relaxed);
    if (!Intact(values[k].data(), values[k].size())) t->failures.fetch_add(1);
  }
}

void Read(Store* s, int reader, Tally* t) {
  std::string value;
  char small[kSmallBuffer];
  // At least kMinReads each, so that reads overlap the writers even when those finish first.
  constexpr uint64_t kMinReads = 2000;
  for (uint64_t i = reader; i < kMinReads || !t->writers_done.load(std::memory_order_relaxed);
       ++i) {
    std::string key = "k" + std::to_string(i % kKeys);
    if (i % 4 == 2) {
      ReadBatch(s, i, t);
      continue;
    }
    if (i % 2 == 0) {
      if (s->Get(key, &value)) {
        t->hits.fetch_add(1, std::memory_order_relaxed);
        if (!Intact(value.data(), value.size())) t->failures.fetch_add(1);
      }
      continue;
    }
    Store::Peeked peeked;
    switch (s->Read(key, small, sizeof(small), &peeked)) {
      case Store::ReadResult::kMiss:
        break;
      case Store::ReadResult::kCopied:
        t->hits.fetch_add(1, std::memory_order_relaxed);
        if (!Intact(small, peeked.size)) t->failures.fetch_add(1);
        break;
      case Store::ReadResult::kTooBig:
        t->hits.fetch_add(1, std::memory_order_relaxed);
        value.assign(peeked.size, '\0');  // allocated between the two steps, as PHP does
        if (s->ReadPeeked(peeked, value.data())) {
          t->peeked.fetch_add(1, std::memory_order_relaxed);
          if (!Intact(value.data(), value.size())) t->failures.fetch_add(1);
        } else if (s->Get(key, &value) && !Intact(value.data(), value.size())) {
          t->failures.fetch_add(1);
        }
        break;
    }
  }
}

std::unique_ptr<Store> SmallSharedStore() {
  Options o;
  o.memory_limit = 512ull << 10;  // 4 shards of 128 KiB: two of the largest values fill one
  o.shards = 4;
  std::string error;
  auto s = Store::CreateShared(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

TEST(ReadStressTest, ThreadsReadIntactValuesWhileWritersChurnAndEvict) {
  auto s = SmallSharedStore();
  ASSERT_TRUE(s);
  Tally tally;
  Sweeper sweeper(s.get());  // active expiry as a third kind of writer
  std::vector<std::thread> writers, readers;
  for (int w = 0; w < 2; ++w) writers.emplace_back(Write, s.get(), w);
  for (int r = 0; r < 2; ++r) readers.emplace_back(Read, s.get(), r, &tally);
  for (auto& t : writers) t.join();
  tally.writers_done = true;
  for (auto& t : readers) t.join();
  Stats st = s->GetStats();
  std::printf("threads: %llu intact reads (%llu via ReadPeeked, %llu via GetMany), %llu evictions\n",
              static_cast<unsigned long long>(tally.hits.load()),
              static_cast<unsigned long long>(tally.peeked.load()),
              static_cast<unsigned long long>(tally.batched.load()),
              static_cast<unsigned long long>(st.evictions));
  EXPECT_EQ(tally.failures.load(), 0u);
  EXPECT_GT(tally.hits.load(), 0u);
  EXPECT_GT(tally.batched.load(), 0u);
  EXPECT_GT(st.evictions, 0u);  // the writers really did evict
  EXPECT_EQ(st.discarded_shards, 0u);
}

TEST(ReadStressTest, ProcessesReadIntactValuesWhileWriterProcessesChurnAndEvict) {
  auto s = SmallSharedStore();
  ASSERT_TRUE(s);
  void* shared = mmap(nullptr, sizeof(Tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  Tally* tally = new (shared) Tally();
  std::vector<pid_t> writers, readers;
  for (int w = 0; w < 2; ++w) {
    pid_t pid = fork();
    if (pid == 0) {
      Write(s.get(), w);
      _exit(0);
    }
    writers.push_back(pid);
  }
  for (int r = 0; r < 2; ++r) {
    pid_t pid = fork();
    if (pid == 0) {
      Read(s.get(), r, tally);
      _exit(0);
    }
    readers.push_back(pid);
  }
  int clean_exits = 0;
  for (pid_t pid : writers) {
    int status = 0;
    waitpid(pid, &status, 0);
    clean_exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  tally->writers_done = true;
  for (pid_t pid : readers) {
    int status = 0;
    waitpid(pid, &status, 0);
    clean_exits += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  EXPECT_EQ(clean_exits, 4);
  std::printf("processes: %llu intact reads (%llu via ReadPeeked, %llu via GetMany), "
              "%llu evictions\n",
              static_cast<unsigned long long>(tally->hits.load()),
              static_cast<unsigned long long>(tally->peeked.load()),
              static_cast<unsigned long long>(tally->batched.load()),
              static_cast<unsigned long long>(s->GetStats().evictions));
  EXPECT_EQ(tally->failures.load(), 0u);
  EXPECT_GT(tally->hits.load(), 0u);
  EXPECT_GT(tally->batched.load(), 0u);
  EXPECT_GT(s->GetStats().evictions, 0u);
  EXPECT_EQ(s->GetStats().discarded_shards, 0u);
  munmap(shared, sizeof(Tally));
}

}  // namespace
}  // namespace ephpm::kv
