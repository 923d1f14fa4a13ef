// Named arenas: the store name, ownership and mode checks, header validation against corrupt and
// fuzzed arenas, page reservation, the dead-owner rule of the shard locks, and discard reporting.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/kv/arena.h"
#include "runtime/kv/store.h"

namespace ephpm::kv {
namespace {

Options Small(uint32_t shards = 4) {
  Options o;
  o.memory_limit = 8 << 20;
  o.shards = shards;
  return o;
}

std::string UniqueName(const std::string& what) {
  static int n = 0;
  return Store::NameFor("/test/" + what + "/" + std::to_string(getpid()) + "/" +
                            std::to_string(n++),
                        "");
}

std::string ShmPath(const std::string& name) { return "/dev/shm" + name; }

// Reads and writes the bytes of a named object behind the store's back, as a corrupting process
// of the same user would.
class RawObject {
 public:
  explicit RawObject(const std::string& name) : fd_(open(ShmPath(name).c_str(), O_RDWR)) {}
  ~RawObject() {
    if (fd_ >= 0) close(fd_);
  }
  template <typename T>
  T Read(uint64_t offset) const {
    T v{};
    EXPECT_EQ(pread(fd_, &v, sizeof(v), static_cast<off_t>(offset)), ssize_t(sizeof(v)));
    return v;
  }
  template <typename T>
  void Write(uint64_t offset, T v) {
    ASSERT_EQ(pwrite(fd_, &v, sizeof(v), static_cast<off_t>(offset)), ssize_t(sizeof(v)));
  }
  // The header's layout fields (ArenaHeader itself holds atomics and cannot be copied).
  struct Fields {
    uint64_t mapping_size, region_bytes, capacity, bucket_count, shards_offset, slots_offset,
        buckets_offset, regions_offset;
  };
  Fields Header() const {
    return {Read<uint64_t>(offsetof(ArenaHeader, mapping_size)),
            Read<uint64_t>(offsetof(ArenaHeader, region_bytes)),
            Read<uint64_t>(offsetof(ArenaHeader, capacity)),
            Read<uint64_t>(offsetof(ArenaHeader, bucket_count)),
            Read<uint64_t>(offsetof(ArenaHeader, shards_offset)),
            Read<uint64_t>(offsetof(ArenaHeader, slots_offset)),
            Read<uint64_t>(offsetof(ArenaHeader, buckets_offset)),
            Read<uint64_t>(offsetof(ArenaHeader, regions_offset))};
  }
  std::vector<char> Bytes(uint64_t offset, size_t n) const {
    std::vector<char> b(n);
    EXPECT_EQ(pread(fd_, b.data(), n, static_cast<off_t>(offset)), ssize_t(n));
    return b;
  }
  void PutBytes(uint64_t offset, const std::vector<char>& b) {
    ASSERT_EQ(pwrite(fd_, b.data(), b.size(), static_cast<off_t>(offset)), ssize_t(b.size()));
  }

 private:
  int fd_;
};

// Runs fn in a forked child and reports how it ended: "exit N" or "signal N". A child still
// running after `watchdog_s` is killed by SIGALRM (a hang, reported as "signal 14").
template <typename Fn>
std::string InChild(Fn fn, unsigned watchdog_s = 60) {
  pid_t child = fork();
  if (child == 0) {
    alarm(watchdog_s);
    _exit(fn());
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "exit " + std::to_string(WEXITSTATUS(status));
}

TEST(NamedArenaTest, NameCarriesTheUidAndOneRule) {
  std::string by_config = Store::NameFor("/srv/app/ephpm.toml", "127.0.0.1:8080");
  EXPECT_EQ(by_config.rfind("/ephpm-" + std::to_string(geteuid()) + "-", 0), 0u) << by_config;
  EXPECT_EQ(by_config, Store::NameFor("/srv/app/ephpm.toml", "0.0.0.0:9000"));  // listen ignored
  EXPECT_NE(by_config, Store::NameFor("/srv/other/ephpm.toml", "127.0.0.1:8080"));
  EXPECT_NE(Store::NameFor("", "127.0.0.1:8080"), Store::NameFor("", "127.0.0.1:8081"));
  EXPECT_NE(Store::NameFor("", "127.0.0.1:8080"), by_config);
}

TEST(NamedArenaTest, AttachSeesTheSameStore) {
  std::string name = UniqueName("attach");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(owner) << error;
  ASSERT_TRUE(owner->Set("k", "from owner", 0));
  AttachError why = AttachError::kSystem;
  auto attached = Store::AttachNamed(name, &why, &error);
  ASSERT_TRUE(attached) << error;
  EXPECT_EQ(why, AttachError::kNone);
  std::string v;
  ASSERT_TRUE(attached->Get("k", &v));
  EXPECT_EQ(v, "from owner");
  attached->Set("k2", "from attacher", 0);
  ASSERT_TRUE(owner->Get("k2", &v));
  EXPECT_EQ(v, "from attacher");
  EXPECT_EQ(attached->options().memory_limit, 8u << 20);
  // A second live owner of the same name is refused.
  EXPECT_FALSE(Store::CreateNamed(name, Small(), &error));
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  attached.reset();
  owner.reset();  // unlinks
  EXPECT_FALSE(Store::AttachNamed(name, &why, &error));
  EXPECT_EQ(why, AttachError::kNotFound);
}

TEST(NamedArenaTest, StaleObjectOfDeadOwnerIsReplaced) {
  std::string name = UniqueName("stale");
  std::string error;
  std::string ended = InChild([&] {
    std::string e;
    auto s = Store::CreateNamed(name, Small(), &e);
    if (!s) return 1;
    s->Set("k", "v", 0);
    (void)s.release();  // dies without unlinking: a stale object is left
    return 0;
  });
  ASSERT_EQ(ended, "exit 0");
  AttachError why;
  EXPECT_FALSE(Store::AttachNamed(name, &why, &error));
  EXPECT_EQ(why, AttachError::kOwnerGone) << error;
  auto fresh = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(fresh) << error;
  EXPECT_FALSE(fresh->Exists("k"));
}

TEST(NamedArenaTest, CreatedObjectIsMode0600UnderAnyUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    mode_t old = umask(mask);
    std::string name = UniqueName("umask");
    std::string error;
    auto s = Store::CreateNamed(name, Small(), &error);
    umask(old);
    ASSERT_TRUE(s) << error;
    struct stat st{};
    ASSERT_EQ(stat(ShmPath(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << "umask " << mask;
    EXPECT_EQ(st.st_uid, geteuid());
    AttachError why;
    EXPECT_TRUE(Store::AttachNamed(name, &why, &error)) << error;
  }
}

TEST(NamedArenaTest, ObjectOpenedToOthersIsRefused) {
  std::string name = UniqueName("chmod");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(owner) << error;
  ASSERT_EQ(chmod(ShmPath(name).c_str(), 0666), 0);
  AttachError why;
  EXPECT_FALSE(Store::AttachNamed(name, &why, &error));
  EXPECT_EQ(why, AttachError::kNotOurs);
  EXPECT_NE(error.find("mode 0666, not 0600"), std::string::npos) << error;
}

TEST(NamedArenaTest, ObjectOfAnotherUserIsNeitherUsedNorReplaced) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give an object to another uid";
  std::string name = UniqueName("foreign");
  int fd = open(ShmPath(name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchown(fd, 65534, 65534), 0);
  ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
  close(fd);
  std::string error;
  AttachError why;
  EXPECT_FALSE(Store::AttachNamed(name, &why, &error));
  EXPECT_EQ(why, AttachError::kNotOurs);
  EXPECT_NE(error.find("belongs to uid 65534"), std::string::npos) << error;
  EXPECT_FALSE(Store::CreateNamed(name, Small(), &error));
  EXPECT_NE(error.find("belongs to uid 65534"), std::string::npos) << error;
  struct stat st{};
  ASSERT_EQ(stat(ShmPath(name).c_str(), &st), 0);  // still there, still theirs
  EXPECT_EQ(st.st_uid, 65534u);
  unlink(ShmPath(name).c_str());
}

TEST(NamedArenaTest, PagesAreReservedAndStayReservedAfterFlush) {
  std::string name = UniqueName("reserve");
  std::string error;
  auto s = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(s) << error;
  struct stat st{};
  ASSERT_EQ(stat(ShmPath(name).c_str(), &st), 0);
  EXPECT_GE(uint64_t(st.st_blocks) * 512, uint64_t(st.st_size));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s->Set("k" + std::to_string(i), "value", 0));
  s->FlushAll();
  ASSERT_EQ(stat(ShmPath(name).c_str(), &st), 0);
  EXPECT_GE(uint64_t(st.st_blocks) * 512, uint64_t(st.st_size));  // no hole punched
  EXPECT_EQ(s->GetStats().keys, 0u);
  ASSERT_TRUE(s->Set("after", "flush", 0));
}

// One way of corrupting a header field, and the refusal it must cause.
struct Corruption {
  const char* what;
  size_t offset;
  uint64_t value;
  size_t width;
  AttachError expected;
};

constexpr size_t kAllocOffset = offsetof(Shard, alloc);

TEST(NamedArenaTest, CorruptHeadersAreRefused) {
  std::string name = UniqueName("corrupt");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(owner) << error;
  RawObject raw(name);
  const RawObject::Fields h = raw.Header();
  const std::vector<Corruption> cases = {
      {"magic", offsetof(ArenaHeader, magic), 0x4141414141414141ull, 8, AttachError::kCorrupt},
      {"version", offsetof(ArenaHeader, layout_version), 99, 4, AttachError::kIncompatible},
      {"shards 0", offsetof(ArenaHeader, shard_count), 0, 4, AttachError::kCorrupt},
      {"shards 3", offsetof(ArenaHeader, shard_count), 3, 4, AttachError::kCorrupt},
      {"shards 8192", offsetof(ArenaHeader, shard_count), 8192, 4, AttachError::kCorrupt},
      {"shards 2^31", offsetof(ArenaHeader, shard_count), 1u << 31, 4, AttachError::kCorrupt},
      {"mapping size", offsetof(ArenaHeader, mapping_size), h.mapping_size * 2, 8,
       AttachError::kCorrupt},
      {"region bytes", offsetof(ArenaHeader, region_bytes), h.region_bytes * 2, 8,
       AttachError::kCorrupt},
      {"region bytes odd", offsetof(ArenaHeader, region_bytes), h.region_bytes + 4, 8,
       AttachError::kCorrupt},
      {"region bytes huge", offsetof(ArenaHeader, region_bytes), ~0ull, 8, AttachError::kCorrupt},
      {"capacity", offsetof(ArenaHeader, capacity), h.capacity * 16, 8, AttachError::kCorrupt},
      {"buckets", offsetof(ArenaHeader, bucket_count), 1ull << 40, 8, AttachError::kCorrupt},
      {"shards offset", offsetof(ArenaHeader, shards_offset), 1ull << 40, 8,
       AttachError::kCorrupt},
      {"slots offset", offsetof(ArenaHeader, slots_offset), h.slots_offset + 64, 8,
       AttachError::kCorrupt},
      {"buckets offset", offsetof(ArenaHeader, buckets_offset), 8, 8, AttachError::kCorrupt},
      {"dense offset", offsetof(ArenaHeader, dense_offset), h.mapping_size, 8,
       AttachError::kCorrupt},
      {"ttl offset", offsetof(ArenaHeader, ttl_offset), ~0ull, 8, AttachError::kCorrupt},
      {"regions offset", offsetof(ArenaHeader, regions_offset), h.regions_offset - 4096, 8,
       AttachError::kCorrupt},
      {"memory limit", offsetof(ArenaHeader, memory_limit), 4096, 8, AttachError::kCorrupt},
      {"policy", offsetof(ArenaHeader, eviction_policy), 77, 4, AttachError::kCorrupt},
      {"not ready", offsetof(ArenaHeader, ready), 0, 4, AttachError::kCorrupt},
      {"shard end", h.shards_offset + kAllocOffset + offsetof(RegionAllocator::State, end),
       1u << 31, 4, AttachError::kCorrupt},
      {"shard top", h.shards_offset + kAllocOffset + offsetof(RegionAllocator::State, top),
       0xFFFFFFF0u, 4, AttachError::kCorrupt},
      {"shard bucket mask", h.shards_offset + sizeof(Shard) + offsetof(Shard, bucket_mask),
       ~0ull, 8, AttachError::kCorrupt},
      {"shard count", h.shards_offset + 3 * sizeof(Shard) + offsetof(Shard, count), 0xFFFFFFFFu,
       4, AttachError::kCorrupt},
      {"owner pid", offsetof(ArenaHeader, owner_pid), 0x7FFFFFF0u, 4, AttachError::kOwnerGone},
  };
  for (const Corruption& c : cases) {
    std::vector<char> saved = raw.Bytes(c.offset, c.width);
    std::vector<char> bad(c.width);
    std::memcpy(bad.data(), &c.value, c.width);
    raw.PutBytes(c.offset, bad);
    AttachError why = AttachError::kNone;
    std::string ended = InChild([&] {
      std::string e;
      AttachError w;
      auto s = Store::AttachNamed(name, &w, &e);
      return s ? 100 : 20 + static_cast<int>(w);  // clear of sanitizers' exit code 1
    });
    EXPECT_EQ(ended, "exit " + std::to_string(20 + static_cast<int>(c.expected))) << c.what;
    EXPECT_FALSE(Store::AttachNamed(name, &why, &error)) << c.what;
    EXPECT_FALSE(error.empty()) << c.what;
    raw.PutBytes(c.offset, saved);
  }
  AttachError why;
  EXPECT_TRUE(Store::AttachNamed(name, &why, &error)) << error;  // all restored
}

// Random bytes over the header and the shard array: an attach either refuses or gives a store on
// which every operation returns; never a signal, never a hang.
TEST(NamedArenaTest, FuzzedHeaderBytesNeverCrashAnAttacher) {
  std::string name = UniqueName("fuzz");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(), &error);
  ASSERT_TRUE(owner) << error;
  for (int i = 0; i < 200; ++i) owner->Set("k" + std::to_string(i), std::string(i * 7, 'x'), 0);
  RawObject raw(name);
  const size_t span = sizeof(ArenaHeader);
  std::mt19937_64 rng(12345);
  int refused = 0, attached = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<char> saved = raw.Bytes(0, span);
    std::vector<char> bad = saved;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % span] = static_cast<char>(rng());
    raw.PutBytes(0, bad);
    std::string ended = InChild([&] {
      std::string e;
      AttachError w;
      auto s = Store::AttachNamed(name, &w, &e);
      if (!s) return e.empty() ? 3 : 10;  // exit codes clear of sanitizers' 1
      std::string v;
      for (int k = 0; k < 50; ++k) {
        std::string key = "k" + std::to_string(k);
        s->Get(key, &v);
        s->Set(key, "fuzz", k % 3);
        s->Exists(key);
      }
      s->GetStats();
      s->ActiveExpireCycle();
      return 11;
    });
    EXPECT_TRUE(ended == "exit 10" || ended == "exit 11") << "round " << round << ": " << ended;
    refused += ended == "exit 10";
    attached += ended == "exit 11";
    raw.PutBytes(0, saved);
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(attached, 0);  // flips in harmless fields (seed, counters) still attach
}

// Garbage in the bucket arrays (entry offsets): reads stop at an offset outside the region.
TEST(NamedArenaTest, CorruptBucketOffsetsAreNotFollowed) {
  std::string name = UniqueName("buckets");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(1), &error);
  ASSERT_TRUE(owner) << error;
  for (int i = 0; i < 100; ++i) owner->Set("k" + std::to_string(i), "v", 0);
  RawObject raw(name);
  const RawObject::Fields h = raw.Header();
  std::mt19937 rng(7);
  for (uint64_t b = 0; b < h.bucket_count; ++b) {
    raw.Write<uint32_t>(h.buckets_offset + b * 4, 0x80000000u | static_cast<uint32_t>(rng()));
  }
  std::string ended = InChild([&] {
    AttachError w;
    std::string e;
    auto s = Store::AttachNamed(name, &w, &e);
    if (!s) return 10;
    std::string v;
    int found = 0;
    for (int i = 0; i < 100; ++i) found += s->Get("k" + std::to_string(i), &v);
    return found == 0 ? 0 : 14;
  });
  EXPECT_EQ(ended, "exit 0");
}

// The dead-owner rule (owner_lock.h): alive means a live thread of a process mapping the arena.
TEST(LockOwnerTest, OnlyThreadsOfProcessesMappingTheArenaCountAsAlive) {
  void* shared = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  LockDomain domain = LockDomainOf(shared, /*shared=*/true);
  ASSERT_EQ(domain.kind, LockDomain::Kind::kMapping);
  uint32_t self = static_cast<uint32_t>(syscall(SYS_gettid));
  EXPECT_TRUE(OwnerAlive(self, domain));

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t mapper = fork();  // inherits the mapping
  if (mapper == 0) {
    pause();
    _exit(0);
  }
  pid_t stranger = fork();  // a live process that does not map it
  if (stranger == 0) {
    execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the exec has happened (the child's maps no longer show the mapping).
  for (int i = 0; i < 1000; ++i) {
    char exe[64] = {};
    std::string link = "/proc/" + std::to_string(stranger) + "/exe";
    ssize_t n = readlink(link.c_str(), exe, sizeof(exe) - 1);
    if (n > 0 && std::string(exe).find("sleep") != std::string::npos) break;
    usleep(1000);
  }
  EXPECT_TRUE(OwnerAlive(static_cast<uint32_t>(mapper), domain));
  EXPECT_FALSE(OwnerAlive(static_cast<uint32_t>(stranger), domain));
  EXPECT_FALSE(OwnerAlive(1, domain));  // init: alive, but never ours
  EXPECT_FALSE(OwnerAlive(0, domain));

  LockDomain private_domain = LockDomainOf(shared, /*shared=*/false);
  EXPECT_TRUE(OwnerAlive(self, private_domain));
  EXPECT_FALSE(OwnerAlive(static_cast<uint32_t>(mapper), private_domain));

  kill(mapper, SIGKILL);
  kill(stranger, SIGKILL);
  int status;
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(mapper), &info, WEXITED | WNOWAIT);  // a zombie now
  EXPECT_FALSE(OwnerAlive(static_cast<uint32_t>(mapper), domain));
  waitpid(mapper, &status, 0);
  waitpid(stranger, &status, 0);
  EXPECT_FALSE(OwnerAlive(static_cast<uint32_t>(mapper), domain));
  close(ready[0]);
  close(ready[1]);
  munmap(shared, 1 << 20);
}

std::vector<std::string>* captured_events = nullptr;
void CaptureEvent(const std::string& message) { captured_events->push_back(message); }

// A lock word holding the id of a live thread that has nothing to do with the store (here: pid 1)
// is taken over, the shard discarded, logged and counted.
TEST(LockOwnerTest, ForeignLockOwnerIsTakenOverLoggedAndCounted) {
  std::string name = UniqueName("foreign-lock");
  std::string error;
  auto owner = Store::CreateNamed(name, Small(1), &error);
  ASSERT_TRUE(owner) << error;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(owner->Set("k" + std::to_string(i), "v", 0));
  RawObject raw(name);
  const RawObject::Fields h = raw.Header();
  raw.Write<uint32_t>(h.shards_offset + offsetof(Shard, lock_word), 1u);  // "held by pid 1"
  std::vector<std::string> events;
  captured_events = &events;
  SetEventLog(CaptureEvent);
  std::string ended = InChild([&] {
    AttachError w;
    std::string e;
    auto s = Store::AttachNamed(name, &w, &e);
    if (!s) return 10;
    // A locked operation (a get would read the shard without the lock, and the sequence is even):
    // it would wait forever if pid 1 counted as the owner.
    if (s->Exists("k0")) return 12;
    if (events.size() != 1) return 13;
    if (events[0].find("shard 0 of store " + name + " discarded") == std::string::npos) return 14;
    if (events[0].find("5 keys lost") == std::string::npos) return 15;
    return s->GetStats().discarded_shards == 1 ? 0 : 16;
  });
  SetEventLog(nullptr);
  captured_events = nullptr;
  EXPECT_EQ(ended, "exit 0");
  EXPECT_EQ(owner->GetStats().discarded_shards, 1u);
  EXPECT_TRUE(owner->Set("k0", "again", 0));
}

// A process killed while holding a shard lock: the next locker discards the shard, logs which
// shard and how many keys were lost, and ephpm_kv_stats()'s counter shows it.
TEST(LockOwnerTest, DeadHolderDiscardIsLoggedAndCounted) {
  Options o = Small(1);
  std::string error;
  auto s = Store::CreateShared(o, &error);
  ASSERT_TRUE(s) << error;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(s->Set("k" + std::to_string(i), "v", 0));
  std::vector<std::string> events;
  captured_events = &events;
  SetEventLog(CaptureEvent);
  std::string ended = InChild([&] {
    s->AbandonLockForTesting("k0");
    return 0;  // exits holding the lock
  });
  ASSERT_EQ(ended, "exit 0");
  EXPECT_FALSE(s->Exists("k3"));
  SetEventLog(nullptr);
  captured_events = nullptr;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("shard 0 of this process's store discarded"), std::string::npos)
      << events[0];
  EXPECT_NE(events[0].find("7 keys lost"), std::string::npos) << events[0];
  Stats st = s->GetStats();
  EXPECT_EQ(st.discarded_shards, 1u);
  EXPECT_EQ(st.keys, 0u);
}

}  // namespace
}  // namespace ephpm::kv
