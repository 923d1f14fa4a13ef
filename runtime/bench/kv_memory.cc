// Bytes per entry: loads N entries (16-byte keys, 32-byte values) into a store with the default
// limit and prints what they cost, as `used_memory` (entry blocks) and as resident memory (entry
// blocks plus the touched part of the index), both divided by N.
// Usage: kv_memory [N]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "runtime/kv/store.h"

namespace {

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  ephpm::kv::Options options;  // defaults: 256 MB, allkeys-lru, 64 shards
  std::string error;
  auto store = ephpm::kv::Store::CreatePrivate(options, &error);
  if (!store) {
    std::fprintf(stderr, "kv_memory: %s\n", error.c_str());
    return 1;
  }
  uint64_t before = ResidentBytes();
  char key[32], value[48];  // the texts are exactly 16 and 32 bytes for i < 10^12
  for (uint64_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof(key), "key:%012llu", static_cast<unsigned long long>(i));
    std::snprintf(value, sizeof(value), "value:%026llu", static_cast<unsigned long long>(i));
    if (!store->Set({key, 16}, {value, 32}, 0)) {
      std::fprintf(stderr, "kv_memory: write %llu refused\n", static_cast<unsigned long long>(i));
      return 1;
    }
  }
  uint64_t after = ResidentBytes();
  ephpm::kv::Stats st = store->GetStats();
  std::printf("entries %llu\nused_memory_per_entry %.1f\nresident_per_entry %.1f\n",
              static_cast<unsigned long long>(st.keys), double(st.used_memory) / n,
              double(after - before) / n);
  return st.keys == n ? 0 : 1;
}
