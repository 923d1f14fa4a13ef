// Store micro-benchmarks with a baseline in the same binary, so results read as ratios:
//   BM_<op>/<value bytes>/threads:N          ephpm's store (private arena, 64 shards)
//   BM_Baseline<op>/<value bytes>/threads:N  one std::unordered_map behind one std::mutex
// GetHit: every thread reads the same 1,000 keys; GetHitDistinct: each thread its own 1,000 (the
// threads still share the shards).
// Run: build/runtime/bench/kv_bench --benchmark_min_time=0.3
#include <benchmark/benchmark.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/kv/store.h"

namespace {

using ephpm::kv::Store;

constexpr int kKeys = 1000;
constexpr int kMixedKeys = 1'000'000;

// Reports items/s (summed over threads) so 1- and 2-thread runs compare as throughput.
struct ItemsOnExit {
  benchmark::State& state;
  ~ItemsOnExit() { state.SetItemsProcessed(state.iterations()); }
};

std::string Key(int i) { return "bench:key:" + std::to_string(i); }

class Baseline {
 public:
  bool Get(const std::string& key, std::string* out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    *out = it->second;
    return true;
  }
  void Set(const std::string& key, std::string_view value) {
    std::lock_guard<std::mutex> lock(mu_);
    map_[key].assign(value);
  }
  int64_t Incr(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string& v = map_[key];
    int64_t n = v.empty() ? 1 : std::stoll(v) + 1;
    v = std::to_string(n);
    return n;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::string> map_;
};

Store* SharedStore() {
  static std::unique_ptr<Store> store = [] {
    ephpm::kv::Options o;
    o.memory_limit = 256ull << 20;  // the default [kv] memory_limit
    std::string error;
    return Store::CreatePrivate(o, &error);
  }();
  return store.get();
}

Baseline* SharedBaseline() {
  static Baseline b;
  return &b;
}

// The two maps every benchmark runs against, behind one interface: each benchmark below is
// written once, as a template over the map, and registered once per map.
struct OurStore {
  static bool Get(const std::string& key, std::string* out) { return SharedStore()->Get(key, out); }
  static void Set(const std::string& key, std::string_view value) {
    SharedStore()->Set(key, value, 0);
  }
  static int64_t Incr(const std::string& key) {
    int64_t r = 0;
    SharedStore()->IncrBy(key, 1, &r);
    return r;
  }
};

struct MapAndMutex {
  static bool Get(const std::string& key, std::string* out) {
    return SharedBaseline()->Get(key, out);
  }
  static void Set(const std::string& key, std::string_view value) {
    SharedBaseline()->Set(key, value);
  }
  static int64_t Incr(const std::string& key) { return SharedBaseline()->Incr(key); }
};

const std::vector<std::string>& Keys() {
  static std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (int i = 0; i < kMixedKeys; ++i) k.push_back(Key(i));
    return k;
  }();
  return keys;
}

template <class Map>
void Prefill(size_t value_size, int keys = kKeys) {
  std::string value(value_size, 'v');
  for (int i = 0; i < keys; ++i) Map::Set(Keys()[i], value);
}

template <class Map>
void BM_GetHit(benchmark::State& state) {
  ItemsOnExit items(state);
  if (state.thread_index() == 0) Prefill<Map>(state.range(0));
  std::string out;
  int i = state.thread_index() * 7;
  for (auto _ : state) {
    bool hit = Map::Get(Keys()[i++ % kKeys], &out);
    benchmark::DoNotOptimize(hit);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

constexpr int kMaxThreads = 2;

template <class Map>
void BM_GetHitDistinct(benchmark::State& state) {
  ItemsOnExit items(state);
  if (state.thread_index() == 0) Prefill<Map>(state.range(0), kKeys * kMaxThreads);
  std::string out;
  const int base = state.thread_index() * kKeys;
  int i = 0;
  for (auto _ : state) {
    bool hit = Map::Get(Keys()[base + i++ % kKeys], &out);
    benchmark::DoNotOptimize(hit);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

template <class Map>
void BM_GetMiss(benchmark::State& state) {
  ItemsOnExit items(state);
  std::string out;
  std::string key = "missing:" + std::to_string(state.thread_index());
  for (auto _ : state) benchmark::DoNotOptimize(Map::Get(key, &out));
}

template <class Map>
void BM_Set(benchmark::State& state) {
  ItemsOnExit items(state);
  std::string value(state.range(0), 'w');
  int i = state.thread_index() * 7;
  for (auto _ : state) Map::Set(Keys()[i++ % kKeys], value);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

template <class Map>
void BM_Incr(benchmark::State& state) {
  ItemsOnExit items(state);
  std::string key = "ctr:" + std::to_string(state.thread_index());
  for (auto _ : state) benchmark::DoNotOptimize(Map::Incr(key));
}

// 90 % get / 10 % set over 1M keys of 64 bytes.
template <class Map>
void BM_Mixed90_10(benchmark::State& state) {
  ItemsOnExit items(state);
  static bool filled = [] {  // once per map (one static per instantiation)
    Prefill<Map>(64, kMixedKeys);
    return true;
  }();
  benchmark::DoNotOptimize(filled);
  std::string value(64, 'n'), out;
  uint64_t x = 88172645463325252ull + state.thread_index();
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const std::string& key = Keys()[x % kMixedKeys];
    if (x % 10 == 0) Map::Set(key, value);
    else benchmark::DoNotOptimize(Map::Get(key, &out));
  }
}

// Registers `op` as BM_<op> (our store) and BM_Baseline<op> (map + mutex), the names
// bench/all/report.py pairs up, and applies the same arguments to both.
template <class Configure>
void RegisterPair(const std::string& op, void (*ours)(benchmark::State&),
                  void (*baseline)(benchmark::State&), Configure configure) {
  configure(benchmark::RegisterBenchmark(("BM_" + op).c_str(), ours)->UseRealTime());
  configure(benchmark::RegisterBenchmark(("BM_Baseline" + op).c_str(), baseline)->UseRealTime());
}

#define EPHPM_REGISTER_PAIR(op, configure) \
  RegisterPair(#op, BM_##op<OurStore>, BM_##op<MapAndMutex>, configure)

[[maybe_unused]] const bool registered = [] {
  auto sizes_and_threads = [](benchmark::internal::Benchmark* b) {
    b->Arg(64)->Arg(4096)->Arg(65536)->Threads(1)->Threads(2);
  };
  auto threads = [](benchmark::internal::Benchmark* b) { b->Threads(1)->Threads(2); };
  EPHPM_REGISTER_PAIR(GetHit, sizes_and_threads);
  EPHPM_REGISTER_PAIR(GetHitDistinct, [](benchmark::internal::Benchmark* b) {
    b->Arg(64)->Threads(1)->Threads(kMaxThreads);
  });
  EPHPM_REGISTER_PAIR(GetMiss, threads);
  EPHPM_REGISTER_PAIR(Set, sizes_and_threads);
  EPHPM_REGISTER_PAIR(Incr, threads);
  EPHPM_REGISTER_PAIR(Mixed90_10, threads);
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
